"""The Op record: typed, frozen models of its events and a tolerant reader.

A record is one JSONL file, `kitty-ops/<invocation_id>.jsonl`: a `started`
line, at most one `completed` line, then correlation lines. Readers are
tolerant: legacy lines parse, unknown event types are kept and ignored, and an
unreadable line is reported in `OpRecord.problems`, never raised.
"""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    model_validator,
)

from kitty_ops.events import MAX_TOKEN_LENGTH, check_token
from kitty_ops.layout import EVENTS_DIR
from kitty_ops.scan import scan_record
from kitty_ops.ulid import require_ulid

# The patterns say in JSON Schema what the validators enforce.
Token = Annotated[
    str,
    Field(max_length=MAX_TOKEN_LENGTH, pattern=r"^[^\s\x00-\x1f\x7f()\[\]\-][^\s\x00-\x1f\x7f()\[\]]*$"),
    AfterValidator(check_token),
]
OpId = Annotated[str, Field(pattern=r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$"), AfterValidator(require_ulid)]
Timestamp = Annotated[AwareDatetime, PlainSerializer(datetime.isoformat, return_type=str)]
Outcome = Literal["done", "failed", "abandoned"]
ClosedBy = Literal["agent", "doctor_sweep"]


def _event_is_required(schema: dict) -> None:
    required = schema.setdefault("required", [])
    if "event" not in required:
        required.insert(0, "event")


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", json_schema_extra=_event_is_required)

    def to_line(self) -> bytes:
        """The event as one JSONL line; fields that are None are left out."""
        return json.dumps(self.model_dump(mode="json", exclude_none=True)).encode() + b"\n"


class InvocationRecord(_Event):
    """The `started` event: who does what, and when it began."""

    event: Literal["started"] = "started"
    invocation_id: OpId
    profile_id: Token
    action: Token
    started_at: Timestamp
    request_text: str | None = None
    actor: str | None = None
    mode_of_work: str | None = None
    governance_context_hash: str | None = None
    governance_context_available: bool | None = None
    router_confidence: str | float | None = None
    model_id: str | None = None
    mission_id: str | None = None
    wp_id: str | None = None


class CompletedEvent(_Event):
    """The `completed` event.

    Legacy lines (older spec-kitty) have no `closed_by` (None here), and some
    have a null `outcome`; every line kitty-ops writes has both.
    """

    event: Literal["completed"] = "completed"
    invocation_id: OpId
    completed_at: Timestamp
    outcome: Outcome | None
    closed_by: ClosedBy | None = None
    evidence_ref: str | None = None

    @model_validator(mode="after")
    def _outcome_unless_legacy(self) -> CompletedEvent:
        if self.outcome is None and self.closed_by is not None:
            raise ValueError("outcome must be one of done, failed, abandoned")
        return self

    @property
    def is_legacy(self) -> bool:
        return self.closed_by is None


class ArtifactLink(_Event):
    event: Literal["artifact_link"] = "artifact_link"
    invocation_id: OpId
    at: Timestamp
    kind: str
    ref: str


class CommitLink(_Event):
    event: Literal["commit_link"] = "commit_link"
    invocation_id: OpId
    at: Timestamp
    sha: str


class UnknownEvent(_Event):
    """An event type this version does not know: kept as read, otherwise ignored."""

    model_config = ConfigDict(frozen=True, extra="allow", json_schema_extra=_event_is_required)
    event: str


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

    @property
    def is_open(self) -> bool:
        return self.completed is None

    @property
    def is_valid(self) -> bool:
        return not self.problems


def parse_event(event: dict) -> _Event:
    """The model of one decoded line (ValidationError when it does not fit)."""
    model = EVENT_MODELS.get(event.get("event"), UnknownEvent)
    return model.model_validate(event)


def parse_record(data: bytes, op_id: str) -> OpRecord:
    """Read a record file's bytes into an `OpRecord`; never raises on bad content."""
    scan = scan_record(data, op_id)
    problems = list(scan.problems)
    parsed: dict[str, list] = {"started": [], "completed": [], "links": [], "unknown": []}
    for number, event in scan.events:
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
        data = path.read_bytes()
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
