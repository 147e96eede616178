"""The one definition of a valid line, a valid record, and what an Op's state is.

Everything that decides whether content under `kitty-ops/` is acceptable
lives here, and everything else takes it from here: the fast reader
(`kitty_ops.format.scan`), the event builders of the writer (`kitty_ops.format.events`),
the pydantic models and their JSON Schema (`kitty_ops.record`), the CLI's
choices, the hooks, doctor, list and show. A repository may be someone
else's, so every rule assumes the content is hostile.

A line is valid when it is at most MAX_LINE_BYTES, strict JSON (no NaN or
Infinity, no duplicate key, nested at most MAX_DEPTH deep), an object with a
string `event`, and, for a known event type, each field follows its rule
(EVENT_FIELDS). A record is valid when every line is, the first event is the
only `started`, at most one `completed` follows it, and every
`invocation_id` is the file's name.

Standard library only (str methods, no regular expressions of its own): the
pre-commit hooks import this module.
"""
from __future__ import annotations

import math

from kitty_ops.format import jsontext
from kitty_ops.format.ulid import CROCKFORD, ULID_LENGTH, is_ulid
from kitty_ops.settings import DEFAULT_MAX_AGE_HOURS
from kitty_ops.system.clock import datetime, timezone

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from typing import Any, Protocol, TypeGuard

    class RecordScan(Protocol):
        """What the rules read of a record (`kitty_ops.format.scan.RecordScan` has it)."""

        started: dict[str, Any] | None
        completed: dict[str, Any] | None
        problems: list[str]

# Limits.
MAX_LINE_BYTES = 1 << 20  # 1 MiB: a longer line is refused at write time and invalid when read
MAX_DEPTH = 32  # nesting of objects and arrays within one line
MAX_TOKEN_LENGTH = 64
MAX_TIMESTAMP_LENGTH = 40
DEFAULT_STALE_HOURS = DEFAULT_MAX_AGE_HOURS  # an open Op older than this is stale (hook, doctor, sweep)

# Event types and choices.
STARTED = "started"
COMPLETED = "completed"
ARTIFACT_LINK = "artifact_link"
COMMIT_LINK = "commit_link"
OUTCOMES = ("done", "failed", "abandoned")
CLOSED_BY = ("agent", "doctor_sweep")

# Tokens (`profile_id`, `action`) go into the Op commit's subject, so they are one
# word of printable ASCII: no space, no control or invisible character, no line
# break, none of the subject's own punctuation, no leading `-`.
_TOKEN_FORBIDDEN = "()[]"
TOKEN_CHARS = frozenset(chr(code) for code in range(0x21, 0x7F)) - frozenset(_TOKEN_FORBIDDEN)
_TOKEN_FIRST_FORBIDDEN = "-"


class LineError(ValueError):
    """A line that is not strict JSON (raised inside the decoder, reported as a problem)."""


def shown(value: object, limit: int = 40) -> str:
    """A value read from a record, for a message: its repr (control characters
    escaped), cut short, so hostile content stays one short line."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- patterns, for JSON Schema: derived from the sets above, never written by hand ---

def _char_class(chars: Iterable[str]) -> str:
    """A regular-expression character class matching exactly `chars` (ASCII)."""
    codes = sorted(ord(char) for char in chars)
    ranges: list[list[int]] = []
    for code in codes:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])

    def escape(code: int) -> str:
        char = chr(code)
        return "\\" + char if char in "\\]^-[" else char

    parts = [escape(a) if a == b else f"{escape(a)}-{escape(b)}" for a, b in ranges]
    return "[" + "".join(parts) + "]"


TOKEN_PATTERN = (
    f"^{_char_class(TOKEN_CHARS - frozenset(_TOKEN_FIRST_FORBIDDEN))}"
    f"{_char_class(TOKEN_CHARS)}{{0,{MAX_TOKEN_LENGTH - 1}}}$"
)
# Any character outside the token set. JSON Schema patterns are ECMA-262, where
# `$` is the end of the string; Python's `re` (used by the `jsonschema` package)
# also lets `$` match before a final newline, so the schema says "no character
# outside the set" as well: `{"not": {"pattern": TOKEN_OUTSIDE_PATTERN}}`.
TOKEN_OUTSIDE_PATTERN = "[^" + _char_class(TOKEN_CHARS)[1:]
ULID_PATTERN = f"^{_char_class('01234567')}{_char_class(CROCKFORD)}{{{ULID_LENGTH - 1}}}$"


# --- field rules: each returns None when the value is good, else what is wrong ---

def token_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return "must be a string"
    if not value:
        return "must not be empty"
    if len(value) > MAX_TOKEN_LENGTH:
        return f"must be at most {MAX_TOKEN_LENGTH} characters"
    if value[0] in _TOKEN_FIRST_FORBIDDEN:
        return "must not start with '-'"
    if not TOKEN_CHARS.issuperset(value):
        return "must be one word of printable ASCII: no spaces, newlines, control characters or ()[]"
    return None


def is_token(value: object) -> TypeGuard[str]:
    return token_problem(value) is None


def check_token(value: str) -> str:
    """`value` if it can go safely into `op(<profile_id>): <action> [<id>]`, else ValueError."""
    problem = token_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def ulid_problem(value: object) -> str | None:
    return None if is_ulid(value) else "must be an Op id (a 26-character ULID)"


def parse_timestamp(text: object) -> datetime | None:
    """An ISO-8601 date and time with a UTC offset (`2026-01-02T03:04:05+00:00`,
    `...Z`) as an aware datetime; None for anything else (a naive time, a date alone)."""
    if not isinstance(text, str) or not 19 <= len(text) <= MAX_TIMESTAMP_LENGTH:
        return None
    if not text.isascii() or text[4] != "-" or text[7] != "-" or text[10] != "T":
        return None
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment


def timestamp_problem(value: object) -> str | None:
    if parse_timestamp(value) is None:
        return "must be an ISO-8601 date and time with a UTC offset"
    return None


def require_timestamp(value: object) -> datetime:
    moment = parse_timestamp(value)
    if moment is None:
        raise ValueError(timestamp_problem(value))
    return moment


def text_problem(value: object) -> str | None:
    """Free text is kept as given, except what no consumer can take: NUL, lone surrogates."""
    if not isinstance(value, str):
        return "must be a string"
    if "\x00" in value:
        return "must not contain a NUL character"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "must be valid Unicode (no lone surrogates)"
    return None


def flag_problem(value: object) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def number_problem(value: object) -> str | None:
    """A finite JSON number (never NaN or Infinity, which are not JSON)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "must be a number"
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an int too large for a float
        finite = False
    return None if finite else "must be a finite number"


