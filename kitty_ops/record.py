"""The Op record: typed, frozen models of its events and a tolerant reader.

A record is one JSONL file, `kitty-ops/<invocation_id>.jsonl`: a `started`
line, at most one `completed` line, then correlation lines. Readers are
tolerant: legacy lines parse, unknown event types are kept and ignored, and an
unreadable line is reported in `OpRecord.problems`, never raised.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    Strict,
    StrictBool,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

from kitty_ops.errors import InvalidInput, UnsafePath
from kitty_ops.format import rules
from kitty_ops.format.events import rule_check as _rule
from kitty_ops.format.layout import EVENTS_DIR
from kitty_ops.format.safefs import read_file_at
from kitty_ops.format.scan import scan_record
from kitty_ops.format.ulid import require_ulid


def _timestamp(value: object) -> datetime:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value  # built in Python, not read from a line
    return rules.require_timestamp(value)


def _confidence(value: object) -> str | float:
    problem = rules.confidence_problem(value)
    if problem:
        raise ValueError(problem)
    return value if isinstance(value, str) else float(value)  # type: ignore[arg-type]


# Every constraint comes from `kitty_ops.format.rules`; the JSON Schema says the same
# (its patterns are derived from the rules' character sets, not written here).
Token = Annotated[
    str,
    AfterValidator(rules.check_token),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": rules.MAX_TOKEN_LENGTH,
            "pattern": rules.TOKEN_PATTERN,
            "not": {"pattern": rules.TOKEN_OUTSIDE_PATTERN},
        }
    ),
]
OpId = Annotated[str, AfterValidator(require_ulid), WithJsonSchema({"type": "string", "pattern": rules.ULID_PATTERN})]
Timestamp = Annotated[
    datetime,
    PlainValidator(_timestamp),
    PlainSerializer(datetime.isoformat, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
Text = Annotated[str, AfterValidator(_rule(rules.text_problem))]
# How many secrets a line had redacted (`kitty_ops.format.secrets`): a count, never what they were.
Count = Annotated[int, Strict(), Field(ge=0)]
Confidence = Annotated[
    str | float,
    PlainValidator(_confidence),
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "number"}]}),
]
Outcome = Literal[rules.OUTCOMES]  # type: ignore[valid-type]
ClosedBy = Literal[rules.CLOSED_BY]  # type: ignore[valid-type]


def _event_is_required(schema: dict[str, Any]) -> None:
    required = schema.setdefault("required", [])
    if "event" not in required:
        required.insert(0, "event")


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", json_schema_extra=_event_is_required)
    if TYPE_CHECKING:
        event: str  # each event model declares its own

    def to_line(self) -> bytes:
        """The event as one JSONL line; fields that are None are left out.
        InvalidInput when it would break a rule of a line (too long, not finite)."""
        try:
            return rules.dumps(self.model_dump(mode="json", exclude_none=True))
        except ValueError as exc:
            raise InvalidInput(f"{self.event} line: {exc}") from None


class _KnownEvent(_Event):
    """An event type this version writes: it may say how many secrets it had replaced."""

    redacted: Count | None = None  # `kitty_ops.format.secrets`


class InvocationRecord(_KnownEvent):
    """The `started` event: who does what, and when it began."""

    event: Literal["started"] = "started"
    invocation_id: OpId
    profile_id: Token
    action: Token
    started_at: Timestamp
    request_text: Text | None = None
    actor: Text | None = None
    mode_of_work: Text | None = None
    governance_context_hash: Text | None = None
    governance_context_available: StrictBool | None = None
    router_confidence: Confidence | None = None
    model_id: Text | None = None
    mission_id: Text | None = None
    wp_id: Text | None = None
    session_id: Text | None = None  # the agent's session (`kitty-ops agents hook`)


class CompletedEvent(_KnownEvent):
    """The `completed` event.

    Legacy lines (older spec-kitty) have no `closed_by` (None here), and some
    have a null `outcome`; every line kitty-ops writes has both.
    """

    event: Literal["completed"] = "completed"
    invocation_id: OpId
    completed_at: Timestamp
    outcome: Outcome | None
    closed_by: ClosedBy | None = None
    evidence_ref: Text | None = None

    @model_validator(mode="after")
    def _outcome_unless_legacy(self) -> CompletedEvent:
        if self.outcome is None and self.closed_by is not None:
            raise ValueError("outcome must be one of done, failed, abandoned")
        return self

    @property
    def is_legacy(self) -> bool:
        return self.closed_by is None


class ArtifactLink(_KnownEvent):
    event: Literal["artifact_link"] = "artifact_link"
    invocation_id: OpId
    at: Timestamp
    kind: Text
    ref: Text


class CommitLink(_KnownEvent):
    event: Literal["commit_link"] = "commit_link"
    invocation_id: OpId
    at: Timestamp
    sha: Text


class UnknownEvent(_Event):
    """An event type this version does not know: kept as read, otherwise ignored."""

    model_config = ConfigDict(frozen=True, extra="allow", json_schema_extra=_event_is_required)
    event: Text


EVENT_MODELS: dict[str, type[_Event]] = {
    "started": InvocationRecord,
    "completed": CompletedEvent,
    "artifact_link": ArtifactLink,
    "commit_link": CommitLink,
}
Link = ArtifactLink | CommitLink


class OpRecord(BaseModel):
    """Everything one record file says, read tolerantly."""

    model_config = ConfigDict(frozen=True)

    op_id: str
    started: InvocationRecord | None = None
    completed: CompletedEvent | None = None
    links: tuple[Link, ...] = ()
    unknown: tuple[UnknownEvent, ...] = ()
    problems: tuple[str, ...] = ()
    status: str = "invalid"  # `rules.op_status`: invalid, open, or the outcome

    @property
    def is_open(self) -> bool:
        return self.completed is None

    @property
    def is_valid(self) -> bool:
        return not self.problems


def parse_event(event: dict[str, Any]) -> _Event:
    """The model of one decoded line (ValidationError when it does not fit)."""
    model = EVENT_MODELS.get(event.get("event"), UnknownEvent)  # type: ignore[arg-type]
    return model.model_validate(event)


def parse_record(data: bytes, op_id: str) -> OpRecord:
    """Read a record file's bytes into an `OpRecord`; never raises on bad content."""
    scan = scan_record(data, op_id)
    problems = list(scan.problems)
    parsed: dict[str, list[Any]] = {"started": [], "completed": [], "links": [], "unknown": []}
    for number, event in scan.events:
        if number in scan.bad_lines:
            continue  # the scan named what is wrong with it
        try:
            model = parse_event(event)
        except ValidationError as exc:
            problems.append(f"line {number}: {describe_validation_error(exc)}")
            continue
        parsed[_slot(model)].append(model)
    return OpRecord(
        op_id=op_id,
        started=next(iter(parsed["started"]), None),
        completed=next(iter(parsed["completed"]), None),
        links=tuple(parsed["links"]),
        unknown=tuple(parsed["unknown"]),
        problems=tuple(dict.fromkeys(problems)),
        status="invalid" if problems else scan.status,
    )


