"""kitty-ops-sync: a pre-push hook that shares the records ref along with your push.

In ref mode it runs `kitty-ops sync <remote>` (a nested `git push --no-verify`
of `refs/kitty-ops/records` only). It never fails or blocks your own push:
when syncing fails it says why and lets the push go on.
"""
from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence


USAGE = """usage: kitty-ops-sync [REMOTE [URL]]

A pre-push hook (pre-commit runs it on `git push`): in ref mode, push
refs/kitty-ops/records to REMOTE (default: $PRE_COMMIT_REMOTE_NAME, else the
branch's remote). It never blocks your push. Same as `kitty-ops sync REMOTE`.
"""


def main(argv: Sequence[str] | None = None) -> int:
    from kitty_ops.errors import KittyOpsError
    from kitty_ops.format.layout import TARGET_CONFIG
    from kitty_ops.gitio import git
    from kitty_ops.opcommit.commit import target_ref
    from kitty_ops.opcommit.sync import sync

    args = list(sys.argv[1:] if argv is None else argv)
    remote = os.environ.get("PRE_COMMIT_REMOTE_NAME") or (args[0] if args else None)
    try:
        if target_ref(git.config_values(".", [TARGET_CONFIG])) is None:
            return 0  # branch mode: the records travel with the branch
        result = sync(".", remote)
    except (KittyOpsError, OSError) as exc:
        print(f"kitty-ops-sync: warning: the records were not shared: {exc}; run `kitty-ops sync` later")
        return 0
    if result.pushed:
        print(f"kitty-ops-sync: pushed refs/kitty-ops/records to {result.remote}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