def confidence_problem(value: object) -> str | None:
    if isinstance(value, str):
        return text_problem(value)
    if number_problem(value) is None:
        return None
    return "must be a string or a finite number"


def count_problem(value: object) -> str | None:
    """A count: a whole number >= 0 (`redacted`: how many secrets the line had replaced)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return "must be a whole number >= 0"
    return None


def _one_of(choices: tuple[str, ...]) -> Callable[[object], str | None]:
    def problem(value: object) -> str | None:
        return None if isinstance(value, str) and value in choices else f"must be one of {', '.join(choices)}"

    return problem


outcome_problem = _one_of(OUTCOMES)
closed_by_problem = _one_of(CLOSED_BY)

REQUIRED, OPTIONAL = True, False
# For each known event type: field -> (rule, required). An optional field may be
# null or absent; a required one must be present and not null (the one exception:
# the `outcome` of a legacy completed line, see `event_problem`). Fields not listed
# are kept and ignored.
STARTED_OPTIONAL = {
    "request_text": text_problem,
    "actor": text_problem,
    "mode_of_work": text_problem,
    "governance_context_hash": text_problem,
    "governance_context_available": flag_problem,
    "router_confidence": confidence_problem,
    "model_id": text_problem,
    "mission_id": text_problem,
    "wp_id": text_problem,
    "session_id": text_problem,  # the agent's own session id (`kitty-ops agents hook`)
    "redacted": count_problem,
}
# Every event kitty-ops writes may say how many secrets it had redacted
# (`kitty_ops.format.secrets`): the count, never what they were.
REDACTED_OPTIONAL = {"redacted": count_problem}
if TYPE_CHECKING:
    _Fields = dict[str, tuple[Callable[[object], str | None], bool]]


def _fields(required: Mapping[str, Callable[[object], str | None]],
            optional: Mapping[str, Callable[[object], str | None]] | None = None) -> _Fields:
    """Every event's fields: its `invocation_id`, then `required`, then `optional`."""
    fields: _Fields = {"invocation_id": (ulid_problem, REQUIRED)}
    fields.update((name, (rule, REQUIRED)) for name, rule in required.items())
    fields.update((name, (rule, OPTIONAL)) for name, rule in (optional or {}).items())
    return fields


EVENT_FIELDS: dict[str, _Fields] = {  # name: (its rule, whether it is required)
    STARTED: _fields({"profile_id": token_problem, "action": token_problem, "started_at": timestamp_problem},
                     STARTED_OPTIONAL),
    COMPLETED: _fields({"completed_at": timestamp_problem, "outcome": outcome_problem},
                       {"closed_by": closed_by_problem, "evidence_ref": text_problem, **REDACTED_OPTIONAL}),
    ARTIFACT_LINK: _fields({"at": timestamp_problem, "kind": text_problem, "ref": text_problem}, REDACTED_OPTIONAL),
    COMMIT_LINK: _fields({"at": timestamp_problem, "sha": text_problem}, REDACTED_OPTIONAL),
}


def is_legacy_completion(event: dict[str, Any]) -> bool:
    """A completed line of older spec-kitty: no `closed_by`; its outcome may be null."""
    return event.get("closed_by") is None


