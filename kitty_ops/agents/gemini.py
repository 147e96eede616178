"""Gemini CLI: `.gemini/settings.json` (project), `~/.gemini/settings.json` (user).

Events: SessionStart (`source`: startup, resume, clear), BeforeAgent (after
a prompt, `prompt`), AfterAgent (the turn's end), SessionEnd (`reason`:
exit, clear, logout, ...; not awaited by the CLI); payloads have
`session_id`, `cwd`, `hook_event_name`. Timeouts are in milliseconds.
"""
from __future__ import annotations

from functools import partial

from kitty_ops.agents import claude, grouped
from kitty_ops.agents.spec import AgentSpec, hook_command

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NAME = "gemini"
KINDS = {"SessionStart": "start", "BeforeAgent": "prompt", "AfterAgent": "stop", "SessionEnd": "end"}
TIMEOUTS = {"SessionStart": 10000, "BeforeAgent": 10000, "AfterAgent": 10000, "SessionEnd": 30000}  # ms


def wanted(per: str) -> dict[str, dict[str, Any]]:
    return {event: grouped.group(hook_command(NAME, per), timeout, name="kitty-ops")
            for event, timeout in TIMEOUTS.items() if per == "turn" or KINDS[event] != "stop"}


AGENT = AgentSpec(
    NAME,
    {"project": ".gemini/settings.json", "user": ".gemini/settings.json"},
    install=lambda doc, per="session": grouped.install(doc, wanted(per)),
    uninstall=grouped.uninstall,
    installed=grouped.installed,
    event=partial(claude.read_event, kinds=KINDS),
)
