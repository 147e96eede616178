"""The mission timeline, `kitty-ops/lifecycle.jsonl`: one line per phase of an Op.

Only Ops that carry a `mission_id` write here. The file is append-only and
git-tracked; Op commits carry it along where it changed.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from kitty_ops.layout import LIFECYCLE_LOG_RELATIVE_PATH

__all__ = ["LIFECYCLE_LOG_RELATIVE_PATH", "append_phase", "phase_for_outcome"]

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def phase_for_outcome(outcome: str) -> str:
    return "completed" if outcome == "done" else "failed"


def append_phase(
    repo_root: Path | str,
    started: dict,
    phase: str,
    at: str,
    reason: str | None = None,
) -> bool:
    """Append one phase line for the Op whose started event is `started`.

    Returns False (and writes nothing) when the Op carries no mission_id.
    """
    mission_id = started.get("mission_id")
    if not mission_id:
        return False
    line = {
        "agent": started.get("actor") or "unknown",
        "at": at,
        "canonical_action_id": f"{started.get('profile_id')}::{started.get('action')}",
        "invocation_id": started.get("invocation_id"),
        "mission_id": mission_id,
        "phase": phase,
        "reason": reason,
        "wp_id": started.get("wp_id"),
    }
    path = Path(repo_root) / LIFECYCLE_LOG_RELATIVE_PATH
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | _NOFOLLOW, 0o644)
    try:
        os.write(fd, json.dumps(line).encode() + b"\n")
    finally:
        os.close(fd)
    return True
