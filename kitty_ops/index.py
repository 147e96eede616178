"""The ops index, `kitty-ops/ops-index.jsonl`: one line per started Op, local only.

It is a cache: every reader works without it, only slower. It is fresh when
it was written after the last change to the `kitty-ops/` directory (a record
created, or records checked out by git); otherwise readers use the files and
`kitty-ops reindex` rebuilds it.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

from kitty_ops.layout import EVENTS_DIR, INDEX_PATH, op_id_from_name
from kitty_ops.scan import read_scan
from kitty_ops.warn import warn

INDEX_FIELDS = ("invocation_id", "profile_id", "action", "started_at", "mission_id", "wp_id")
_BLOCK = 1 << 16


def index_entry(started: dict) -> dict:
    return {name: started[name] for name in INDEX_FIELDS if started.get(name) is not None}


def _line(started: dict) -> bytes:
    return json.dumps(index_entry(started)).encode() + b"\n"


def append_entry(repo_root: Path | str, started: dict) -> bool:
    """Append the index line of a started Op; a failure is logged, never raised."""
    try:
        with open(Path(repo_root) / INDEX_PATH, "ab") as handle:
            handle.write(_line(started))
    except OSError as exc:
        warn("could not update %s: %s (run `kitty-ops reindex`)", INDEX_PATH, exc.strerror or exc)
        return False
    return True


def is_fresh(repo_root: Path | str) -> bool:
    """True when the index was written after the last change to `kitty-ops/`."""
    try:
        index_time = os.stat(Path(repo_root) / INDEX_PATH).st_mtime_ns
        directory_time = os.stat(Path(repo_root) / EVENTS_DIR).st_mtime_ns
    except OSError:
        return False
    return index_time >= directory_time


def read_reverse(repo_root: Path | str) -> Iterator[dict]:
    """Index entries, newest first, reading the file backwards block by block."""
    try:
        handle = open(Path(repo_root) / INDEX_PATH, "rb")
    except OSError:
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


def _decode_reversed(lines: list[bytes]) -> Iterator[dict]:
    for raw in reversed(lines):
        if not raw.strip():
            continue
        try:
            entry = json.loads(raw)
        except ValueError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("invocation_id"), str):
            yield entry


def iter_record_ids(repo_root: Path | str) -> Iterator[str]:
    """Ids of the record files in `kitty-ops/`, in directory order, one at a time."""
    try:
        entries = os.scandir(Path(repo_root) / EVENTS_DIR)
    except OSError:
        return
    with entries:
        for entry in entries:
            op_id = op_id_from_name(entry.name)
            if op_id is not None:
                yield op_id


def record_ids(repo_root: Path | str) -> list[str]:
    """Ids of every record file in `kitty-ops/`, oldest first (ULIDs sort by time)."""
    return sorted(iter_record_ids(repo_root))


def rebuild(repo_root: Path | str) -> int:
    """Write the index anew from the record files; the number of entries."""
    root = Path(repo_root)
    lines = []
    for op_id in record_ids(root):
        scan = read_scan(root / EVENTS_DIR / f"{op_id}.jsonl", op_id)
        if scan.started is not None:
            lines.append(_line(scan.started))
    temporary = root / f"{INDEX_PATH}.tmp{os.getpid()}"
    temporary.write_bytes(b"".join(lines))
    os.replace(temporary, root / INDEX_PATH)
    return len(lines)
