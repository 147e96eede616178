"""Reading Op record files quickly and tolerantly, with the standard library only.

This is the reader of the hot paths (the pre-commit hooks, doctor, list): it
imports nothing heavy. `kitty_ops.record` builds the typed models on top of
`iter_lines`, so both agree on what a line is.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

STARTED = "started"
COMPLETED = "completed"
OUTCOMES = ("done", "failed", "abandoned")
_REQUIRED_STARTED = ("profile_id", "action", "started_at")


def iter_lines(data: bytes):
    """Yield `(line_number, obj, error)` for each non-blank line.

    `obj` is the decoded JSON object, or None with `error` saying why the line
    is unreadable (a torn last line is named as such).
    """
    lines = data.split(b"\n")
    torn_tail = bool(lines[-1].strip())  # no final newline: maybe a torn write
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            torn = torn_tail and number == len(lines)
            yield number, None, "torn last line" if torn else "not valid JSON"
            continue
        if not isinstance(obj, dict):
            yield number, None, "not a JSON object"
        elif not isinstance(obj.get("event"), str):
            yield number, obj, "no event type"
        else:
            yield number, obj, None


class RecordScan:
    """What one record file says: its events and any problems found reading it."""

    __slots__ = ("events", "problems", "started", "completed")

    def __init__(self) -> None:
        self.events: list[tuple[int, dict]] = []  # (line number, event)
        self.problems: list[str] = []
        self.started: dict | None = None
        self.completed: dict | None = None

    @property
    def op_id(self) -> str | None:
        return self.started.get("invocation_id") if self.started else None

    def field(self, name: str) -> str:
        """A started field as text, `?` when the record has no started event."""
        value = self.started.get(name) if self.started else None
        return value if isinstance(value, str) and value else "?"

    @property
    def is_valid(self) -> bool:
        return not self.problems


def scan_record(data: bytes, op_id: str | None = None) -> RecordScan:
    """Scan a record file's bytes; `op_id` is the id its file name says."""
    scan = RecordScan()
    for number, obj, error in iter_lines(data):
        if error:
            scan.problems.append(f"line {number}: {error}")
            continue
        _take_event(scan, number, obj, op_id)
    if scan.started is None and not scan.problems:
        scan.problems.append("no started event")
    return scan


def _take_event(scan: RecordScan, number: int, event: dict, op_id: str | None) -> None:
    kind = event["event"]
    if op_id is not None and event.get("invocation_id") != op_id:
        scan.problems.append(
            f"line {number}: invocation_id {event.get('invocation_id')!r}"
            f" does not match the file name {op_id}"
        )
    if kind == STARTED:
        if scan.events:
            scan.problems.append(f"line {number}: started is not the first event")
        missing = [name for name in _REQUIRED_STARTED if not event.get(name)]
        if missing:
            scan.problems.append(f"line {number}: started event lacks {', '.join(missing)}")
        if scan.started is None:
            scan.started = event
    elif scan.started is None:
        scan.problems.append(f"line {number}: {kind} event before the started event")
    if kind == COMPLETED:
        if scan.completed is not None:
            scan.problems.append(f"line {number}: a second completed event")
        else:
            scan.completed = event
        legacy_without_outcome = event.get("outcome") is None and "closed_by" not in event
        if event.get("outcome") not in OUTCOMES and not legacy_without_outcome:
            scan.problems.append(
                f"line {number}: outcome {event.get('outcome')!r} is not one of {', '.join(OUTCOMES)}"
            )
    scan.events.append((number, event))


def read_scan(path, op_id: str | None = None) -> RecordScan:
    """Scan the file at `path`; an unreadable file is a scan with one problem."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        scan = RecordScan()
        scan.problems.append(f"unreadable: {exc.strerror or exc}")
        return scan
    return scan_record(data, op_id)


def parse_timestamp(text: object) -> datetime | None:
    """An ISO-8601 timestamp as an aware UTC datetime, or None when unparseable."""
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00", 1) if text.endswith("Z") else text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment


def age_hours(started_at: object, now: datetime | None = None) -> float | None:
    """Hours since `started_at`, or None when it cannot be read."""
    moment = parse_timestamp(started_at)
    if moment is None:
        return None
    now = now or datetime.now(timezone.utc)
    return (now - moment).total_seconds() / 3600
