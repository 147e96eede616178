"""Building the event lines kitty-ops writes, with the standard library only.

The pydantic models in `kitty_ops.record` are the schema; this module writes
lines that match it exactly (tests hold the two to each other) so that
starting and completing an Op does not pay for importing pydantic. The checks
that guard what goes into a path or a commit message live here, and the
models use the same functions.
"""
from __future__ import annotations

from kitty_ops.errors import InvalidInput
from kitty_ops.format import rules
from kitty_ops.format.rules import CLOSED_BY, MAX_TOKEN_LENGTH, OUTCOMES, check_token  # noqa: F401 (re-exported)
from kitty_ops.format.ulid import require_ulid

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

# The optional fields of the started event, in the order the model declares them.
STARTED_OPTIONAL = tuple(rules.STARTED_OPTIONAL)


def _checked(field: str, check: Callable[[Any], Any], value: object) -> Any:
    try:
        return check(value)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"{field}: {exc}") from None


def rule_check(problem_of: Callable[[object], str | None]) -> Callable[[object], object]:
    """A check that raises ValueError with what the rule `problem_of` finds (the
    event builders' and the pydantic models' validators)."""

    def check(value: object) -> object:
        problem = problem_of(value)
        if problem:
            raise ValueError(problem)
        return value

    return check


_string = rule_check(rules.text_problem)
_token = rule_check(rules.token_problem)
_timestamp = rule_check(rules.timestamp_problem)


def started_event(op_id: str, profile_id: str, action: str, started_at: str, **optional: object) -> dict[str, Any]:
    """The `started` event; optional fields that are None are left out."""
    unknown = set(optional) - set(STARTED_OPTIONAL)
    if unknown:
        raise TypeError(f"unknown started field(s): {', '.join(sorted(unknown))}")
    event: dict[str, Any] = {
        "event": "started",
        "invocation_id": _checked("invocation_id", require_ulid, op_id),
        "profile_id": _checked("profile_id", _token, profile_id),
        "action": _checked("action", _token, action),
        "started_at": _checked("started_at", _timestamp, started_at),
    }
    for name, problem_of in rules.STARTED_OPTIONAL.items():
        value = optional.get(name)
        if value is None:
            continue
        if name == "router_confidence" and isinstance(value, int) and not isinstance(value, bool):
            value = float(value) if rules.number_problem(value) is None else value
        event[name] = _checked(name, rule_check(problem_of), value)
    return _fits(event)


def completed_event(
    op_id: str, completed_at: str, outcome: str, closed_by: str, evidence_ref: str | None = None
) -> dict[str, Any]:
    event = {
        "event": "completed",
        "invocation_id": _checked("invocation_id", require_ulid, op_id),
        "completed_at": _checked("completed_at", _timestamp, completed_at),
        "outcome": _checked("outcome", rule_check(rules.outcome_problem), outcome),
        "closed_by": _checked("closed_by", rule_check(rules.closed_by_problem), closed_by),
    }
    if evidence_ref is not None:
        event["evidence_ref"] = _checked("evidence_ref", _string, evidence_ref)
    return _fits(event)


def _fits(event: dict[str, Any]) -> dict[str, Any]:
    """`event`, once it is known to make a valid line (InvalidInput otherwise)."""
    to_line(event)
    return event


def artifact_link(op_id: str, at: str, ref: str, kind: str = "artifact") -> dict[str, Any]:
    return _fits({
        "event": "artifact_link",
        "invocation_id": _checked("invocation_id", require_ulid, op_id),
        "at": _checked("at", _timestamp, at),
        "kind": _checked("kind", _string, kind),
        "ref": _checked("ref", _string, ref),
    })


def commit_link(op_id: str, at: str, sha: str) -> dict[str, Any]:
    return _fits({
        "event": "commit_link",
        "invocation_id": _checked("invocation_id", require_ulid, op_id),
        "at": _checked("at", _timestamp, at),
        "sha": _checked("sha", _string, sha),
    })


def to_line(event: dict[str, Any]) -> bytes:
    """One JSONL line, as spec-kitty writes them (`json.dumps` defaults);
    InvalidInput for a non-finite number or a line over `rules.MAX_LINE_BYTES`."""
    try:
        return rules.dumps(event)
    except ValueError as exc:
        raise InvalidInput(f"{event.get('event', 'event')} line of {event.get('invocation_id', '?')}: {exc}") from None
