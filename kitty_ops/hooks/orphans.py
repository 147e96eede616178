"""kitty-ops-orphans: a pre-commit hook that keeps open Ops out of history.

It blocks a commit that stages an Op record with no `completed` event (the
staged content, not the working file), and a commit made while an orphan is
stale (its owner is gone, or, owner unknown, older than --max-age-hours);
fresh orphans and Ops whose owner runs are named as a warning. It also blocks
the deletion or renaming of a committed record or of `lifecycle.jsonl`
(`kitty_ops.hooks.removals`): pre-commit passes deleted files to no hook, and this
is the hook that runs on every commit. It asks git
only for what is staged or untracked under `kitty-ops/` (the untracked
listing remembered while the directory does not change, `kitty_ops.store.untracked`),
and it imports nothing heavier than the standard library: it runs on every
commit. What is staged is asked of git only when the index's cache tree does
not prove that nothing under `kitty-ops/` is (`kitty_ops.gitio.stagedtree`).
"""
from __future__ import annotations

import sys
import time

from kitty_ops.errors import InvalidInput
from kitty_ops.format import rules
from kitty_ops.format.layout import EVENTS_DIR, op_id_from_path
from kitty_ops.format.scan import RecordScan, age_hours, read_scan, scan_record
from kitty_ops.gitio import busy, git, stagedtree
from kitty_ops.gitio.gitdirs import git_dirs
from kitty_ops.hooks import remedies, removals
from kitty_ops.lifecycle import threshold
from kitty_ops.lifecycle.owners import DEAD, RUNNING, UNKNOWN, OwnerStates
from kitty_ops.settings import MAX_AGE_HOURS_CONFIG
from kitty_ops.store.untracked import UntrackedCache, lstat
from kitty_ops.system.clock import age_text, datetime, timezone

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

DEFAULT_MAX_AGE_HOURS = rules.DEFAULT_STALE_HOURS
# `top`: from the top of the work tree, wherever git runs the hook; `literal`:
# the name as written, whatever --glob-pathspecs says (git.PATHSPEC_VARIABLES).
_PATHSPEC = f":(top,literal){EVENTS_DIR}/"


def start_staged_query() -> git.Running:
    """Ask git, without waiting, what the index changes under kitty-ops/ (against HEAD),
    renames found (`removals` reads them)."""
    return git.start(["diff", "--cached", "--name-status", "-z", "-M", "--no-color", "--no-relative",
                      "--", _PATHSPEC])


class Staged:
    """What the index changes under kitty-ops/: record paths staged as added or
    modified (a rename's new name included), those added, those deleted (a
    rename's old name included), and `removed`: committed records or
    `lifecycle.jsonl` deleted or renamed, with what undoes it."""

    def __init__(self, fields: list[str] | None = None) -> None:
        self.staged: list[str] = []
        self.added: list[str] = []
        self.deleted: list[str] = []
        self.removed = removals.problems(fields) if fields else {}
        position = 0
        while fields and position < len(fields):
            status = fields[position][:1]
            count = 2 if status in "RC" else 1
            paths = fields[position + 1:position + 1 + count]
            position += 1 + count
            if status == "R" and len(paths) == 2:
                self._note("D", paths[0])
                self._note("A", paths[1])
            elif paths:
                self._note(status, paths[-1])

    def _note(self, status: str, path: str) -> None:
        if not op_id_from_path(path):
            return
        if status in ("A", "M", "C"):
            self.staged.append(path)
        if status in ("A", "C"):
            self.added.append(path)
        elif status == "D":
            self.deleted.append(path)


def finish_staged_query(running: git.Running) -> Staged:
    return Staged(git.split_z(git.finish(running)))


def start_untracked_query() -> git.Running:
    return git.start(["ls-files", "--others", "-z", "--", _PATHSPEC])


def _records(paths: list[str]) -> list[str]:
    return [path for path in paths if op_id_from_path(path)]


def _op_id(path: str) -> str:
    return op_id_from_path(path) or path


_UNSET = -1.0


def describe(path: str, scan: RecordScan, now: datetime, age: float | None = _UNSET, op_id: str = "") -> str:
    """`path: Op <id> (<profile>: <action>, started 2 h ago)`; `age` in hours, when known."""
    if age == _UNSET:
        age = age_hours(scan.started.get("started_at") if scan.started else None, now)
    shown_age = "start time unreadable" if age is None else f"started {age_text(age)} ago"
    return f"{path}: Op {op_id or _op_id(path)} ({scan.field('profile_id')}: {scan.field('action')}, {shown_age})"


