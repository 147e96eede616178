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
from kitty_ops.system import processes

WAITER_NAME = "kitty-ops-waiter"  # in the git directory: "<pid> <start time>" of the waiter at work
WAIT_SECONDS = 600.0  # a person's editor may stay open for minutes
POLL_SECONDS = 0.05
OPERATION_POLL_SECONDS = 0.25  # a merge or rebase left to the person: no git command runs
BUSY_WAIT_SECONDS = 5.0
_MODULE = b"kitty_ops.opcommit.waiter"


def _identity(pid: int) -> str:
    """What the pid file says of the waiter `pid`: its pid and start time
    (`-` where there is no /proc to tell it)."""
    started = processes.start_time(pid)
    return f"{pid} {'-' if started is None else started}"


def _read_claim(git_dir: str) -> str | None:
    try:
        with open(os.path.join(git_dir, WAITER_NAME), "rb") as handle:
            return handle.read(100).decode(errors="replace").strip()
    except OSError:
        return None


def _is_waiter(pid: int, started: str | None) -> bool:
    """`pid` is a live waiter that started at `started` (when known): a reused
    pid, or a stale file, names some other process."""
    if pid <= 0 or not busy.is_alive(pid):
        return False
    if not processes.has_proc():
        return True  # only a live pid is known
    if started not in (None, "-") and started != str(processes.start_time(pid)):
        return False
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return _MODULE in handle.read(4096).split(b"\0")
    except OSError:
        return False


def _alive_waiter(git_dir: str) -> bool:
    fields = (_read_claim(git_dir) or "").split()
    if not fields or not fields[0].isdigit():
        return False
    return _is_waiter(int(fields[0]), fields[1] if len(fields) > 1 else None)


def _claim(git_dir: str) -> None:
    """Name this process as the work tree's waiter (atomically: readers never see half a file)."""
    path = os.path.join(git_dir, WAITER_NAME)
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        with open(temporary, "w") as handle:
            handle.write(f"{_identity(os.getpid())}\n")
        os.replace(temporary, path)
    except OSError:
        try:
            os.unlink(temporary)
        except OSError:
            pass


def _release(git_dir: str) -> None:
    """Remove the pid file, if it still names this process."""
    if _read_claim(git_dir) == _identity(os.getpid()):
        try:
            os.unlink(os.path.join(git_dir, WAITER_NAME))
        except OSError:
            pass


def start(top: str, git_dir: str, pids: list[int]) -> bool:
    """Start the waiter for the git commands `pids`, unless one is alive; True
    when started. The process started forks the waiter off and exits at once
    (waited for here): nothing is left for the caller to reap."""
    if _alive_waiter(git_dir):
        return False
    import subprocess

    env = git.allowed_environ()  # nothing of the git command whose hook started the completion
    try:
        subprocess.run(
            [sys.executable, "-m", "kitty_ops.opcommit.waiter", *map(str, pids)], cwd=top, env=env,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, timeout=30, check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return False  # the next Op commit, or `commit --pending`, commits it
    return True


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
        if _alive_waiter(git_dir):
            return False  # started beside another completion's waiter
        _claim(git_dir)
        return True
    finally:
        os.close(write_end)


def wait_for_git(repo: git.Repo, pids: list[int], deadline: float) -> None:
    """Until `deadline`: wait for `pids`, then for HEAD-moving git commands
    started since, and for a merge, rebase, ... they left under way to be finished."""
    waiting = list(pids)
    while time.monotonic() < deadline:
        waiting = [pid for pid in waiting if busy.is_alive(pid)]
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
    from kitty_ops.errors import KittyOpsError
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
            _release(repo.git_path)
            if not busy.is_waiting(repo.git_path) or _alive_waiter(repo.git_path):
                break
            _claim(repo.git_path)
    finally:
        _release(repo.git_path)
    return 0


if __name__ == "__main__":
    from kitty_ops.system.scripts import exit_now

    exit_now(main())
