"""The hooks format of Claude Code, Codex CLI and Gemini CLI:

    {"hooks": {"<Event>": [{"matcher": "...", "hooks": [{"type": "command", "command": "...", "timeout": 30}]}]}}

kitty-ops adds one group of its own per event (never a hook inside someone
else's group), so that taking it out leaves the file as it was.
"""
from __future__ import annotations

import copy

from kitty_ops.agents.jsonconfig import ConfigError
from kitty_ops.agents.spec import is_ours

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


def hooks_object(doc: dict[str, Any]) -> dict[str, Any]:
    """The config's `hooks` object (ConfigError when it is not one)."""
    hooks = doc.get("hooks", {})
    if not isinstance(hooks, dict):
        raise ConfigError("`hooks` is not an object; left untouched")
    return hooks


def _is_our_group(group: object) -> bool:
    handlers = group.get("hooks") if isinstance(group, dict) else None
    return isinstance(handlers, list) and bool(handlers) and all(
        isinstance(handler, dict) and is_ours(handler.get("command")) for handler in handlers)


def without(doc: dict[str, Any], ours: Callable[[object], bool]) -> dict[str, Any]:
    """A copy of `doc` without the entries `ours` says are kitty-ops', and without
    an event list or a `hooks` object that held nothing else."""
    doc = copy.deepcopy(doc)
    hooks = hooks_object(doc)
    for event in list(hooks):
        entries = hooks[event]
        if not isinstance(entries, list):
            continue
        kept = [entry for entry in entries if not ours(entry)]
        if len(kept) != len(entries):
            if kept:
                hooks[event] = kept
            else:
                del hooks[event]
    if "hooks" in doc and not hooks:
        del doc["hooks"]
    return doc


def holds(doc: dict[str, Any], ours: Callable[[object], bool]) -> bool:
    """Whether any event of `doc` has an entry `ours` says is kitty-ops'."""
    return any(isinstance(entries, list) and any(ours(entry) for entry in entries)
               for entries in hooks_object(doc).values())


def uninstall(doc: dict[str, Any]) -> dict[str, Any]:
    """`doc` without kitty-ops' groups."""
    return without(doc, _is_our_group)


def installed(doc: dict[str, Any]) -> bool:
    return holds(doc, _is_our_group)


def install(doc: dict[str, Any], wanted: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """`doc` with one group of kitty-ops' per event of `wanted` (event -> the
    group), replacing any it had: the same document when they are already there."""
    result = uninstall(doc)
    hooks = result.setdefault("hooks", {})
    for event, group in wanted.items():
        groups = hooks.setdefault(event, [])
        if not isinstance(groups, list):
            raise ConfigError(f"`hooks.{event}` is not a list; left untouched")
        groups.append(group)
    if _ours(result) == _ours(doc):
        return doc  # already installed as wanted: not even the order changes
    return result


def _ours(doc: dict[str, Any]) -> dict[str, list[Any]]:
    return {event: [group for group in groups if _is_our_group(group)]
            for event, groups in hooks_object(doc).items() if isinstance(groups, list)}


def group(command: str, timeout: int | None = None, matcher: str | None = None,
          **extra: object) -> dict[str, Any]:
    """One group holding one command hook."""
    handler: dict[str, Any] = {"type": "command", "command": command, **extra}
    if timeout is not None:
        handler["timeout"] = timeout
    return {**({"matcher": matcher} if matcher is not None else {}), "hooks": [handler]}