def check_staged(paths: list[str], now: datetime, max_age_hours: float = DEFAULT_MAX_AGE_HOURS,
                 has_head: bool | None = None) -> list[str]:
    """Messages for staged records whose staged content has no completed event.

    Unstaging comes first: a fresh one is usually an Op in progress caught by
    `git add -A`; closing it is offered only when it is stale."""
    messages = []
    for spec, data in git.read_blobs(".", [f":{path}" for path in paths]).items():
        path = spec[1:]
        scan = scan_record(data or b"")
        if scan.completed is None:
            if has_head is None:  # asked only when there is something to unstage
                has_head = remedies.has_head()
            messages += [
                f"{describe(path, scan, now)} is staged but not completed.",
                f"  unstage it: {remedies.unstage_command(path, has_head)}",
            ]
            age = age_hours(scan.started.get("started_at") if scan.started else None, now)
            if scan.started is not None and (age is None or age > max_age_hours):
                messages.append(
                    f"  it is stale (open over {max_age_hours:g}h): close it:"
                    f" kitty-ops complete {_op_id(path)} --outcome abandoned"
                )
    return messages


def _close_stale_command(max_age_hours: float | None) -> str:
    """The sweep that closes what the hook calls stale, at the hook's own
    threshold; None: a dead Op, which the sweep closes at any age."""
    if max_age_hours is None:
        return "kitty-ops doctor ops --close-stale"
    return f"kitty-ops doctor ops --close-stale --threshold-hours {max_age_hours:g}"


def check_untracked(
    paths: list[str], max_age_hours: float, strict: bool, now: datetime,
    cache: UntrackedCache | None = None, owners: OwnerStates | None = None, in_progress: list[str] | None = None,
) -> tuple[list[str], list[str]]:
    """(blocking messages, warnings) for orphans among untracked records
    (read through `cache` when given: an unchanged file is not read again);
    the ids of Ops whose owner runs go to `in_progress` when it is given.

    An Op whose owner is gone is stale at once; one whose owner provably runs
    is never stale; one of unknown owner is stale when older than the threshold.
    """
    blocking, warnings = [], []
    owners = owners or OwnerStates()  # asked only once an open Op is met
    now_ns = time.time_ns()
    for path in paths:
        op_id = _op_id(path)
        scan = cache.scan(path, op_id, now_ns) if cache is not None else read_scan(path, op_id)
        if scan.started is None:
            continue  # not an Op yet (doctor lists it as invalid)
        if scan.completed is not None:
            if rules.is_committable(scan):  # an invalid one is doctor's: commit --pending leaves it
                warnings.append(
                    f"warning: {describe(path, scan, now)} is completed but not committed:"
                    " kitty-ops commit --pending"
                )
            continue
        age = age_hours(scan.started.get("started_at"), now)
        state, owner = owners.assess(op_id)
        if state == DEAD:
            why = f"is a dead orphan ({owner})"
        elif state == UNKNOWN and rules.is_stale(age, max_age_hours):
            why = f"is a stale orphan (open over {max_age_hours:g}h)"
        elif strict:
            why = "is an orphan (--strict)"
        elif state == RUNNING and in_progress is not None:
            in_progress.append(op_id)  # summed up in one line
            continue
        else:
            shown_owner = f" ({owner})" if state == RUNNING else ""
            warnings.append(f"warning: {describe(path, scan, now, age, op_id)} is still open{shown_owner}.")
            continue
        blocking.append(f"{describe(path, scan, now, age, op_id)} {why}.")
        if why.endswith("(--strict)"):  # it may still be running: never offer to abandon it
            blocking.append(f"  it may still be running: let it finish (kitty-ops complete {op_id}) first")
        elif scan.is_valid:
            blocking += [
                f"  close it: kitty-ops complete {op_id} --outcome abandoned",
                f"  or close every stale one: {_close_stale_command(None if state == DEAD else max_age_hours)}",
            ]
        else:  # the sweep leaves damaged records alone: they need a person
            blocking.append(
                f"  its record is damaged ({'; '.join(scan.problems)}): repair {path} by hand,"
                f" then close it: kitty-ops complete {op_id} --outcome abandoned"
            )
    return blocking, warnings


def _finish_staged(running: git.Running | None) -> Staged:
    return Staged() if running is None else finish_staged_query(running)


