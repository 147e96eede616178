"""What an agent module declares, and the registry of agents.

An agent is known by its name on the command line (`claude-code`, `codex`,
`gemini`, `cursor`, `aider`); its module, loaded only when used, holds an
`AGENT` (an `AgentSpec`).
"""
from __future__ import annotations

import importlib
import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

MODULES = {
    "claude-code": "kitty_ops.agents.claude",
    "codex": "kitty_ops.agents.codex",
    "gemini": "kitty_ops.agents.gemini",
    "cursor": "kitty_ops.agents.cursor",
    "aider": "kitty_ops.agents.aider",
}
NAMES = tuple(MODULES)
SCOPES = ("project", "local", "user")
HOOK_COMMAND = "kitty-ops agents hook"  # every command kitty-ops installs starts so: how uninstall finds them


class Event:
    """One hook call, as every agent's payload says it.

    `kind`: `start`, `prompt`, `stop`, `subagent_stop`, `end` or `other`;
    `source`: how a session started (`startup`, `resume`, `clear`, `compact`);
    `abnormal`: the agent reports that the session ended abnormally."""

    __slots__ = ("name", "kind", "session_id", "source", "prompt", "cwd", "abnormal", "model")

    def __init__(self, name: str, kind: str, session_id: str | None, *, source: str | None = None,
                 prompt: str | None = None, cwd: str | None = None, abnormal: bool = False,
                 model: str | None = None) -> None:
        self.name, self.kind, self.session_id, self.source = name, kind, session_id, source
        self.prompt, self.cwd, self.abnormal, self.model = prompt, cwd, abnormal, model


class AgentSpec:
    """An agent: where its configuration lives, how kitty-ops' hooks go into it
    and come out, and how its hook payloads read.

    `paths`: scope -> the configuration file, relative to the repository's top
    (`project`, `local`) or to the home directory (`user`); `install(doc,
    command_of)` returns the document with kitty-ops' hooks merged in,
    `uninstall(doc)` the document without them, `installed(doc)` whether they
    are there; `event(payload)` reads a hook call."""

    def __init__(self, name: str, paths: dict[str, str], *, install: Callable[..., Any],
                 uninstall: Callable[[Any], Any], installed: Callable[[Any], bool],
                 event: Callable[[dict[str, Any]], Event] | None = None, fmt: str = "json",
                 note: str = "") -> None:
        self.name, self.paths, self.fmt, self.note = name, paths, fmt, note
        self.install, self.uninstall, self.installed, self.event = install, uninstall, installed, event

    def config_path(self, scope: str, top: str) -> str:
        """The configuration file of `scope`; ValueError for a scope the agent lacks."""
        if scope not in self.paths:
            raise ValueError(f"{self.name} has no {scope} configuration (it has: {', '.join(self.paths)})")
        base = os.path.expanduser("~") if scope == "user" else top
        return os.path.join(base, self.paths[scope])


def agent(name: str) -> AgentSpec:
    """The agent called `name`; ValueError for one kitty-ops does not know."""
    if name not in MODULES:
        raise ValueError(f"unknown agent {name!r} (known: {', '.join(NAMES)})")
    spec: AgentSpec = importlib.import_module(MODULES[name]).AGENT
    return spec


def hook_command(name: str, per: str = "session") -> str:
    """The command an installed hook runs."""
    return f"{HOOK_COMMAND} {name}" + (" --per turn" if per == "turn" else "")


def is_ours(command: object) -> bool:
    return isinstance(command, str) and (command == HOOK_COMMAND or command.startswith(HOOK_COMMAND + " "))


def text(value: object) -> str | None:
    """A payload's string field, None when absent or not a string."""
    return value if isinstance(value, str) and value else None
