"""Sharing the work tree with a person: no Op commit inside or beside a
running HEAD-moving git command (their `git commit`, merge, rebase, ...).

An Op commit refuses to run inside such a command (its hook), waits a short
bounded time for one running beside it, and otherwise leaves its record to
the waiter (`kitty_ops.opcommit.wakeup`), which commits it when the command ends.
"""
from __future__ import annotations

import os
import time

from kitty_ops.errors import CommitSkipped
from kitty_ops.gitio import busy, git, gitlock
from kitty_ops.system import processes

LATER = "it is committed once that command ends"


class Busy(Exception):
    """A person's HEAD-moving git command runs in this work tree (the reason)."""


def refuse_unsafe_state(repo: git.Repo) -> None:
    """CommitSkipped inside a git hook's environment, during a merge, rebase, ...,
    or on a detached HEAD."""
    if os.environ.get("GIT_INDEX_FILE"):
        raise CommitSkipped(
            "called from inside a running git command (GIT_INDEX_FILE is set); "
            "the next Op commit, or `kitty-ops commit --pending`, commits it"
        )
    operation = git.operation_in_progress(repo)
    if operation:
        running = busy.busy_pids(repo.top, repo.git_path)
        if running:
            # The person's command waits in an editor (`git merge -e`, `rebase -i`,
            # `cherry-pick -e`): the waiter commits the Op once it has ended and the
            # operation is finished.
            commit_after_git(repo, running)
            raise CommitSkipped(
                f"{operation} is in progress and {next(iter(running.values()))} is running in this work tree; "
                f"it is committed once that command ends and the {operation.partition(' ')[2]} is finished"
            )
        raise CommitSkipped(f"{operation} is in progress; finish it first")
    if git.head_branch(repo) is None:
        raise CommitSkipped("HEAD is detached; check out a branch first")


def commit_after_git(repo: git.Repo, running: dict[int, str]) -> None:
    """Leave word that an Op waits, and start `kitty_ops.opcommit.waiter`, which commits it
    once the git commands `running` have ended (and the merge, rebase, ... they
    left under way, if any, is finished). Word first: a waiter alive already
    looks for it before it exits."""
    from kitty_ops.opcommit import wakeup  # only when a person's command is in the way

    busy.note_waiting(repo.git_path)
    wakeup.start(repo.top, repo.git_path, sorted(running))


def busy_reason(repo: git.Repo, running: dict[int, str] | None = None) -> str | None:
    """Why no Op commit can be made now (a person's git command runs), or None."""
    running = busy.busy_pids(repo.top, repo.git_path) if running is None else running
    if not running:
        return None
    return f"{next(iter(running.values()))} is running in this work tree; {LATER}"


def refuse_inside_git(repo: git.Repo) -> None:
    """CommitSkipped when this process runs inside (a hook of) a person's HEAD-moving
    git command: an Op commit now would make that command fail."""
    inside = busy.busy_ancestors(repo.top, repo.git_path)
    if inside:
        commit_after_git(repo, inside)
        raise CommitSkipped(f"called from inside {next(iter(inside.values()))}; {LATER}")


def wait_until_quiet(repo: git.Repo, busy_wait: float) -> None:
    """Wait up to `busy_wait` seconds for the person's HEAD-moving git commands
    to end; CommitSkipped (and the waiter started) if they do
    not, and at once when this process runs inside one of them (its hook)."""
    running: dict[int, str] | None = busy.busy_pids(repo.top, repo.git_path)
    if running:
        busy.note_seen(repo.git_path)
        inside = set(running) & set(processes.ancestors())
        if inside:
            commit_after_git(repo, running)
            raise CommitSkipped(f"called from inside {running[inside.pop()]}; {LATER}")
    deadline = time.monotonic() + busy_wait
    while (reason := busy_reason(repo, running)) is not None:
        if time.monotonic() >= deadline:
            commit_after_git(repo, running or busy.busy_pids(repo.top, repo.git_path))
            raise CommitSkipped(reason)
        time.sleep(0.02)
        running = None


class IndexLock:
    """Hold `index.lock` (waiting up to `seconds` for another git command's).
    `ensure_quiet`, under it, checks that no person's HEAD-moving git command
    runs in this work tree (one that starts later meets the lock); Busy if one
    does.

    While the person is at work (their command was met in the last minute),
    the check is made first without the lock too: a person's commit runs
    git commands that write the index (pre-commit's stash of unstaged
    changes), and a lock taken only to find the commit running would make
    them fail. (Otherwise that scan of the process table is spared.)"""

    def __init__(self, repo: git.Repo, seconds: float) -> None:
        self.repo = repo
        self.seconds = seconds
        self.lock: gitlock.IndexLock | None = None

    def __enter__(self) -> IndexLock:
        if busy.seen_lately(self.repo.git_path, time.time()):
            self.ensure_quiet()
        try:
            self.lock = gitlock.acquire(self.repo.git_path, self.seconds)
        except gitlock.LockHeld as exc:
            raise CommitSkipped(str(exc)) from None
        return self

    def ensure_quiet(self) -> None:
        """Busy (and word left that the person is at work) if their HEAD-moving git command runs."""
        reason = busy_reason(self.repo)
        if reason is not None:
            busy.note_seen(self.repo.git_path)
            raise Busy(reason)

    def __exit__(self, *exc_info: object) -> None:
        if self.lock is not None:
            self.lock.release()
