"""What the agents' hooks keep between calls, local to the clone and never
committed: in `<git-common-dir>/kitty-ops/agents/`,

- `<agent>.last`: when a hook of that agent last fired, and which event;
- `sessions/<agent>-<session>.json`: the Op open for that agent session
  (`op_id`, `session_id`, `owner_pid`), removed when it completes.

Standard library only: the hook runs on every prompt.
"""
from __future__ import annotations

import os

from kitty_ops.format import jsontext
from kitty_ops.system import files
from kitty_ops.system.clock import datetime, timezone

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

SUBDIR = "kitty-ops/agents"  # under the git common directory
_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def state_dir(common_dir: str) -> str:
    return os.path.join(common_dir, SUBDIR)


def stamp(directory: str, agent: str, event: str) -> None:
    """Note that a hook of `agent` fired now (best effort)."""
    os.makedirs(directory, exist_ok=True)
    line = f"{datetime.now(timezone.utc).isoformat(timespec='seconds')} {event or '?'}\n"
    files.write_quietly(os.path.join(directory, f"{agent}.last"), line.encode())


def last_fired(directory: str, agent: str) -> tuple[str, str] | None:
    """(when, which event) a hook of `agent` last fired here, None if never."""
    try:
        with open(os.path.join(directory, f"{agent}.last"), encoding="utf-8", errors="replace") as handle:
            when, _, event = handle.read(200).strip().partition(" ")
    except OSError:
        return None
    return (when, event) if when else None


def _key(session_id: str) -> str:
    if session_id and len(session_id) <= 100 and _SAFE.issuperset(session_id) and not session_id.startswith("."):
        return session_id
    import hashlib

    return "h" + hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _path(directory: str, agent: str, session_id: str) -> str:
    return os.path.join(directory, "sessions", f"{agent}-{_key(session_id)}.json")


def read(directory: str, agent: str, session_id: str) -> dict[str, Any] | None:
    try:
        with open(_path(directory, agent, session_id), "rb") as handle:
            entry = jsontext.loads(handle.read(65536))
    except (OSError, ValueError):
        return None
    return entry if isinstance(entry, dict) and isinstance(entry.get("op_id"), str) else None


def write(directory: str, agent: str, session_id: str, op_id: str, owner_pid: int) -> None:
    path = _path(directory, agent, session_id)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    entry = {"op_id": op_id, "session_id": session_id, "owner_pid": owner_pid}
    files.write_atomically(path, jsontext.dumps(entry, sort_keys=True).encode() + b"\n", 0o600)


def forget(directory: str, agent: str, session_id: str) -> None:
    try:
        os.unlink(_path(directory, agent, session_id))
    except OSError:
        pass


def entries(directory: str, agent: str) -> Iterator[dict[str, Any]]:
    """Every session of `agent` with an Op noted here."""
    folder = os.path.join(directory, "sessions")
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return
    for name in names:
        if name.startswith(agent + "-") and name.endswith(".json"):
            try:
                with open(os.path.join(folder, name), "rb") as handle:
                    entry = jsontext.loads(handle.read(65536))
            except (OSError, ValueError):
                continue
            if isinstance(entry, dict) and isinstance(entry.get("session_id"), str):
                yield entry
