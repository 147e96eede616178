"""The Op commits in history (`git log --grep='^op('`), joined with their records.

An Op commit names its Op in the trailer `Op-Id: <ULID>`; older ones only by
the `[id8]` of their subject, matched against the record files they changed.
"""
from __future__ import annotations

import re
from pathlib import Path

from kitty_ops.format.layout import EVENTS_DIR, RECORDS_REF, op_id_from_path
from kitty_ops.format.scan import parse_timestamp, read_scan, scan_record
from kitty_ops.format.ulid import is_ulid
from kitty_ops.gitio import git
from kitty_ops.store import refstore

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

SUBJECT = re.compile(r"^op\((?P<profile>[^)]*)\): (?P<action>.*) \[(?P<id8>[0-9A-Z]{8})\]$")
_RECORD_SEPARATOR, _FIELD_SEPARATOR = "\x1e", "\x1f"


def op_commits(repo_root: Path | str, *, profile_id: str | None = None, mission_id: str | None = None,
               since: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Op commits, newest first, each with its record's outcome and duration."""
    root = Path(repo_root)
    fields = _FIELD_SEPARATOR.join(("%H", "%aI", "%s", "%(trailers:key=Op-Id,valueonly,separator=%x2C)"))
    args = ["log", "--grep=^op(", f"--format={_RECORD_SEPARATOR}{fields}", "--name-only"]
    if since:
        args.append(f"--since={since}")
    copies = refstore.elsewhere(root)  # ref mode: Op commits on the records ref, and its records
    if copies is not None:
        args += ["HEAD", RECORDS_REF] if _has_ref(root, RECORDS_REF) else []
    raw = git.run(args, root, check=False).stdout.decode(errors="replace")
    found = []
    for chunk in raw.split(_RECORD_SEPARATOR)[1:]:
        entry = _entry(root, chunk, copies)
        if entry is None or (profile_id and entry["profile_id"] != profile_id):
            continue
        if mission_id and entry["mission_id"] != mission_id:
            continue
        found.append(entry)
        if limit is not None and len(found) >= limit:
            break
    return found


def _has_ref(root: Path, ref: str) -> bool:
    return git.run(["rev-parse", "-q", "--verify", ref], root, check=False).returncode == 0


def _entry(root: Path, chunk: str, copies: refstore.Copies | None = None) -> dict[str, Any] | None:
    header, _, files = chunk.partition("\n")
    sha, date, subject, trailer = header.split(_FIELD_SEPARATOR, 3)
    match = SUBJECT.match(subject)
    if match is None:
        return None  # mentions op( in its body only
    trailer = trailer.split(",")[0].strip()
    op_id = trailer if is_ulid(trailer) and trailer.startswith(match["id8"]) else next(
        (op_id for op_id in map(op_id_from_path, files.split())
         if op_id and op_id.startswith(match["id8"])),
        None,
    )
    started, completed = _record(root, op_id, copies)
    return {
        "commit": sha,
        "date": date,
        "subject": subject,
        "invocation_id": op_id,
        "profile_id": match["profile"],
        "action": match["action"],
        "outcome": completed.get("outcome"),
        "closed_by": completed.get("closed_by"),
        "duration_seconds": _duration(started, completed),
        "mission_id": started.get("mission_id"),
        "wp_id": started.get("wp_id"),
    }


def _record(
    root: Path, op_id: str | None, copies: refstore.Copies | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    if op_id is None:
        return {}, {}
    if copies is not None and op_id in copies.records:
        scan = scan_record(copies.records[op_id], op_id)
    else:
        scan = read_scan(root / EVENTS_DIR / f"{op_id}.jsonl", op_id)
    return scan.started or {}, scan.completed or {}


def _duration(started: dict[str, Any], completed: dict[str, Any]) -> float | None:
    begin = parse_timestamp(started.get("started_at"))
    end = parse_timestamp(completed.get("completed_at"))
    return None if begin is None or end is None else round((end - begin).total_seconds(), 3)
