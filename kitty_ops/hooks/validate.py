"""kitty-ops-validate: a pre-commit hook that blocks malformed, rewritten, deleted or renamed Op records.

pre-commit passes the staged files under `kitty-ops/`; the hook checks their
staged (index) versions, and that each one HEAD already holds only grew. It
asks git itself for deletions and renames (never passed to hooks), so it
runs on every commit.
"""
from __future__ import annotations

import argparse

from kitty_ops import git, removals
from kitty_ops.layout import LOCAL_PATHS
from kitty_ops.remedies import has_head, unstage_command
from kitty_ops.validation import check_staged

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="kitty-ops-validate",
        description="Block a commit whose staged Op records are malformed, rewrite committed lines,"
        " or delete or rename committed records.",
    )
    parser.add_argument("filenames", nargs="*", help="staged files (pre-commit passes them)")
    args = parser.parse_args(argv)
    try:
        query = removals.start_query()
        problems = check_staged(args.filenames)
        removed = removals.finish_query(query)
        head = has_head() if problems else True
    except (OSError, git.GitError) as exc:
        print(f"kitty-ops-validate: cannot read the staged records: {exc}")
        return 1
    for path, found in problems.items():
        for problem in found:
            print(f"{path}: {problem}")
        if path not in LOCAL_PATHS:  # their message names the fix already
            print(f"  fix the record, or unstage it: {unstage_command(path, head)}")
    for path, problem in removed.items():
        print(f"{path}: {problem}")
    return 1 if problems or removed else 0


if __name__ == "__main__":
    raise SystemExit(main())
