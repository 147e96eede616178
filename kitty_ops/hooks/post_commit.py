"""kitty-ops-post-commit: after a person's commit, commit the Ops that waited for it.

An Op completed while the person's `git commit` ran stays pending (an Op
commit then would make that commit fail). This post-commit-stage hook ends
the mark the pre-commit stage left (where marks are used) and, when an Op
waited, starts `kitty-ops commit --pending` in the background, once the
person's git command has exited: the person never waits for it.
"""
from __future__ import annotations

import os
import sys
import time

from kitty_ops import busy, git
from kitty_ops.gitdirs import git_dirs

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

WAIT_FOR_GIT_SECONDS = 30.0
BACKGROUND_BUSY_WAIT_SECONDS = 5.0


def after_commit() -> int | None:
    """End the marks of the git command above and start the background commit
    of waiting Ops; the background process id, or None when nothing waited."""
    git_dir = git_dirs()[0]  # git runs hooks at the top of the work tree
    if git_dir is None:
        return None
    above = busy.git_ancestors()
    for pid in above:
        busy.unmark(git_dir, pid)
    if not busy.take_waiting(git_dir):
        return None
    import subprocess

    env = {name: value for name, value in os.environ.items() if name not in git.HOOK_VARIABLES}
    command = [sys.executable, "-m", "kitty_ops.hooks.post_commit", "--in-background", *map(str, above)]
    child = subprocess.Popen(
        command, cwd=os.getcwd(), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True,
    )
    return child.pid


def commit_waiting(repo_root: str, after_pids: list[int]) -> None:
    """Wait (bounded) for the person's git command to exit, then commit what is pending."""
    from kitty_ops.commit import commit_ops
    from kitty_ops.errors import KittyOpsError

    deadline = time.monotonic() + WAIT_FOR_GIT_SECONDS
    while any(busy.is_alive(pid) for pid in after_pids) and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        commit_ops(repo_root, pending=True, busy_wait=BACKGROUND_BUSY_WAIT_SECONDS)
    except KittyOpsError:
        busy.note_waiting(str(git.find_repo(repo_root).git_dir))  # type: ignore[union-attr]  # the next commit tries again


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--in-background"]:
        commit_waiting(os.getcwd(), [int(pid) for pid in args[1:] if pid.isdigit()])
        return 0
    try:
        after_commit()
    except (OSError, git.GitError) as exc:  # a post-commit hook cannot undo the commit: say it, pass
        print(f"kitty-ops-post-commit: {exc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
