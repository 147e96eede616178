"""Commit the Ops that waited for a person's git command, once it has ended.

An Op completed while a person's `git commit` (or merge, rebase, ...) runs in
the work tree stays pending: moving HEAD then would make that command fail.
The completion starts this, detached from it (its own session, no terminal,
no pipes of the agent's or of git's), which waits for those git processes to
exit, then for any HEAD-moving command that started meanwhile, and then
commits what is pending (`kitty-ops commit --pending`). A merge, rebase or
cherry-pick that those commands leave under way (stopped at a conflict or an
`edit` for the person) is waited for too, within the same bound.

One waiter per work tree at a time: a completion that finds one alive leaves
it the work. The waiter names itself in `<git-dir>/kitty-ops-waiter` by its
pid and start time (a pid alone may be reused, by any process), removes the
file when it exits (if the file still names it), and before exiting looks
once more for word of an Op that waited: a completion that saw the file
just before it went has left that word.

    python -m kitty_ops.opcommit.waiter PID...    (run in the work tree's top directory)
"""
from __future__ import annotations

import os
import sys
import time

from kitty_ops.gitio import busy, git
from kitty_ops.opcommit.wakeup import WAITER_NAME, alive_waiter, claim, release, start  # noqa: F401 (re-exported)
from kitty_ops.system import processes

WAIT_SECONDS = 600.0  # a person's editor may stay open for minutes
POLL_SECONDS = 0.05
OPERATION_POLL_SECONDS = 0.25  # a merge or rebase left to the person: no git command runs
BUSY_WAIT_SECONDS = 5.0

# The pid file's helpers under their former names (tests and older callers use them).
_alive_waiter, _claim, _release = alive_waiter, claim, release


def _detach(git_dir: str) -> bool:
    """Fork: the parent exits (the caller waits only for it) once the waiter
    has named itself in the pid file, so a completion right after finds it.
    False (in the waiter) when another waiter was found alive: it does the work."""
    read_end, write_end = os.pipe()
    if os.fork() != 0:
        os.close(write_end)
        try:
            os.read(read_end, 1)  # end of file: the waiter has claimed, or has gone
        except OSError:
            pass
        os._exit(0)
    os.close(read_end)
    try:
        if alive_waiter(git_dir):
            return False  # started beside another completion's waiter
        claim(git_dir)
        return True
    finally:
        os.close(write_end)


def wait_for_git(repo: git.Repo, pids: list[int], deadline: float) -> None:
    """Until `deadline`: wait for `pids`, then for HEAD-moving git commands
    started since, and for a merge, rebase, ... they left under way to be finished."""
    waiting = list(pids)
    while time.monotonic() < deadline:
        waiting = [pid for pid in waiting if processes.is_alive(pid)]
        if not waiting:
            waiting = list(busy.busy_pids(repo.top, repo.git_path))
            if not waiting:
                if git.operation_in_progress(repo) is None:
                    return
                time.sleep(OPERATION_POLL_SECONDS)  # stopped for the person (a conflict, an `edit`)
                continue
        time.sleep(POLL_SECONDS)


def commit_waiting(repo_root: str, pids: list[int], wait_seconds: float = WAIT_SECONDS) -> bool:
    """Wait (bounded) for the person's git commands to end, then commit what is
    pending; again while completions leave word that they waited meanwhile.
    False when it gave up (the deadline, or a commit that failed with nothing
    left to wait for): the word stays for the next Op commit."""
    from kitty_ops.errors import KittyOpsError  # not before the fork: the completion waits for it
    from kitty_ops.opcommit.commit import commit_ops

    repo = git.find_repo(repo_root)
    if repo is None:
        return False
    deadline = time.monotonic() + wait_seconds
    retried = False
    while True:
        wait_for_git(repo, pids, deadline)
        pids = []
        busy.take_waiting(repo.git_path)
        try:
            commit_ops(repo_root, pending=True, busy_wait=BUSY_WAIT_SECONDS)
        except KittyOpsError:
            if time.monotonic() < deadline:
                if busy.busy_pids(repo.top, repo.git_path) or git.operation_in_progress(repo):
                    continue  # a git command started again, or left a merge or rebase: wait for it too
                if not retried:
                    retried = True  # what stopped it may have ended just now
                    continue
            busy.note_waiting(repo.git_path)  # the next commit tries again
            return False
        retried = False
        if time.monotonic() >= deadline:
            return not busy.is_waiting(repo.git_path)
        if not busy.is_waiting(repo.git_path):
            return True


def main(argv: list[str] | None = None) -> int:
    """The detached waiter: fork off, wait, commit."""
    args = sys.argv[1:] if argv is None else argv
    repo = git.find_repo(os.getcwd())
    if repo is None:
        return 0
    if not _detach(repo.git_path):
        return 0
    pids = [int(pid) for pid in args if pid.isdigit()]
    try:
        while commit_waiting(repo.top, pids):
            pids = []
            # A completion that found the pid file left word before it looked:
            # gone now, so from here on a completion starts its own waiter; word
            # left before that is served here.
            release(repo.git_path)
            if not busy.is_waiting(repo.git_path) or alive_waiter(repo.git_path):
                break
            claim(repo.git_path)
    finally:
        release(repo.git_path)
    return 0


if __name__ == "__main__":
    from kitty_ops.system.scripts import exit_now

    exit_now(main())
