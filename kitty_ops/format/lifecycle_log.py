"""The mission timeline, `kitty-ops/lifecycle.jsonl`: one line per phase of an Op.

Only Ops that carry a `mission_id` have lines here. The lines of an Op are
made from its record by its Op commit (`kitty_ops.opcommit.commit`), onto HEAD's
version of the file, and written into the working file at the same moment:
the file is only ever appended to and never dirty, so that pre-commit's
stash of unstaged changes can never lose a line.
"""
from __future__ import annotations

from kitty_ops.format import jsontext
from kitty_ops.format.layout import LIFECYCLE_LOG_RELATIVE_PATH
from kitty_ops.format.secrets import redact_event

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["LIFECYCLE_LOG_RELATIVE_PATH", "phase_line", "lines_for", "phase_for_outcome"]


def phase_for_outcome(outcome: str | None) -> str:
    return "completed" if outcome == "done" else "failed"


def phase_line(started: dict[str, Any], phase: str, at: str, reason: str | None = None) -> dict[str, Any]:
    """The lifecycle line of one phase of the Op whose started event is `started`."""
    return {
        "agent": started.get("actor") or "unknown",
        "at": at,
        "canonical_action_id": f"{started.get('profile_id')}::{started.get('action')}",
        "invocation_id": started.get("invocation_id"),
        "mission_id": started.get("mission_id"),
        "phase": phase,
        "reason": reason,
        "wp_id": started.get("wp_id"),
    }


def lines_for(started: dict[str, Any], completed: dict[str, Any]) -> bytes:
    """The `started` and completion lines of a completed Op; empty without a mission_id.

    The started line keeps the Op's start time.
    """
    if not started.get("mission_id"):
        return b""
    outcome = completed.get("outcome")
    lines = [
        phase_line(started, "started", started.get("started_at", "")),
        phase_line(started, phase_for_outcome(outcome), completed.get("completed_at", ""),
                   None if outcome == "done" else outcome),
    ]
    # Made from the record, whose lines were redacted when written; scanned again
    # for records kitty-ops did not write (`kitty_ops.format.secrets`).
    return b"".join(jsontext.dumps(redact_event(line)[0]).encode() + b"\n" for line in lines)
