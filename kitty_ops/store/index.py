"""The ops index, `kitty-ops/ops-index.jsonl`: one line per started Op, local only.

It is a cache: every reader works without it, only slower. It is fresh when
it was written after the last change to the `kitty-ops/` directory (a record
created, or records checked out by git); otherwise readers use the files and
`kitty-ops reindex` rebuilds it. It is never read or written through a link
(`kitty_ops.format.safefs`): a cloned repository may carry one.
"""
from __future__ import annotations

import os
import stat

from kitty_ops.errors import UnsafePath
from kitty_ops.format import jsontext, safefs
from kitty_ops.format.layout import EVENTS_DIR, INDEX_PATH, op_id_from_name
from kitty_ops.format.scan import read_scan
from kitty_ops.format.ulid import is_ulid
from kitty_ops.system import files
from kitty_ops.system.warn import warn

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path
    from typing import Any

INDEX_NAME = INDEX_PATH.rsplit("/", 1)[1]

INDEX_FIELDS = ("invocation_id", "profile_id", "action", "started_at", "mission_id", "wp_id")
_BLOCK = 1 << 16


def index_entry(started: dict[str, Any]) -> dict[str, Any]:
    return {name: started[name] for name in INDEX_FIELDS if started.get(name) is not None}


def _line(started: dict[str, Any]) -> bytes:
    return jsontext.dumps(index_entry(started)).encode() + b"\n"


def append_entry(repo_root: Path | str, started: dict[str, Any]) -> bool:
    """Append the index line of a started Op; a failure is logged, never raised."""
    try:
        fd = safefs.open_in_events_dir(repo_root, INDEX_NAME, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            os.write(fd, _line(started))
        finally:
            os.close(fd)
    except UnsafePath as exc:
        warn("did not update the index: %s", exc)
        return False
    except OSError as exc:
        warn("could not update %s: %s (run `kitty-ops reindex`)", INDEX_PATH, exc.strerror or exc)
        return False
    return True


def is_fresh(repo_root: Path | str) -> bool:
    """True when the index was written after the last change to `kitty-ops/`."""
    try:
        index_stat = os.lstat(os.path.join(repo_root, INDEX_PATH))
        directory_stat = os.lstat(os.path.join(repo_root, EVENTS_DIR))
    except OSError:
        return False
    if not stat.S_ISREG(index_stat.st_mode) or not stat.S_ISDIR(directory_stat.st_mode):
        return False  # a link or a special file is no index: readers use the files
    return index_stat.st_mtime_ns >= directory_stat.st_mtime_ns


def read_reverse(repo_root: Path | str) -> Iterator[dict[str, Any]]:
    """Index entries, newest first, reading the file backwards block by block."""
    try:
        handle = os.fdopen(safefs.open_in_events_dir(repo_root, INDEX_NAME, os.O_RDONLY), "rb")
    except (OSError, UnsafePath):  # a link is never read
        return
    with handle:
        position = handle.seek(0, os.SEEK_END)
        tail = b""
        while position > 0:
            step = min(_BLOCK, position)
            position -= step
            handle.seek(position)
            lines = (handle.read(step) + tail).split(b"\n")
            tail = lines.pop(0)
            yield from _decode_reversed(lines)
        yield from _decode_reversed([tail])


def _decode_reversed(lines: list[bytes]) -> Iterator[dict[str, Any]]:
    for raw in reversed(lines):
        if not raw.strip():
            continue
        try:
            entry = jsontext.loads(raw)
        except ValueError:
            continue
        if isinstance(entry, dict) and is_ulid(entry.get("invocation_id")):
            yield entry


def iter_record_ids(repo_root: Path | str) -> Iterator[str]:
    """Ids of the record files in `kitty-ops/`, in directory order, one at a time
    (none when `kitty-ops/` is a link: nothing is read through it)."""
    try:
        directory = safefs.open_events_dir(repo_root)
    except (OSError, UnsafePath):
        return
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                op_id = op_id_from_name(entry.name)
                if op_id is not None:
                    yield op_id
    except OSError:
        return
    finally:
        os.close(directory)


def record_ids(repo_root: Path | str) -> list[str]:
    """Ids of every record file in `kitty-ops/`, oldest first (ULIDs sort by time)."""
    return sorted(iter_record_ids(repo_root))


def rebuild(repo_root: Path | str) -> int:
    """Write the index anew from the record files; the number of entries.

    An invalid record (a link, a FIFO, a bad line) gets an entry with its id
    alone, so that `list` shows it as invalid and copies none of its fields. The new
    index is written to a temporary file and renamed over the old one inside
    the directory's descriptor, so a symlinked index is replaced, never written
    through; UnsafePath when `kitty-ops/` itself is a link.
    """
    from pathlib import Path

    root = Path(repo_root)
    lines = []
    for op_id in record_ids(root):
        scan = read_scan(root / EVENTS_DIR / f"{op_id}.jsonl", op_id)
        lines.append(_line(scan.started if scan.started is not None and scan.is_valid else {"invocation_id": op_id}))
    directory = safefs.open_events_dir(root)
    try:
        files.write_atomically(INDEX_NAME, b"".join(lines), dir_fd=directory)
    finally:
        os.close(directory)
    return len(lines)
