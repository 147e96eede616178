"""Writing Op record files: exclusive create, append-only, never through a link."""
from __future__ import annotations

import errno
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kitty_ops.errors import (
    AlreadyCompleted,
    InvalidInput,
    KittyOpsError,
    OpExists,
    UnknownOp,
)
from kitty_ops.events import to_line
from kitty_ops.layout import (
    EVENTS_DIR,
    GITATTRIBUTES_PATH,
    GITATTRIBUTES_TEXT,
    INDEX_PATH,
    refuse_link,
    safe_record_path,
)
from kitty_ops.lock import LockTimeout, hold_fd
from kitty_ops.scan import scan_record

__all__ = ["EVENTS_DIR", "INDEX_PATH", "write_started", "write_completed"]

# An event: a dict from `kitty_ops.events`, or a model from `kitty_ops.record`.
Event = Any

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
COMPLETION_LOCK_SECONDS = 10.0


def ensure_events_dir(repo_root: Path | str) -> Path:
    """Create `kitty-ops/` and its `.gitattributes` (append-only logs merge by union)."""
    directory = Path(repo_root) / EVENTS_DIR
    refuse_link(directory, EVENTS_DIR)
    directory.mkdir(exist_ok=True)
    attributes = Path(repo_root) / GITATTRIBUTES_PATH
    if not attributes.exists() and not attributes.is_symlink():
        attributes.write_text(GITATTRIBUTES_TEXT)
    return directory


def write_started(repo_root: Path | str, started: Event) -> Path:
    """Create the record file with its `started` line; OpExists if it is there."""
    op_id = _op_id(started)
    ensure_events_dir(repo_root)
    path = safe_record_path(repo_root, op_id)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o644)
    except FileExistsError:
        raise OpExists(f"{op_id}: a record with this id already exists") from None
    try:
        os.write(fd, _lines([started]))
    finally:
        os.close(fd)
    return path


def _open_for_append(repo_root: Path | str, op_id: str) -> int:
    path = safe_record_path(repo_root, op_id)
    try:
        return os.open(path, os.O_RDWR | os.O_APPEND | _NOFOLLOW)
    except FileNotFoundError:
        raise UnknownOp(f"{op_id}: no such Op (no {EVENTS_DIR}/{op_id}.jsonl)") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            refuse_link(Path(repo_root) / EVENTS_DIR / f"{op_id}.jsonl", f"{EVENTS_DIR}/{op_id}.jsonl")
        raise


def _read_fd(fd: int) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


def _append_locked(repo_root: Path | str, op_id: str, lines: bytes, check) -> dict:
    """Append `lines` under an exclusive lock after `check(scan)` accepts the record.

    Returns the record's started event.
    """
    fd = _open_for_append(repo_root, op_id)
    try:
        with hold_fd(fd, COMPLETION_LOCK_SECONDS):
            data = _read_fd(fd)
            scan = scan_record(data, op_id)
            check(scan)
            if data and not data.endswith(b"\n"):
                lines = b"\n" + lines  # never glue onto a torn line
            os.write(fd, lines)
            return scan.started
    except LockTimeout:
        raise KittyOpsError(f"{op_id}: the record is locked by another process") from None
    finally:
        os.close(fd)


def write_completed(repo_root: Path | str, completed: Event, links: Iterable[Event] = ()) -> dict:
    """Append the `completed` line (and any links) once; AlreadyCompleted after.

    Returns the record's started event.
    """
    op_id = _op_id(completed)

    def check(scan) -> None:
        if scan.started is None:
            raise InvalidInput(f"{op_id}: the record has no started event; it cannot be completed")
        if scan.completed is not None:
            raise AlreadyCompleted(
                f"{op_id}: already completed ({scan.completed.get('outcome', '?')})"
            )

    return _append_locked(repo_root, op_id, _lines([completed, *links]), check)


def _op_id(event: Event) -> str:
    return event["invocation_id"] if isinstance(event, dict) else event.invocation_id


def _lines(events: Iterable[Event]) -> bytes:
    """Event dicts (`kitty_ops.events`) or models (`kitty_ops.record`) as lines."""
    return b"".join(to_line(event) if isinstance(event, dict) else event.to_line() for event in events)
