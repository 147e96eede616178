"""Finding Ops to show: newest first, from the index when it is fresh, else the files."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from kitty_ops.format import rules
from kitty_ops.format.layout import EVENTS_DIR
from kitty_ops.format.safefs import unsafe_reason
from kitty_ops.format.scan import RecordScan, read_scan, scan_record
from kitty_ops.lifecycle.owners import OwnerStates
from kitty_ops.store import index, refstore

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

INDEXED_FILTERS = ("profile_id", "mission_id", "wp_id")


status_of = rules.op_status  # invalid, open, or the outcome (`completed`: a legacy record without one)


def summarize(op_id: str, scan: RecordScan) -> dict[str, Any]:
    """The stable JSON shape of one Op in listings."""
    started = scan.started or {}
    completed = scan.completed or {}
    return {
        "invocation_id": op_id,
        "path": f"{EVENTS_DIR}/{op_id}.jsonl",
        "profile_id": scan.field("profile_id") if scan.started else None,
        "action": scan.field("action") if scan.started else None,
        "started_at": started.get("started_at") if isinstance(started.get("started_at"), str) else None,
        "status": status_of(scan),
        "completed_at": completed.get("completed_at"),
        "closed_by": completed.get("closed_by"),
        "actor": started.get("actor"),
        "mission_id": started.get("mission_id"),
        "wp_id": started.get("wp_id"),
    }


def _candidates(root: Path) -> Iterator[tuple[str, dict[str, Any] | None]]:
    """(op id, index entry or None), newest first."""
    if index.is_fresh(root):
        seen: set[str] = set()
        for entry in index.read_reverse(root):
            op_id = entry["invocation_id"]
            if op_id not in seen:
                seen.add(op_id)
                yield op_id, entry
    else:
        for op_id in reversed(index.record_ids(root)):
            yield op_id, None


def list_ops(repo_root: Path | str, limit: int | None = None, *, profile_id: str | None = None,
             mission_id: str | None = None, wp_id: str | None = None, status: str | None = None,
             ) -> list[dict[str, Any]]:
    """Summaries of the Ops that match every filter given, newest first; an
    open Op's summary has its `owner_state` (`kitty_ops.lifecycle.owners`), others None.

    `status` is `open` or an outcome (`done`, `failed`, `abandoned`).
    """
    root = Path(repo_root)
    wanted = {"profile_id": profile_id, "mission_id": mission_id, "wp_id": wp_id}
    wanted = {name: value for name, value in wanted.items() if value is not None}
    if status is not None:
        wanted["status"] = status
    found = []
    owners = OwnerStates(root)
    copies = refstore.elsewhere(root)  # ref mode: the records refs hold count too
    candidates = ((op_id, None) for op_id in sorted(copies.records, reverse=True)) if copies else _candidates(root)
    for op_id, entry in candidates:
        if entry is not None and not _matches(entry, wanted, INDEXED_FILTERS):
            continue
        if copies is not None:
            scan = scan_record(copies.records[op_id], op_id)
        else:
            path = root / EVENTS_DIR / f"{op_id}.jsonl"
            if unsafe_reason(path) is None and not path.is_file():
                continue  # indexed, but not on this branch (a link or a FIFO is listed: invalid)
            scan = read_scan(path, op_id)
        summary = summarize(op_id, scan)
        if not _matches(summary, wanted, wanted):
            continue
        summary["owner_state"] = owners.assess(op_id)[0] if summary["status"] == "open" else None
        found.append(summary)
        if limit is not None and len(found) >= limit:
            break
    return found


def _matches(values: dict[str, Any], wanted: dict[str, Any], names: Iterable[str]) -> bool:
    return all(values.get(name) == wanted[name] for name in names if name in wanted)
