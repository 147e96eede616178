"""Reading Op record files quickly and tolerantly, with the standard library only.

This is the reader of the hot paths (the pre-commit hooks, doctor, list): it
imports nothing heavy, and applies every rule of `kitty_ops.rules`, so what it
calls valid is what the pydantic models of `kitty_ops.record` (built on it)
accept. A file is read without following a link and only when it is a
regular file (`kitty_ops.safefs`): a symlink or a FIFO is a record with one
problem, never a hang.
"""
from __future__ import annotations

from kitty_ops import rules
from kitty_ops.errors import UnsafePath
from kitty_ops.rules import COMPLETED, OUTCOMES, STARTED, age_hours, parse_timestamp  # noqa: F401 (re-exported)
from kitty_ops.safefs import read_file_at

_TOKEN_FIELDS = ("profile_id", "action")


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
        obj, error = rules.decode_line(raw)
        if error == "not valid JSON" and torn_tail and number == len(lines):
            error = "torn last line"
        yield number, obj, error


class RecordScan:
    """What one record file says: its events and any problems found reading it.

    `events` holds every decoded event; `bad_lines` the numbers of those whose
    fields break a rule (the models skip them: the problem is already named).
    """

    __slots__ = ("events", "problems", "started", "completed", "bad_lines")

    def __init__(self) -> None:
        self.events: list[tuple[int, dict]] = []  # (line number, event)
        self.problems: list[str] = []
        self.started: dict | None = None
        self.completed: dict | None = None
        self.bad_lines: set[int] = set()

    @property
    def op_id(self) -> str | None:
        value = self.started.get("invocation_id") if self.started else None
        return value if rules.ulid_problem(value) is None else None

    def field(self, name: str) -> str:
        """A started field as text, `?` when the record has no started event or
        the field breaks its rule (so a hostile value is never shown or committed)."""
        value = self.started.get(name) if self.started else None
        if name in _TOKEN_FIELDS:
            return value if rules.is_token(value) else "?"
        return value if isinstance(value, str) and value and rules.text_problem(value) is None else "?"

    @property
    def is_valid(self) -> bool:
        return not self.problems

    @property
    def status(self) -> str:
        return rules.op_status(self)


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
    problems = [
        rules.event_problem(event),
        rules.id_problem(event, op_id) if op_id is not None else None,
        rules.order_problem(kind, len(scan.events), scan.started is not None, scan.completed is not None),
    ]
    for problem in problems:
        if problem:
            scan.problems.append(f"line {number}: {problem}")
    if problems[0]:
        scan.bad_lines.add(number)
    if kind == STARTED and scan.started is None:
        scan.started = event
    elif kind == COMPLETED and scan.completed is None and scan.started is not None:
        scan.completed = event
    scan.events.append((number, event))


def read_scan(path, op_id: str | None = None) -> RecordScan:
    """Scan the file at `path`; a link, a special file or an unreadable file is a
    scan with one problem (`is a FIFO; ...`)."""
    try:
        data = read_file_at(path)
    except UnsafePath as exc:
        return _unreadable(str(exc).partition(" ")[2])
    except OSError as exc:
        return _unreadable(f"unreadable: {exc.strerror or exc}")
    return scan_record(data, op_id)


def _unreadable(problem: str) -> RecordScan:
    scan = RecordScan()
    scan.problems.append(problem)
    return scan