def find_orphan_problems(
    max_age_hours: float | None, strict: bool, now: datetime | None = None, verbose: bool = True,
) -> tuple[list[str], list[str]]:
    """(blocking messages, warnings) for the commit being made in the current repository.
    `max_age_hours` None: the configured threshold (`git config kitty-ops.maxAgeHours`).
    Without `verbose`, the Ops in progress (their owner runs) are one summary line.

    The untracked records come from `kitty_ops.store.untracked`'s cache while
    `kitty-ops/` and HEAD's tree are as they were when git last listed them,
    else from `git ls-files --others` (whose answer is then remembered)."""
    now = now or datetime.now(timezone.utc)
    config = threshold.start_query() if max_age_hours is None else None
    git_dir, common_dir = git_dirs()
    head = stagedtree.HeadQuery(git_dir, common_dir)  # git asked only when HEAD is packed
    cache = UntrackedCache(git_dir)
    tree, nothing_staged = head.finish()  # the index's cache tree proves nothing is staged under kitty-ops/
    staged_query = None if nothing_staged else start_staged_query()
    if cache.holds(tree):
        staged = _finish_staged(staged_query)
        untracked = cache.untracked(staged.added, staged.deleted)
    else:
        before, listing_started = lstat(EVENTS_DIR), time.time_ns()
        untracked_query = start_untracked_query()
        staged = _finish_staged(staged_query)
        untracked = _records(git.split_z(git.finish(untracked_query)))
        cache.remember_listing(before, listing_started, tree, untracked, staged.added)
    threshold_hours = threshold.finish_query(config) if config is not None else max_age_hours
    assert threshold_hours is not None  # given, or read from git config
    owners = OwnerStates(common_dir=common_dir, known=cache) if common_dir else None
    in_progress: list[str] | None = None if verbose else []
    blocking, warnings = check_untracked(untracked, threshold_hours, strict, now, cache, owners, in_progress)
    if in_progress:
        count = len(in_progress)
        warnings.append(f"kitty-ops: {count} Op{'s' if count > 1 else ''} in progress (owner running);"
                        " kitty-ops-orphans --verbose lists them")
    cache.save()
    removed = [f"{path}: {problem}" for path, problem in staged.removed.items()]
    return removed + check_staged(staged.staged, now, threshold_hours) + blocking, warnings


def parse_args(argv: Sequence[str]) -> tuple[float | None, bool, bool]:
    """(--max-age-hours, or None for the configured threshold; --strict;
    --verbose). The usual arguments are read by hand, because importing argparse
    costs a tenth of the hook; anything else goes to argparse."""
    max_age, strict, verbose = None, False, False
    args = list(argv)
    try:
        while args:
            arg = args.pop(0)
            if arg == "--strict":
                strict = True
            elif arg == "--verbose":
                verbose = True
            elif arg == "--max-age-hours":
                max_age = float(args.pop(0))
            elif arg.startswith("--max-age-hours="):
                max_age = float(arg.partition("=")[2])
            elif arg.startswith("-"):
                return _parse_with_argparse(argv)
    except (IndexError, ValueError):
        return _parse_with_argparse(argv)
    return max_age, strict, verbose


def _parse_with_argparse(argv: Sequence[str]) -> tuple[float | None, bool, bool]:
    import argparse

    parser = argparse.ArgumentParser(
        prog="kitty-ops-orphans",
        description="Block commits that stage an open Op record, or that are made while an Op is a stale orphan.",
    )
    parser.add_argument("--max-age-hours", type=float, default=None,
                        help="an orphan older than this blocks the commit (default: git config"
                        f" {MAX_AGE_HOURS_CONFIG}, else {DEFAULT_MAX_AGE_HOURS:g})")
    parser.add_argument("--strict", action="store_true", help="block on any orphan, fresh or not")
    parser.add_argument("--verbose", action="store_true", help="list every Op in progress, not only their number")
    parser.add_argument("filenames", nargs="*", help="ignored: the hook asks git what is staged")
    args = parser.parse_args(argv)
    return args.max_age_hours, args.strict, args.verbose


def main(argv: Sequence[str] | None = None) -> int:
    max_age, strict, verbose = parse_args(sys.argv[1:] if argv is None else argv)
    busy.mark_from_hook()
    try:
        blocking, warnings = find_orphan_problems(max_age, strict, verbose=verbose)
    except InvalidInput as exc:
        print(f"kitty-ops-orphans: {exc}")
        return 2
    except (OSError, git.GitError) as exc:
        print(f"kitty-ops-orphans: cannot check for orphans: {exc}")
        return 1
    for line in blocking + warnings:
        print(line)
    return 1 if blocking else 0


if __name__ == "__main__":
    raise SystemExit(main())
