"""kitty-ops-validate: a pre-commit hook that blocks malformed or rewritten Op records.

pre-commit passes the staged files under `kitty-ops/`; the hook checks their
staged (index) versions, and that each one HEAD already holds only grew.
"""
from __future__ import annotations

import argparse

from kitty_ops import git
from kitty_ops.validation import check_staged

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="kitty-ops-validate",
        description="Block a commit whose staged Op records are malformed or rewrite committed lines.",
    )
    parser.add_argument("filenames", nargs="*", help="staged files (pre-commit passes them)")
    args = parser.parse_args(argv)
    try:
        problems = check_staged(args.filenames)
    except (OSError, git.GitError) as exc:
        print(f"kitty-ops-validate: cannot read the staged records: {exc}")
        return 1
    for path, found in problems.items():
        for problem in found:
            print(f"{path}: {problem}")
    if problems:
        print("Fix the record, or unstage it: git restore --staged <path>")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
