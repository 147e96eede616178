"""Cursor: `.cursor/hooks.json` (project), `~/.cursor/hooks.json` (user):

    {"version": 1, "hooks": {"sessionStart": [{"command": "...", "timeout": 30}], ...}}

Events: sessionStart, beforeSubmitPrompt (`prompt`), stop (`status`),
sessionEnd (`reason`: completed, aborted, error, window_close, user_close);
payloads name the session `conversation_id` (or `session_id`) and the
project `workspace_roots`. Timeouts in seconds.
"""
from __future__ import annotations

from kitty_ops.agents import grouped
from kitty_ops.agents.grouped import hooks_object
from kitty_ops.agents.jsonconfig import ConfigError
from kitty_ops.agents.spec import AgentSpec, Event, hook_command, is_ours, text

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NAME, ABNORMAL = "cursor", frozenset({"aborted", "error"})
# Cursor's event: (what it is to kitty-ops, the timeout of the hook installed for it in seconds: None, none)
EVENTS = {"sessionStart": ("start", 10), "beforeSubmitPrompt": ("prompt", 10), "stop": ("stop", 10),
          "subagentStop": ("subagent_stop", None), "sessionEnd": ("end", 30)}


def _ours(entry: object) -> bool:
    return isinstance(entry, dict) and is_ours(entry.get("command"))


def uninstall(doc: dict[str, Any]) -> dict[str, Any]:
    """`doc` without kitty-ops' entries; a file left with nothing but
    `"version": 1` (which install writes when absent) is left empty."""
    doc = grouped.without(doc, _ours)
    return {} if doc == {"version": 1} else doc


def installed(doc: dict[str, Any]) -> bool:
    return grouped.holds(doc, _ours)


def install(doc: dict[str, Any], per: str = "session") -> dict[str, Any]:
    result = uninstall(doc)
    result.setdefault("version", 1)
    hooks = result.setdefault("hooks", {})
    if not isinstance(hooks, dict):
        raise ConfigError("`hooks` is not an object; left untouched")
    for event, (kind, timeout) in EVENTS.items():
        if timeout is not None and (per == "turn" or kind != "stop"):
            entries = hooks.setdefault(event, [])
            if not isinstance(entries, list):
                raise ConfigError(f"`hooks.{event}` is not a list; left untouched")
            entries.append({"command": hook_command(NAME, per), "timeout": timeout})
    return doc if _mine(result) == _mine(doc) and result.get("version") == doc.get("version") else result


def _mine(doc: dict[str, Any]) -> dict[str, list[Any]]:
    return {event: [entry for entry in entries if _ours(entry)]
            for event, entries in hooks_object(doc).items() if isinstance(entries, list)}


def read_event(payload: dict[str, Any]) -> Event:
    name = text(payload.get("hook_event_name")) or ""
    roots = payload.get("workspace_roots")
    cwd = text(roots[0]) if isinstance(roots, list) and roots else text(payload.get("cwd"))
    reason = text(payload.get("reason")) or text(payload.get("status")) or ""
    session_id = text(payload.get("conversation_id")) or text(payload.get("session_id"))
    return Event(name, EVENTS.get(name, ("other", None))[0], session_id,
                 source=text(payload.get("source")), prompt=text(payload.get("prompt")), cwd=cwd,
                 abnormal=reason in ABNORMAL, model=text(payload.get("model")))


AGENT = AgentSpec(NAME, {"project": ".cursor/hooks.json", "user": ".cursor/hooks.json"},
                  install=install, uninstall=uninstall, installed=installed, event=read_event)
