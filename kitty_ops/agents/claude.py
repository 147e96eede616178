"""Claude Code: `.claude/settings.json` (project, committed),
`.claude/settings.local.json` (local), `~/.claude/settings.json` (user).

Events: SessionStart (`source`: startup, resume, clear, compact),
UserPromptSubmit (`prompt`), Stop, SubagentStop, SessionEnd (`reason`:
clear, logout, prompt_input_exit, other, ...); every payload has
`session_id`, `cwd` and `hook_event_name`. A SessionEnd hook gets 1.5 s
unless it declares a `timeout` (seconds): kitty-ops' declares 30.
"""
from __future__ import annotations

from kitty_ops.agents import grouped
from kitty_ops.agents.spec import AgentSpec, Event, hook_command, text

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NAME = "claude-code"
KINDS = {"SessionStart": "start", "UserPromptSubmit": "prompt", "Stop": "stop",
         "SubagentStop": "subagent_stop", "SessionEnd": "end"}
TIMEOUTS = {"SessionStart": 10, "UserPromptSubmit": 10, "Stop": 10, "SessionEnd": 30}  # seconds
ABNORMAL = frozenset({"error", "crash", "aborted"})


def wanted(name: str, per: str, timeouts: dict[str, int]) -> dict[str, dict[str, Any]]:
    """The groups kitty-ops installs: one per event of `timeouts`, Stop only per turn."""
    return {event: grouped.group(hook_command(name, per), timeout)
            for event, timeout in timeouts.items() if per == "turn" or KINDS.get(event) != "stop"}


def read_event(payload: dict[str, Any], kinds: dict[str, str] = KINDS) -> Event:
    """A payload of Claude Code, or of an agent with the same fields (Codex, Gemini)."""
    name = text(payload.get("hook_event_name")) or ""
    source = text(payload.get("source")) or text(payload.get("trigger"))
    reason = text(payload.get("reason")) or ""
    return Event(name, kinds.get(name, "other"), text(payload.get("session_id")),
                 source=source, prompt=text(payload.get("prompt")), cwd=text(payload.get("cwd")),
                 abnormal=reason in ABNORMAL, model=text(payload.get("model")))


AGENT = AgentSpec(
    NAME,
    {"project": ".claude/settings.json", "local": ".claude/settings.local.json", "user": ".claude/settings.json"},
    install=lambda doc, per="session": grouped.install(doc, wanted(NAME, per, TIMEOUTS)),
    uninstall=grouped.uninstall,
    installed=grouped.installed,
    event=read_event,
)