def _slot(model: _Event) -> str:
    if isinstance(model, InvocationRecord):
        return "started"
    if isinstance(model, CompletedEvent):
        return "completed"
    if isinstance(model, UnknownEvent):
        return "unknown"
    return "links"


def read_record(path: Path | str) -> OpRecord:
    """Read the record file at `path` (its name gives the Op id)."""
    path = Path(path)
    op_id = path.name.removesuffix(".jsonl")
    try:
        data = read_file_at(path)
    except UnsafePath as exc:
        return OpRecord(op_id=op_id, problems=(str(exc).partition(" ")[2],))
    except OSError as exc:
        return OpRecord(op_id=op_id, problems=(f"unreadable: {exc.strerror or exc}",))
    return parse_record(data, op_id)


def describe_validation_error(exc: ValidationError) -> str:
    """A pydantic error as one short line: `field: what is wrong`."""
    first = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"]) or "value"
    message = first["msg"].removeprefix("Value error, ")
    return f"{where}: {message}"


class StoragePolicy(BaseModel):
    model_config = ConfigDict(frozen=True)
    storage_path: str


class TrailPolicy(BaseModel):
    model_config = ConfigDict(frozen=True)
    tier_1: StoragePolicy


MINIMAL_VIABLE_TRAIL_POLICY = TrailPolicy(
    tier_1=StoragePolicy(storage_path=f"{EVENTS_DIR}/{{invocation_id}}.jsonl")
)
