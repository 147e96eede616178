"""kitty-ops-post-commit: after a person's commit, commit the Ops that waited for it.

An Op completed while the person's `git commit` ran stays pending (an Op
commit then would make that commit fail), and the completion starts
`kitty_ops.opcommit.waiter`, which commits it once that command has exited. So this
post-commit-stage hook is optional: `init --write` no longer installs it. It
ends the mark the pre-commit stage left (where marks are used) and, when an
Op waited and no waiter is alive, starts one: the person never waits for it.
"""
from __future__ import annotations

import os

from kitty_ops.gitio import busy, git
from kitty_ops.gitio.gitdirs import git_dirs

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence


def after_commit() -> bool:
    """End the marks of the git command above and start the background commit
    of waiting Ops (`kitty_ops.opcommit.waiter`); False when nothing waited, or a waiter
    is at work already."""
    git_dir = git_dirs()[0]  # git runs hooks at the top of the work tree
    if git_dir is None:
        return False
    above = busy.git_ancestors()
    for pid in above:
        busy.unmark(git_dir, pid)
    if not busy.is_waiting(git_dir):
        return False
    from kitty_ops.opcommit import wakeup

    return wakeup.start(os.getcwd(), git_dir, above)


USAGE = """usage: kitty-ops-post-commit

An optional post-commit hook: after your commit, commit in the background the
Ops that completed while it ran. `kitty-ops init --write` leaves it out.
"""


def main(argv: Sequence[str] | None = None) -> int:
    try:
        after_commit()
    except (OSError, git.GitError) as exc:  # a post-commit hook cannot undo the commit: say it, pass
        print(f"kitty-ops-post-commit: {exc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