def event_problem(event: dict[str, Any]) -> str | None:
    """What is wrong with the fields of one decoded event, or None."""
    kind = event.get("event")
    problem = text_problem(kind)
    if problem:
        return f"event: {problem}"
    fields = EVENT_FIELDS.get(kind)  # type: ignore[arg-type]
    if fields is None:
        return None  # an unknown event type: kept, otherwise ignored
    for name, (rule, required) in fields.items():
        if name not in event:
            if required:
                return f"{kind} event lacks {name}"
            continue
        value = event[name]
        if value is None:
            if not required or (name == "outcome" and is_legacy_completion(event)):
                continue
            return f"{name}: must not be null"
        problem = rule(value)
        if problem:
            return f"{name}: {problem}"
    return None


# --- lines ---

def _object(pairs: list[tuple[str, object]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise LineError(f"duplicate key {shown(key)}")
            seen.add(key)
    return obj


def _constant(name: str) -> object:
    raise LineError(f"{name} is not JSON")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise LineError(f"{text} is out of range for a JSON number")
    return value


def loads(raw: bytes | str) -> object:
    """Strict JSON: LineError for a duplicate key or a non-finite number, ValueError
    for anything else json refuses, RecursionError when nested too deeply."""
    return jsontext.loads(raw, object_pairs_hook=_object, parse_constant=_constant, parse_float=_float)


def _depth(value: object) -> int:
    """How deeply objects and arrays nest in `value` (iterative: no recursion)."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, level = todo.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        todo.extend((child, level + 1) for child in children)
    return deepest


def decode_line(raw: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """(the decoded object, None), or (None, what makes the line unreadable).

    The line is one JSON object with a string `event`, at most MAX_LINE_BYTES
    and MAX_DEPTH deep; its fields are checked by `event_problem`.
    """
    if len(raw) > MAX_LINE_BYTES:
        return None, f"longer than {MAX_LINE_BYTES} bytes"
    brackets = raw.count(b"[") + raw.count(b"{")
    try:
        obj = loads(raw)
    except LineError as exc:
        return None, f"not valid JSON: {exc}"
    except RecursionError:
        return None, f"nested more than {MAX_DEPTH} levels deep"
    except (ValueError, UnicodeDecodeError):
        return None, "not valid JSON"
    if brackets > MAX_DEPTH and _depth(obj) > MAX_DEPTH:
        return None, f"nested more than {MAX_DEPTH} levels deep"
    if not isinstance(obj, dict):
        return None, "not a JSON object"
    if not isinstance(obj.get("event"), str):
        return None, "no event type"
    return obj, None


def line_problem(raw: bytes) -> str | None:
    """Everything wrong with one line on its own (not its place in the record)."""
    obj, problem = decode_line(raw)
    return problem if obj is None else event_problem(obj)


def dumps(event: dict[str, Any]) -> bytes:
    """One JSONL line for `event`, as spec-kitty writes them (`json.dumps`
    defaults); ValueError for what no valid line may hold."""
    try:
        line = jsontext.dumps(event, allow_nan=False).encode() + b"\n"
    except ValueError:
        raise ValueError("a number is NaN or infinite, which JSON cannot hold") from None
    if len(line) > MAX_LINE_BYTES:
        raise ValueError(f"the line would be {len(line)} bytes; a line may be at most {MAX_LINE_BYTES} bytes")
    return line


# --- records: event order ---

def order_problem(kind: str, position: int, has_started: bool, has_completed: bool) -> str | None:
    """What is wrong with an event of type `kind` at `position` (0-based) among the
    record's events, given what came before it."""
    if kind == STARTED and position:
        return "started is not the first event"
    if kind != STARTED and not has_started:
        return f"{kind} event before the started event"
    if kind == COMPLETED and has_completed:
        return "a second completed event"
    return None


def id_problem(event: dict[str, Any], op_id: str) -> str | None:
    if event.get("invocation_id") != op_id:
        return f"invocation_id {shown(event.get('invocation_id'))} does not match the file name {op_id}"
    return None


# --- an Op's state: the one place status, orphan, pending and stale are decided ---
# `scan` is a record's scan (`kitty_ops.format.scan.RecordScan`): `started`, `completed`, `problems`.

def op_status(scan: RecordScan) -> str:
    """`invalid`, `open`, or the outcome of a completed Op (`completed` for a
    legacy record that has none)."""
    if scan.problems or scan.started is None:
        return "invalid"
    if scan.completed is None:
        return "open"
    return scan.completed.get("outcome") or "completed"


def is_orphan(scan: RecordScan) -> bool:
    """Started and never completed (an invalid record may be one: doctor lists it as invalid)."""
    return scan.started is not None and scan.completed is None


def is_committable(scan: RecordScan) -> bool:
    """Valid and completed: what an Op commit may take (pending when not yet in HEAD)."""
    return not scan.problems and scan.started is not None and scan.completed is not None


def age_hours(started_at: object, now: datetime | None = None) -> float | None:
    """Hours since `started_at`, or None when it cannot be read."""
    moment = parse_timestamp(started_at)
    if moment is None:
        return None
    now = now or datetime.now(timezone.utc)
    try:
        return (now - moment).total_seconds() / 3600
    except OverflowError:
        return None


def is_stale(age: float | None, threshold_hours: float = DEFAULT_STALE_HOURS) -> bool:
    """An open Op older than the threshold, or of unreadable age, is stale."""
    return age is None or age > threshold_hours

