"""Commit the Ops that waited for a person's git command, once it has ended.

An Op completed while a person's `git commit` (or merge, rebase, ...) runs in
the work tree stays pending: moving HEAD then would make that command fail.
The completion starts this, detached from it (its own session, no terminal,
no pipes of the agent's or of git's), which waits for those git processes to
exit, then for any HEAD-moving command that started meanwhile, and then
commits what is pending (`kitty-ops commit --pending`). One waiter per work
tree at a time: a completion that finds one alive leaves it the work.

    python -m kitty_ops.waiter PID...    (run in the work tree's top directory)
"""
from __future__ import annotations

import os
import sys
import time

from kitty_ops import busy, git

WAITER_NAME = "kitty-ops-waiter"  # in the git directory: the pid of the waiter alive, if any
WAIT_SECONDS = 600.0  # a person's editor may stay open for minutes
POLL_SECONDS = 0.05
BUSY_WAIT_SECONDS = 5.0


def _alive_waiter(git_dir: str) -> bool:
    try:
        with open(os.path.join(git_dir, WAITER_NAME), "rb") as handle:
            pid = int(handle.read(32).strip() or b"0")
    except (OSError, ValueError):
        return False
    return pid > 0 and busy.is_alive(pid)


def start(top: str, git_dir: str, pids: list[int]) -> bool:
    """Start the waiter for the git commands `pids`, unless one is alive; True
    when started. The process started forks the waiter off and exits at once
    (waited for here): nothing is left for the caller to reap."""
    if _alive_waiter(git_dir):
        return False
    import subprocess

    env = {name: value for name, value in os.environ.items() if name not in git.HOOK_VARIABLES}
    try:
        subprocess.run(
            [sys.executable, "-m", "kitty_ops.waiter", *map(str, pids)], cwd=top, env=env,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, timeout=30, check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return False  # the next Op commit, or `commit --pending`, commits it
    return True


def _detach(git_dir: str) -> None:
    """Fork: the parent exits (the caller waits only for it), the waiter goes on."""
    if os.fork() != 0:
        os._exit(0)
    try:
        with open(os.path.join(git_dir, WAITER_NAME), "w") as handle:
            handle.write(f"{os.getpid()}\n")
    except OSError:
        pass


def wait_for_git(repo: git.Repo, pids: list[int], deadline: float) -> None:
    """Until `deadline`: wait for `pids`, then for HEAD-moving git commands started since."""
    waiting = list(pids)
    while time.monotonic() < deadline:
        waiting = [pid for pid in waiting if busy.is_alive(pid)]
        if not waiting:
            waiting = list(busy.busy_pids(repo.top, repo.git_path))
            if not waiting:
                return
        time.sleep(POLL_SECONDS)


def commit_waiting(repo_root: str, pids: list[int], wait_seconds: float = WAIT_SECONDS) -> None:
    """Wait (bounded) for the person's git commands to end, then commit what is
    pending; again while completions leave word that they waited meanwhile."""
    from kitty_ops.commit import commit_ops
    from kitty_ops.errors import KittyOpsError

    repo = git.find_repo(repo_root)
    if repo is None:
        return
    deadline = time.monotonic() + wait_seconds
    while True:
        wait_for_git(repo, pids, deadline)
        pids = []
        busy.take_waiting(repo.git_path)
        try:
            commit_ops(repo_root, pending=True, busy_wait=BUSY_WAIT_SECONDS)
        except KittyOpsError:
            if time.monotonic() < deadline and busy.busy_pids(repo.top, repo.git_path):
                continue  # a git command started again: wait for it too
            busy.note_waiting(repo.git_path)  # the next commit tries again
            return
        if not busy.is_waiting(repo.git_path) or time.monotonic() >= deadline:
            return


def main(argv: list[str] | None = None) -> int:
    """The detached waiter: fork off, wait, commit."""
    args = sys.argv[1:] if argv is None else argv
    repo = git.find_repo(os.getcwd())
    if repo is None:
        return 0
    _detach(repo.git_path)
    commit_waiting(repo.top, [int(pid) for pid in args if pid.isdigit()])
    return 0


if __name__ == "__main__":
    from kitty_ops.scripts import exit_now

    exit_now(main())
