"""Writing Op record files: exclusive create, append-only, whole lines or none, never through a link."""
from __future__ import annotations

import errno
import os

from kitty_ops.errors import (
    AlreadyCompleted,
    InvalidInput,
    KittyOpsError,
    OpExists,
    UnknownOp,
    UnsafePath,
    WriteFailed,
)
from kitty_ops.format import safefs
from kitty_ops.format.events import to_line
from kitty_ops.format.layout import (
    EVENTS_DIR,
    GITATTRIBUTES_PATH,
    GITATTRIBUTES_TEXT,
    INDEX_PATH,
    refuse_link,
    safe_record_file,
    safe_record_path,  # noqa: F401 (re-exported)
)
from kitty_ops.format.scan import RecordScan, scan_record
from kitty_ops.store.redaction import redact_events
from kitty_ops.system.lock import LockTimeout, hold_fd

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from pathlib import Path
    from typing import Any

    # An event: a dict from `kitty_ops.format.events`, or a model from `kitty_ops.record`.
    Event = Any

    from kitty_ops.store.redaction import ConfigReader

__all__ = ["EVENTS_DIR", "INDEX_PATH", "write_started", "write_completed"]

COMPLETION_LOCK_SECONDS = 10.0
GITATTRIBUTES_NAME = GITATTRIBUTES_PATH.rsplit("/", 1)[-1]


def ensure_events_dir(repo_root: Path | str) -> str:
    """Create `kitty-ops/` and its `.gitattributes` (append-only logs merge by union)."""
    directory = os.path.join(os.fspath(repo_root), EVENTS_DIR)
    refuse_link(directory, EVENTS_DIR)
    try:
        os.mkdir(directory)
    except FileExistsError:
        if not os.path.isdir(directory):
            raise
    try:
        fd = safefs.open_in_events_dir(repo_root, GITATTRIBUTES_NAME, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    except (FileExistsError, UnsafePath):
        return directory  # there already (a link is refused where it would be committed)
    try:
        write_all(fd, GITATTRIBUTES_TEXT.encode(), GITATTRIBUTES_PATH)
    finally:
        os.close(fd)
    return directory


def write_all(fd: int, data: bytes, shown: str) -> None:
    """Write all of `data` at the end of `fd` and flush it to disk, or cut the
    file back to where it was and raise WriteFailed naming the cause."""
    size = os.fstat(fd).st_size
    view = memoryview(data)
    try:
        while view:
            written = os.write(fd, view)
            if written <= 0:
                raise OSError(errno.EIO, "nothing was written")
            view = view[written:]
        os.fsync(fd)
    except OSError as exc:
        try:
            os.ftruncate(fd, size)
        except OSError:
            pass
        raise WriteFailed(f"{shown}: the line could not be written: {exc.strerror or exc}") from None


def write_started(repo_root: Path | str, started: Event, config: ConfigReader | None = None) -> str:
    """Create the record file with its whole `started` line; OpExists if it is there.

    The line is written to a temporary file first and linked into place, so a
    record file never exists without its complete first line. Secrets in it
    are redacted first (in `started` itself, when it is a dict; `config` reads
    the redact settings, see `kitty_ops.store.redaction`).
    """
    op_id = _op_id(started)
    started = _redacted([started], f"Op {op_id} (started)", repo_root, config)[0]
    ensure_events_dir(repo_root)
    path = safe_record_file(repo_root, op_id)
    name = os.path.basename(path)
    temporary = f".{name}.{os.getpid()}.tmp"
    fd = safefs.open_in_events_dir(repo_root, temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    try:
        try:
            write_all(fd, _lines([started]), f"{EVENTS_DIR}/{name}")
        finally:
            os.close(fd)
        _link_into_place(repo_root, temporary, name, op_id)
    finally:
        _unlink_in_events_dir(repo_root, temporary)
    return path


def _link_into_place(repo_root: Path | str, temporary: str, name: str, op_id: str) -> None:
    directory = safefs.open_events_dir(repo_root)
    try:
        os.link(temporary, name, src_dir_fd=directory, dst_dir_fd=directory, follow_symlinks=False)
    except FileExistsError:
        raise OpExists(f"{op_id}: a record with this id already exists") from None
    finally:
        os.close(directory)


def _unlink_in_events_dir(repo_root: Path | str, name: str) -> None:
    try:
        directory = safefs.open_events_dir(repo_root)
    except OSError:
        return
    try:
        os.unlink(name, dir_fd=directory)
    except FileNotFoundError:
        pass
    finally:
        os.close(directory)


def _open_for_append(repo_root: Path | str, op_id: str) -> int:
    path = safe_record_file(repo_root, op_id)
    try:
        return safefs.open_in_events_dir(repo_root, os.path.basename(path), os.O_RDWR | os.O_APPEND)
    except FileNotFoundError:
        raise UnknownOp(f"{op_id}: no such Op (no {EVENTS_DIR}/{op_id}.jsonl)") from None


def _append_locked(
    repo_root: Path | str, op_id: str, lines: bytes, check: Callable[[RecordScan], None]
) -> dict[str, Any]:
    """Append `lines` under an exclusive lock after `check(scan)` accepts the record.

    Returns the record's started event.
    """
    fd = _open_for_append(repo_root, op_id)
    try:
        with hold_fd(fd, COMPLETION_LOCK_SECONDS):
            data = safefs.read_fd(fd)
            scan = scan_record(data, op_id)
            check(scan)
            if data and not data.endswith(b"\n"):
                lines = b"\n" + lines  # never glue onto a torn line
            write_all(fd, lines, f"{EVENTS_DIR}/{op_id}.jsonl")
            assert scan.started is not None  # `check` accepts only a record that has one
            return scan.started
    except LockTimeout:
        raise KittyOpsError(f"{op_id}: the record is locked by another process") from None
    finally:
        os.close(fd)


def write_completed(repo_root: Path | str, completed: Event, links: Iterable[Event] = (),
                    config: ConfigReader | None = None) -> dict[str, Any]:
    """Append the `completed` line (and any links) once; AlreadyCompleted after.
    Secrets in them are redacted first (in the dicts themselves, see `write_started`).

    Returns the record's started event.
    """
    op_id = _op_id(completed)
    lines = _lines(_redacted([completed, *links], f"Op {op_id} (completed)", repo_root, config))

    def check(scan: RecordScan) -> None:
        if scan.started is None:
            raise InvalidInput(f"{op_id}: the record has no started event; it cannot be completed")
        if scan.completed is not None:
            raise AlreadyCompleted(
                f"{op_id}: already completed ({scan.completed.get('outcome', '?')})"
            )

    return _append_locked(repo_root, op_id, lines, check)


def _op_id(event: Event) -> str:
    return event["invocation_id"] if isinstance(event, dict) else event.invocation_id


def _redacted(events: list[Event], what: str, repo_root: Path | str, config: ConfigReader | None) -> list[Event]:
    """The events as dicts, their secrets redacted (`kitty_ops.store.redaction`)."""
    dicts = [event if isinstance(event, dict) else event.model_dump(mode="json", exclude_none=True)
             for event in events]
    redact_events(repo_root, dicts, what, config)
    return dicts


def _lines(events: Iterable[Event]) -> bytes:
    """Event dicts (`kitty_ops.format.events`) or models (`kitty_ops.record`) as lines."""
    return b"".join(to_line(event) if isinstance(event, dict) else event.to_line() for event in events)
