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
    from typing import Any


def _groups(doc: dict[str, Any]) -> dict[str, Any]:
    hooks = doc.get("hooks", {})
    if not isinstance(hooks, dict):
        raise ConfigError("`hooks` is not an object; left untouched")
    return hooks


def _is_our_group(group: object) -> bool:
    handlers = group.get("hooks") if isinstance(group, dict) else None
    return isinstance(handlers, list) and bool(handlers) and all(
        isinstance(handler, dict) and is_ours(handler.get("command")) for handler in handlers)


def uninstall(doc: dict[str, Any]) -> dict[str, Any]:
    """`doc` without kitty-ops' groups, and without an event list or a `hooks`
    object that held nothing else."""
    doc = copy.deepcopy(doc)
    hooks = _groups(doc)
    for event in list(hooks):
        groups = hooks[event]
        if not isinstance(groups, list):
            continue
        kept = [group for group in groups if not _is_our_group(group)]
        if len(kept) != len(groups):
            if kept:
                hooks[event] = kept
            else:
                del hooks[event]
    if "hooks" in doc and not hooks:
        del doc["hooks"]
    return doc


def installed(doc: dict[str, Any]) -> bool:
    return any(isinstance(groups, list) and any(_is_our_group(group) for group in groups)
               for groups in _groups(doc).values())


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
            for event, groups in _groups(doc).items() if isinstance(groups, list)}


def group(command: str, timeout: int | None = None, matcher: str | None = None,
          **extra: object) -> dict[str, Any]:
    """One group holding one command hook."""
    handler: dict[str, Any] = {"type": "command", "command": command, **extra}
    if timeout is not None:
        handler["timeout"] = timeout
    return {**({"matcher": matcher} if matcher is not None else {}), "hooks": [handler]}
