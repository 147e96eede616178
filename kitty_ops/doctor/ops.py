"""`kitty-ops doctor ops`: orphans, pending records and invalid records.

- orphan: started, never completed (a crashed session); never committed. Its
  owner is `running`, `dead` (stale at once) or `unknown` (judged by age).
- pending: completed, but its record in the work tree is not what HEAD has.
- invalid: a record file that cannot be read as an Op record, with the reason;
  and any link or special file where kitty-ops keeps its files (the directory,
  `.gitattributes`, `lifecycle.jsonl`, the index, the error log).

What counts as an orphan, pending, stale or invalid is decided in `kitty_ops.format.rules`.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

from kitty_ops.errors import UnsafePath
from kitty_ops.format import rules, safefs
from kitty_ops.format.layout import (
    EVENTS_DIR,
    LOCAL_PATHS,
    RECORD_SUFFIX,
    RECORDS_REF,
    SHARED_PATHS,
    op_id_from_name,
    op_id_from_path,
)
from kitty_ops.format.safefs import unsafe_reason
from kitty_ops.format.scan import RecordScan, age_hours, read_scan
from kitty_ops.gitio import git
from kitty_ops.lifecycle.owners import DEAD, UNKNOWN, OwnerStates
from kitty_ops.lifecycle.threshold import max_age_hours
from kitty_ops.system.clock import age_text

DEFAULT_STALE_HOURS = rules.DEFAULT_STALE_HOURS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from kitty_ops.doctor.cache import KnownRecords
    from kitty_ops.store.untracked import UntrackedCache


def _names(root: Path) -> list[str]:
    """The names in `kitty-ops/` (none when it is absent or a link: nothing is
    read through it, `unsafe_files` says so)."""
    try:
        directory = safefs.open_events_dir(root)
    except (OSError, UnsafePath):
        return []
    try:
        return os.listdir(directory)
    except OSError:
        return []
    finally:
        os.close(directory)


def _scan_all(root: Path, survey: Survey | None = None) -> Iterator[tuple[str, RecordScan]]:
    """Every record file in `kitty-ops/` that must be read, one at a time:
    memory stays flat whatever the records hold; callers sort findings.
    Committed records known completed and valid are skipped (see
    `kitty_ops.doctor.cache`)."""
    survey = survey or Survey(root)
    known, events = survey.known, str(root / EVENTS_DIR)
    names = survey.names
    if known is not None:
        names = known.to_read(names, survey.candidates, survey.names_to_read)
    records, now_ns = survey.records, time.time_ns()
    for name in names:
        op_id = op_id_from_name(name)
        if op_id is None:
            continue
        path = os.path.join(events, name)
        if known is not None and known.to_learn(name):
            yield op_id, known.read(path, op_id, name)
        elif records is not None:
            yield op_id, records.scan(path, op_id, now_ns)
        else:
            yield op_id, read_scan(path, op_id)
    if known is not None:
        known.save()
    if records is not None:
        records.save()


class Survey:
    """What git and the directory say, asked once for a whole report: the ids of
    the pending candidates (`candidates`), the names in `kitty-ops/` (`names`),
    and the cache of committed records known good (`known`; None in ref mode or
    outside git). git's queries run while the cache is read and the directory listed.

    In branch mode, when the index's cache tree proves it holds HEAD's files
    under `kitty-ops/` (`kitty_ops.gitio.stagedtree`), nothing is staged there and the
    untracked records are the listed names that HEAD's tree lacks (the cache
    knows its entries): only `git diff-files` is asked, not `ls-files --others`
    or `diff --cached`, which each read the whole index."""

    def __init__(self, root: Path) -> None:
        from kitty_ops.format.layout import TARGET_CONFIG
        from kitty_ops.opcommit.commit import target_ref
        from kitty_ops.store.untracked import UntrackedCache

        self.known: KnownRecords | None = None
        self.records: UntrackedCache | None = None  # what unchanged records say
        self.names_to_read = False  # `names` holds only the files to read, not the whole directory
        repo = git.find_repo(root)
        if repo is None:  # outside git nothing is committed
            self.names = _names(root)
            self.candidates = {op_id for op_id in map(op_id_from_name, self.names) if op_id}
            return
        ref = target_ref(git.config_values(root, [TARGET_CONFIG]))
        self.records = UntrackedCache(repo.git_path, repo.top)
        if ref is not None:  # in ref mode the records are not in HEAD: nothing is skipped
            pending = _Background(_pending, repo, ref)
            self.names = _names(root)
            self.candidates = _ids(pending.result())
            return
        self._survey_branch(root, repo)

    def _survey_branch(self, root: Path, repo: git.Repo) -> None:
        from kitty_ops.doctor.cache import KnownRecords
        from kitty_ops.gitio import stagedtree

        tree, proved = stagedtree.head_events_tree(repo.git_path, repo.common_path, repo.top, git.repo_env(repo))
        self.known = known = KnownRecords(repo)
        if not proved:
            pending = _Background(_pending, repo, None)
            known.load(tree)
            self.names = _names(root)
            self.candidates = _ids(pending.result())
            return
        changed = _Background(_changed, repo)
        known.load(tree)
        assert self.records is not None
        if known.complete and self.records.holds(tree):
            untracked = self.records.untracked([], [])
            self.candidates = _ids(changed.result()) | _ids(untracked)
            self.names, self.names_to_read = self._present(root, untracked, known), True
            return
        listed = self._list(root, tree, known)
        self.candidates = _ids(changed.result()) | listed

    def _list(self, root: Path, tree: str | None, known: KnownRecords) -> set[str]:
        """List `kitty-ops/`; the ids of its untracked records (those HEAD's tree
        lacks), remembered in the untracked cache when the directory held still."""
        from kitty_ops.store.untracked import lstat

        events = str(root / EVENTS_DIR)
        before, listing_started = lstat(events), time.time_ns()
        self.names = _names(root)
        if not known.complete:  # the cache could not learn HEAD's entries: git lists them
            return _ids(_pending(known.repo, None))
        committed = known.entries()
        untracked = [f"{EVENTS_DIR}/{name}" for name in self.names
                     if name not in committed and op_id_from_name(name)]
        assert self.records is not None
        self.records.remember_listing(before, listing_started, tree, untracked, [])
        return _ids(untracked)

    def _present(self, root: Path, untracked: list[str], known: KnownRecords) -> list[str]:
        """The names of `kitty-ops/` that may need reading, without listing it: the
        untracked records, the committed ones not known good, and the changed
        ones, each still there (the others are committed, known good, unchanged)."""
        names = [path.rpartition("/")[2] for path in untracked]
        others = {f"{op_id}{RECORD_SUFFIX}" for op_id in self.candidates} | set(known.unknown)
        events = root / EVENTS_DIR
        names += [name for name in others - set(names) if os.path.lexists(events / name)]
        return names


def _pending(repo: git.Repo, ref: str | None) -> list[str]:
    from kitty_ops.opcommit.commit import pending_paths

    return pending_paths(repo, ref, True)


def _changed(repo: git.Repo) -> list[str]:
    """The tracked files under kitty-ops/ whose work-tree file differs from the index (by stat data)."""
    raw = git.run(["diff-files", "--name-only", "-z", "--", f":(top){EVENTS_DIR}/"], repo.top,
                  env=git.repo_env(repo)).stdout
    return git.split_z(raw)


def _ids(paths: list[str]) -> set[str]:
    return {op_id for op_id in map(op_id_from_path, paths) if op_id}


class _Background:
    """`pending_paths(repo, ref)` run in a thread (git's queries wait on pipes,
    so the caller's own work goes on meanwhile); `result()` returns or raises
    what it did."""

    def __init__(self, function: Callable[..., list[str]], *args: object) -> None:
        import threading

        self._value: list[str] = []
        self._error: BaseException | None = None

        def work() -> None:
            try:
                self._value = function(*args)
            except BaseException as exc:  # handed to the caller by result()
                self._error = exc

        self._thread = threading.Thread(target=work, daemon=True)
        self._thread.start()

    def result(self) -> list[str]:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


def list_orphan_ops(repo_root: Path | str) -> list[Path]:
    """The Op files in `kitty-ops/` that have a started and no completed event."""
    root = Path(repo_root)
    return sorted(
        root / EVENTS_DIR / f"{op_id}.jsonl"
        for op_id, scan in _scan_all(root)
        if rules.is_orphan(scan)
    )


def op_entry(op_id: str, scan: RecordScan, now: datetime) -> dict[str, Any]:
    """The JSON shape of an orphan or pending Op."""
    started_at = scan.started.get("started_at") if scan.started else None
    started_at = started_at if isinstance(started_at, str) else None
    age = age_hours(started_at, now)
    return {
        "invocation_id": op_id,
        "path": f"{EVENTS_DIR}/{op_id}.jsonl",
        "profile_id": scan.field("profile_id"),
        "action": scan.field("action"),
        "started_at": started_at,
        "age_hours": age,
    }


def find_pending(
    repo_root: Path | str, now: datetime | None = None, candidates: set[str] | None = None
) -> list[dict[str, Any]]:
    """Completed records that are not committed as they are (to HEAD or, in
    ref mode, the records ref); `candidates`: the ids to look at, when known."""
    root = Path(repo_root)
    now = now or datetime.now(timezone.utc)
    pending = []
    for op_id in sorted(Survey(root).candidates if candidates is None else candidates):
        scan = read_scan(root / EVENTS_DIR / f"{op_id}.jsonl", op_id)
        if rules.is_committable(scan):
            pending.append(op_entry(op_id, scan, now))
    return pending


def doctor_report(repo_root: Path | str, now: datetime | None = None) -> dict[str, Any]:
    """`{"orphans": [...], "pending": [...], "invalid": [...]}` for the repository."""
    root = Path(repo_root)
    now = now or datetime.now(timezone.utc)
    orphans, pending, invalid = [], [], unsafe_files(root)
    owners = OwnerStates(root)
    survey = Survey(root)
    for op_id, scan in _scan_all(root, survey):  # every pending candidate among them
        if not scan.is_valid:
            invalid.append({"path": f"{EVENTS_DIR}/{op_id}.jsonl", "error": "; ".join(scan.problems)})
        elif rules.is_orphan(scan):
            state, detail = owners.assess(op_id)
            orphans.append({**op_entry(op_id, scan, now), "owner_state": state, "owner_detail": detail})
        elif op_id in survey.candidates and rules.is_committable(scan):
            pending.append(op_entry(op_id, scan, now))
    for found, key in ((orphans, "invocation_id"), (pending, "invocation_id"), (invalid, "path")):
        found.sort(key=lambda entry: entry[key])
    return {"orphans": orphans, "pending": pending, "invalid": invalid}


def unsafe_files(root: Path) -> list[dict[str, Any]]:
    """Invalid entries for `kitty-ops/` itself, or its shared and local files, when
    one is a link or a special file (never read, written or committed through)."""
    reason = unsafe_reason(root / EVENTS_DIR)  # None: absent; "a directory": as it should be
    if reason is None:
        return []
    if reason != "a directory":
        return [{"path": f"{EVENTS_DIR}/", "error": f"is {reason}; kitty-ops does not work through it"}]
    found = []
    for path in (*SHARED_PATHS, *LOCAL_PATHS):
        reason = unsafe_reason(root / path)
        if reason is not None:
            found.append({"path": path, "error": f"is {reason}; kitty-ops opens regular files only"})
    return found


def stale_locks(repo_root: Path | str) -> list[dict[str, Any]]:
    """Locks left by a killed kitty-ops: `{"path", "command"}` each. The
    index.lock it held names its pid; the lock of HEAD's branch, which an Op
    commit takes while it holds index.lock, goes with a stale index.lock; the
    lock of the records ref is only ever taken under kitty-ops' commit lock, so
    it is stale when nobody holds that."""
    from kitty_ops.gitio.gitlock import stale_lock

    repo = git.find_repo(repo_root)
    if repo is None:
        return []
    found = []
    index_lock = stale_lock(repo.git_path)
    if index_lock is not None:
        found.append(index_lock)
        branch = git.head_branch(repo)
        branch_lock = os.path.join(repo.common_path, f"{branch}.lock") if branch else None
        if branch_lock and os.path.lexists(branch_lock):
            found.append(branch_lock)
    records_lock = os.path.join(repo.common_path, f"{RECORDS_REF}.lock")
    if os.path.lexists(records_lock) and not _commit_lock_held(repo):
        found.append(records_lock)
    return [{"path": path, "command": f"rm {path}"} for path in found]


def _commit_lock_held(repo: git.Repo) -> bool:
    from kitty_ops.opcommit.commit import COMMIT_LOCK_NAME
    from kitty_ops.system.lock import LockTimeout, hold_file

    try:
        with hold_file(os.path.join(repo.common_path, COMMIT_LOCK_NAME), 0.0):
            return False
    except LockTimeout:
        return True


def next_command(kind: str, entry: dict[str, Any]) -> str:
    """The command that settles an `orphans`, `in_progress` or `pending` entry of the report."""
    if kind == "in_progress":
        return "(wait for it; its owner completes it)"
    if kind == "orphans":
        return f"kitty-ops complete {entry['invocation_id']} --outcome abandoned"
    return f"kitty-ops commit {entry['invocation_id']}"


def is_stale(entry: dict[str, Any], threshold_hours: float) -> bool:
    """Its owner is gone; or, owner unknown, older than the threshold or of
    unreadable age. An Op whose owner runs is never stale, however old."""
    state = entry.get("owner_state", UNKNOWN)
    if state != UNKNOWN:
        return state == DEAD
    return rules.is_stale(entry["age_hours"], threshold_hours)


def stale_because(entry: dict[str, Any]) -> str:
    if entry.get("owner_state") == DEAD:
        return entry["owner_detail"]
    return "start time unreadable" if entry["age_hours"] is None else f"open {age_text(entry['age_hours'])}"


def close_stale(
    repo_root: Path | str, threshold_hours: float | None = None, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Complete every stale orphan (`is_stale`: its owner gone, or of unknown
    owner and older than `threshold_hours`, default `git config
    kitty-ops.maxAgeHours`, else 24) as abandoned by the doctor sweep, each
    through the normal completion path (so each gets its Op commit). One entry
    per stale orphan: its fields plus `result` (`closed`, `already closed` or
    `error`), `commit` and `detail`. One bad record never stops the sweep."""
    from kitty_ops.errors import AlreadyCompleted, KittyOpsError
    from kitty_ops.lifecycle.executor import complete_invocation

    root = Path(repo_root)
    now = now or datetime.now(timezone.utc)
    threshold_hours = max_age_hours(root, threshold_hours)
    results = []
    for entry in doctor_report(root, now)["orphans"]:
        if not is_stale(entry, threshold_hours):
            continue
        why = stale_because(entry)
        outcome = {**entry, "stale_because": why, "commit": None, "detail": None}
        try:
            completion = complete_invocation(
                root, entry["invocation_id"], "abandoned", closed_by="doctor_sweep",
                evidence_ref=f"kitty-ops doctor ops --close-stale ({why})",
            )
        except AlreadyCompleted:
            outcome.update(result="already closed", detail="completed by another process meanwhile")
        except (KittyOpsError, OSError) as exc:
            outcome.update(result="error", detail=str(exc))
        else:
            outcome.update(result="closed", commit=completion.commit, detail=completion.pending_reason)
        results.append(outcome)
    return results
