"""kitty-ops-validate: a pre-commit hook that blocks malformed, rewritten, deleted or renamed Op records.

pre-commit passes the staged files under `kitty-ops/`, and runs it only when
there are some; the hook checks their staged (index) versions, and that each
one HEAD already holds only grew. It asks git itself for deletions and renames
(never passed to hooks); a commit that only deletes or renames records is
blocked by `kitty-ops-orphans`, which runs on every commit.
"""
from __future__ import annotations

from kitty_ops.format.layout import LOCAL_PATHS
from kitty_ops.gitio import git
from kitty_ops.hooks import removals
from kitty_ops.hooks.remedies import has_head, unstage_command
from kitty_ops.hooks.validation import check_staged

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence


def parse_filenames(argv: Sequence[str] | None) -> list[str]:
    """The file names pre-commit passes; anything else (`--help`, an option) goes
    to argparse, which is imported only then (with `re` and `shutil` it costs
    more than the hook's own work on every commit)."""
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    if not any(arg.startswith("-") for arg in args):
        return args
    import argparse

    parser = argparse.ArgumentParser(
        prog="kitty-ops-validate",
        description="Block a commit whose staged Op records are malformed, rewrite committed lines,"
        " or delete or rename committed records.",
    )
    parser.add_argument("filenames", nargs="*", help="staged files (pre-commit passes them)")
    filenames: list[str] = parser.parse_args(args).filenames
    return filenames


def main(argv: Sequence[str] | None = None) -> int:
    filenames = parse_filenames(argv)
    try:
        query = removals.start_query()
        problems = check_staged(filenames)
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
