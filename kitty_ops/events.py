"""Building the event lines kitty-ops writes, with the standard library only.

The pydantic models in `kitty_ops.record` are the schema; this module writes
lines that match it exactly (tests hold the two to each other) so that
starting and completing an Op does not pay for importing pydantic. The checks
that guard what goes into a path or a commit message live here, and the
models use the same functions.
"""
from __future__ import annotations

import json

from kitty_ops.errors import InvalidInput
from kitty_ops.scan import OUTCOMES
from kitty_ops.ulid import require_ulid

MAX_TOKEN_LENGTH = 64
CLOSED_BY = ("agent", "doctor_sweep")
_TOKEN_FORBIDDEN = "()[]"
# The optional fields of the started event, in the order the model declares them.
STARTED_OPTIONAL: dict[str, tuple[type, ...]] = {
    "request_text": (str,),
    "actor": (str,),
    "mode_of_work": (str,),
    "governance_context_hash": (str,),
    "governance_context_available": (bool,),
    "router_confidence": (str, float),
    "model_id": (str,),
    "mission_id": (str,),
    "wp_id": (str,),
}


def check_token(value: str) -> str:
    """Refuse what cannot go safely into `op(<profile_id>): <action> [<id>]`."""
    if not value:
        raise ValueError("must not be empty")
    if len(value) > MAX_TOKEN_LENGTH:
        raise ValueError(f"must be at most {MAX_TOKEN_LENGTH} characters")
    if value.startswith("-"):
        raise ValueError("must not start with '-'")
    if not value.isprintable() or any(char.isspace() for char in value):
        raise ValueError("must be one word: no spaces, newlines or control characters")
    if any(char in _TOKEN_FORBIDDEN for char in value):
        raise ValueError(f"must not contain any of {_TOKEN_FORBIDDEN}")
    return value


def _checked(field: str, check, value):
    try:
        return check(value)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"{field}: {exc}") from None


def _string(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("must be a string")
    return value


def _one_of(choices: tuple[str, ...]):
    def check(value: object) -> object:
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return value

    return check


def started_event(op_id: str, profile_id: str, action: str, started_at: str, **optional: object) -> dict:
    """The `started` event; optional fields that are None are left out."""
    unknown = set(optional) - set(STARTED_OPTIONAL)
    if unknown:
        raise TypeError(f"unknown started field(s): {', '.join(sorted(unknown))}")
    event: dict = {
        "event": "started",
        "invocation_id": _checked("invocation_id", require_ulid, op_id),
        "profile_id": _checked("profile_id", lambda v: check_token(_string(v)), profile_id),
        "action": _checked("action", lambda v: check_token(_string(v)), action),
        "started_at": started_at,
    }
    for name, types in STARTED_OPTIONAL.items():
        value = optional.get(name)
        if value is None:
            continue
        if isinstance(value, bool) and bool not in types:
            value = None  # a bool is an int to Python, never a confidence or a text
        elif isinstance(value, int) and float in types:
            value = float(value)
        if not isinstance(value, types):
            raise InvalidInput(f"{name}: must be {' or '.join(t.__name__ for t in types)}")
        event[name] = value
    return event


def completed_event(
    op_id: str, completed_at: str, outcome: str, closed_by: str, evidence_ref: str | None = None
) -> dict:
    event = {
        "event": "completed",
        "invocation_id": _checked("invocation_id", require_ulid, op_id),
        "completed_at": completed_at,
        "outcome": _checked("outcome", _one_of(OUTCOMES), outcome),
        "closed_by": _checked("closed_by", _one_of(CLOSED_BY), closed_by),
    }
    if evidence_ref is not None:
        event["evidence_ref"] = _checked("evidence_ref", _string, evidence_ref)
    return event


def artifact_link(op_id: str, at: str, ref: str, kind: str = "artifact") -> dict:
    return {
        "event": "artifact_link",
        "invocation_id": _checked("invocation_id", require_ulid, op_id),
        "at": at,
        "kind": _checked("kind", _string, kind),
        "ref": _checked("ref", _string, ref),
    }


def commit_link(op_id: str, at: str, sha: str) -> dict:
    return {
        "event": "commit_link",
        "invocation_id": _checked("invocation_id", require_ulid, op_id),
        "at": at,
        "sha": _checked("sha", _string, sha),
    }


def to_line(event: dict) -> bytes:
    """One JSONL line, as spec-kitty writes them (`json.dumps` defaults)."""
    return json.dumps(event).encode() + b"\n"
