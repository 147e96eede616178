"""Reading Op record files quickly and tolerantly, with the standard library only.

This is the reader of the hot paths (the pre-commit hooks, doctor, list): it
imports nothing heavy, and applies every rule of `kitty_ops.format.rules`, so what it
calls valid is what the pydantic models of `kitty_ops.record` (built on it)
accept. A file is read without following a link and only when it is a
regular file (`kitty_ops.format.safefs`): a symlink or a FIFO is a record with one
problem, never a hang.
"""
from __future__ import annotations

import os

from kitty_ops.errors import UnsafePath
from kitty_ops.format import rules
from kitty_ops.format.rules import COMPLETED, OUTCOMES, STARTED, age_hours, parse_timestamp  # noqa: F401 (re-exported)
from kitty_ops.format.safefs import open_file_at, read_chunks

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from typing import Any

_TOKEN_FIELDS = ("profile_id", "action")


def split_lines(chunks: Iterable[bytes]) -> Iterator[tuple[int, bytes | None, bool]]:
    """`(line_number, raw, ended)` for each line of the bytes `chunks` make up;
    `raw` is None for a line over `rules.MAX_LINE_BYTES` (skipped while reading:
    memory stays bounded whatever the file holds), `ended` False for a last
    line with no newline."""
    limit = rules.MAX_LINE_BYTES
    number, pending, oversize = 0, b"", False  # the unfinished line the last chunk ended with
    for chunk in chunks:
        parts = chunk.split(b"\n")
        for part in parts[:-1]:
            number += 1
            if pending or oversize:
                part, pending = pending + part if not oversize else b"", b""
                yield number, None if oversize or len(part) > limit else part, True
                oversize = False
            else:
                yield number, None if len(part) > limit else part, True
        tail = parts[-1]
        if not oversize:
            pending += tail
            if len(pending) > limit:
                oversize, pending = True, b""
    if pending or oversize:
        yield number + 1, None if oversize else pending, False


def iter_lines(data: bytes | Iterable[bytes]) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """Yield `(line_number, obj, error)` for each non-blank line of `data`
    (the bytes, or chunks of them).

    `obj` is the decoded JSON object, or None with `error` saying why the line
    is unreadable (a torn last line is named as such).
    """
    for number, raw, ended in split_lines([data] if isinstance(data, (bytes, bytearray)) else data):
        if raw is None:
            yield number, None, f"longer than {rules.MAX_LINE_BYTES} bytes"
            continue
        if not raw.strip():
            continue
        obj, error = rules.decode_line(raw)
        if error == "not valid JSON" and not ended:  # no final newline: a torn write
            error = "torn last line"
        yield number, obj, error


class RecordScan:
    """What one record file says: its events and any problems found reading it.

    `events` holds every decoded event; `bad_lines` the numbers of those whose
    fields break a rule (the models skip them: the problem is already named).
    """

    __slots__ = ("events", "problems", "started", "completed", "bad_lines")

    def __init__(self) -> None:
        self.events: list[tuple[int, dict[str, Any]]] = []  # (line number, event)
        self.problems: list[str] = []
        self.started: dict[str, Any] | None = None
        self.completed: dict[str, Any] | None = None
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


def scan_record(data: bytes | Iterable[bytes], op_id: str | None = None) -> RecordScan:
    """Scan a record file's bytes (or chunks of them); `op_id` is the id its file name says."""
    scan = RecordScan()
    for number, obj, error in iter_lines(data):
        if error:
            scan.problems.append(f"line {number}: {error}")
            continue
        assert obj is not None  # decode_line gives the object whenever it gives no error
        _take_event(scan, number, obj, op_id)
    if scan.started is None and not scan.problems:
        scan.problems.append("no started event")
    return scan


def _take_event(scan: RecordScan, number: int, event: dict[str, Any], op_id: str | None) -> None:
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


def read_scan(path: str | os.PathLike[str], op_id: str | None = None) -> RecordScan:
    """Scan the file at `path`; a link, a special file or an unreadable file is a
    scan with one problem (`is a FIFO; ...`)."""
    try:
        fd = open_file_at(path)
    except UnsafePath as exc:
        return _unreadable(str(exc).partition(" ")[2])
    except OSError as exc:
        return _unreadable(f"unreadable: {exc.strerror or exc}")
    try:
        return scan_record(read_chunks(fd), op_id)
    except OSError as exc:
        return _unreadable(f"unreadable: {exc.strerror or exc}")
    finally:
        os.close(fd)


def _unreadable(problem: str) -> RecordScan:
    scan = RecordScan()
    scan.problems.append(problem)
    return scan


def rules_stamp(cache_format: str) -> str:
    """What a cache of scan results is valid for: its own format, this kitty-ops
    and the files of its rules (a cache made by other rules is made again)."""
    from kitty_ops import __version__

    parts = [cache_format, __version__]
    for path in (rules.__file__, __file__):
        try:
            info = os.stat(path or "")
            parts.append(f"{info.st_size}:{info.st_mtime_ns}")
        except (OSError, TypeError):
            parts.append("?")
    return " ".join(parts)
