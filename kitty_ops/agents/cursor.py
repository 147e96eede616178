"""Cursor: `.cursor/hooks.json` (project), `~/.cursor/hooks.json` (user):

    {"version": 1, "hooks": {"sessionStart": [{"command": "...", "timeout": 30}], ...}}

Events: sessionStart, beforeSubmitPrompt (`prompt`), stop (`status`),
sessionEnd (`reason`: completed, aborted, error, window_close, user_close);
payloads name the session `conversation_id` (or `session_id`) and the
project `workspace_roots`. Timeouts in seconds.
"""
from __future__ import annotations

import copy

from kitty_ops.agents.jsonconfig import ConfigError
from kitty_ops.agents.spec import AgentSpec, Event, hook_command, is_ours, text

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NAME = "cursor"
KINDS = {"sessionStart": "start", "beforeSubmitPrompt": "prompt", "stop": "stop",
         "subagentStop": "subagent_stop", "sessionEnd": "end"}
TIMEOUTS = {"sessionStart": 10, "beforeSubmitPrompt": 10, "stop": 10, "sessionEnd": 30}  # seconds
ABNORMAL = frozenset({"aborted", "error"})


def _hooks(doc: dict[str, Any]) -> dict[str, Any]:
    hooks = doc.get("hooks", {})
    if not isinstance(hooks, dict):
        raise ConfigError("`hooks` is not an object; left untouched")
    return hooks


def _ours(entry: object) -> bool:
    return isinstance(entry, dict) and is_ours(entry.get("command"))


def uninstall(doc: dict[str, Any]) -> dict[str, Any]:
    """`doc` without kitty-ops' entries; a file left with nothing but
    `"version": 1` (which install writes when absent) is left empty."""
    doc = copy.deepcopy(doc)
    hooks = _hooks(doc)
    for event in list(hooks):
        entries = hooks[event]
        if isinstance(entries, list) and any(_ours(entry) for entry in entries):
            kept = [entry for entry in entries if not _ours(entry)]
            if kept:
                hooks[event] = kept
            else:
                del hooks[event]
    if "hooks" in doc and not hooks:
        del doc["hooks"]
    return {} if doc == {"version": 1} else doc


def installed(doc: dict[str, Any]) -> bool:
    return any(isinstance(entries, list) and any(_ours(entry) for entry in entries) for entries in _hooks(doc).values())


def install(doc: dict[str, Any], per: str = "session") -> dict[str, Any]:
    result = uninstall(doc)
    result.setdefault("version", 1)
    hooks = result.setdefault("hooks", {})
    if not isinstance(hooks, dict):
        raise ConfigError("`hooks` is not an object; left untouched")
    for event, timeout in TIMEOUTS.items():
        if per == "turn" or KINDS[event] != "stop":
            entries = hooks.setdefault(event, [])
            if not isinstance(entries, list):
                raise ConfigError(f"`hooks.{event}` is not a list; left untouched")
            entries.append({"command": hook_command(NAME, per), "timeout": timeout})
    return doc if _mine(result) == _mine(doc) and result.get("version") == doc.get("version") else result


def _mine(doc: dict[str, Any]) -> dict[str, list[Any]]:
    return {event: [entry for entry in entries if _ours(entry)]
            for event, entries in _hooks(doc).items() if isinstance(entries, list)}


def read_event(payload: dict[str, Any]) -> Event:
    name = text(payload.get("hook_event_name")) or ""
    roots = payload.get("workspace_roots")
    cwd = text(roots[0]) if isinstance(roots, list) and roots else text(payload.get("cwd"))
    reason = text(payload.get("reason")) or text(payload.get("status")) or ""
    session_id = text(payload.get("conversation_id")) or text(payload.get("session_id"))
    return Event(name, KINDS.get(name, "other"), session_id,
                 source=text(payload.get("source")), prompt=text(payload.get("prompt")), cwd=cwd,
                 abnormal=reason in ABNORMAL, model=text(payload.get("model")))


AGENT = AgentSpec(NAME, {"project": ".cursor/hooks.json", "user": ".cursor/hooks.json"},
                  install=install, uninstall=uninstall, installed=installed, event=read_event)
