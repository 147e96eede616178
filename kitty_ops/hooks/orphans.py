"""kitty-ops-orphans: a pre-commit hook that keeps open Ops out of history.

It blocks a commit that stages an Op record with no `completed` event (its
staged content, not the working file), and a commit made while an orphan is
stale (older than --max-age-hours); fresh orphans, Ops still in progress, are
named as a warning. It asks git only for what is staged or untracked under
`kitty-ops/`, so its cost does not grow with the number of committed records;
it imports nothing heavier than the standard library.
"""
from __future__ import annotations

import argparse
from datetime import datetime, timezone
from typing import Sequence

from kitty_ops import git
from kitty_ops.layout import EVENTS_DIR, op_id_from_name
from kitty_ops.scan import RecordScan, age_hours, read_scan, scan_record

DEFAULT_MAX_AGE_HOURS = 24.0
_PATHSPEC = f":(top){EVENTS_DIR}/"


def staged_and_untracked_records() -> tuple[list[str], list[str]]:
    """(staged record paths, untracked record paths), asking git both at once."""
    staged = git.start(["diff", "--cached", "--name-only", "--diff-filter=AM", "--no-renames", "-z", "--", _PATHSPEC])
    untracked = git.start(["ls-files", "--others", "-z", "--", _PATHSPEC])
    return _records(git.split_z(git.finish(staged))), _records(git.split_z(git.finish(untracked)))


def _records(paths: list[str]) -> list[str]:
    return [path for path in paths if op_id_from_name(path.rsplit("/", 1)[-1])]


def describe(path: str, scan: RecordScan, now: datetime) -> str:
    op_id = path.rsplit("/", 1)[-1][:-6]
    age = age_hours(scan.started.get("started_at") if scan.started else None, now)
    shown_age = "unknown age" if age is None else f"started {age:.1f}h ago"
    return f"{path}: Op {op_id} ({scan.field('profile_id')}: {scan.field('action')}, {shown_age})"


def fix_for(path: str) -> str:
    op_id = path.rsplit("/", 1)[-1][:-6]
    return f"kitty-ops complete {op_id} --outcome abandoned"


def check_orphans(max_age_hours: float, strict: bool, now: datetime | None = None) -> int:
    """Print what blocks or warns; 1 when the commit must be blocked."""
    now = now or datetime.now(timezone.utc)
    staged, untracked = staged_and_untracked_records()
    blocked = False
    for path, data in git.read_blobs(".", [f":{path}" for path in staged]).items():
        scan = scan_record(data or b"")
        path = path[1:]
        if scan.completed is None:
            blocked = True
            print(f"{describe(path, scan, now)} is staged but not completed.")
            print(f"  complete it: {fix_for(path)}")
            print(f"  or unstage it: git restore --staged {path}")
    for path in untracked:
        scan = read_scan(path)
        if scan.started is None or scan.completed is not None:
            continue  # unreadable (kitty-ops-validate's job) or pending, not an orphan
        age = age_hours(scan.started.get("started_at"), now)
        if strict or age is None or age > max_age_hours:
            blocked = True
            why = "is an orphan" if strict else f"is a stale orphan (over {max_age_hours:g}h)"
            print(f"{describe(path, scan, now)} {why}.")
            print(f"  close it: {fix_for(path)}")
            print("  or close every stale one: kitty-ops doctor ops --close-stale")
        else:
            print(f"warning: {describe(path, scan, now)} is still open.")
    return 1 if blocked else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kitty-ops-orphans", description=__doc__.splitlines()[0])
    parser.add_argument("--max-age-hours", type=float, default=DEFAULT_MAX_AGE_HOURS,
                        help="An orphan older than this blocks the commit (default: %(default)s).")
    parser.add_argument("--strict", action="store_true", help="Block on any orphan, fresh or not.")
    parser.add_argument("filenames", nargs="*", help="Ignored: the hook asks git what is staged.")
    args = parser.parse_args(argv)
    try:
        return check_orphans(args.max_age_hours, args.strict)
    except (OSError, git.GitError) as exc:
        print(f"kitty-ops-orphans: cannot check for orphans: {exc}")
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
