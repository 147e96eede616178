"""Starting the waiter (`kitty_ops.opcommit.waiter`), and the pid file that names it.

What an Op commit needs to leave a record to the waiter, without importing
the waiter (which imports the Op commit): `start` runs it as its own process.
One waiter per work tree at a time; it names itself in `<git-dir>/kitty-ops-waiter`
by its pid and start time (a pid alone may be reused, by any process).
"""
from __future__ import annotations

import os
import sys

from kitty_ops.gitio import git
from kitty_ops.system import files, processes

WAITER_NAME = "kitty-ops-waiter"  # in the git directory: "<pid> <start time>" of the waiter at work
WAITER_MODULE = "kitty_ops.opcommit.waiter"


def start(top: str, git_dir: str, pids: list[int]) -> bool:
    """Start the waiter for the git commands `pids`, unless one is alive; True
    when started. The process started forks the waiter off and exits at once
    (waited for here): nothing is left for the caller to reap."""
    if alive_waiter(git_dir):
        return False
    import subprocess

    env = git.allowed_environ()  # nothing of the git command whose hook started the completion
    try:
        subprocess.run(
            [sys.executable, "-m", WAITER_MODULE, *map(str, pids)], cwd=top, env=env,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, timeout=30, check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return False  # the next Op commit, or `commit --pending`, commits it
    return True


def identity(pid: int) -> str:
    """What the pid file says of the waiter `pid`: its pid and start time
    (`-` where there is no /proc to tell it)."""
    started = processes.start_time(pid)
    return f"{pid} {'-' if started is None else started}"


def read_claim(git_dir: str) -> str | None:
    try:
        with open(os.path.join(git_dir, WAITER_NAME), "rb") as handle:
            return handle.read(100).decode(errors="replace").strip()
    except OSError:
        return None


def is_waiter(pid: int, started: str | None) -> bool:
    """`pid` is a live waiter that started at `started` (when known): a reused
    pid, or a stale file, names some other process."""
    if pid <= 0 or not processes.is_alive(pid):
        return False
    if not processes.has_proc():
        return True  # only a live pid is known
    if started not in (None, "-") and started != str(processes.start_time(pid)):
        return False
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return WAITER_MODULE.encode() in handle.read(4096).split(b"\0")
    except OSError:
        return False


def alive_waiter(git_dir: str) -> bool:
    fields = (read_claim(git_dir) or "").split()
    if not fields or not fields[0].isdigit():
        return False
    return is_waiter(int(fields[0]), fields[1] if len(fields) > 1 else None)


def claim(git_dir: str) -> None:
    """Name this process as the work tree's waiter (atomically: readers never see half a file)."""
    try:
        files.write_atomically(os.path.join(git_dir, WAITER_NAME), f"{identity(os.getpid())}\n".encode())
    except OSError:
        pass  # no waiter named: the next completion starts one


def release(git_dir: str) -> None:
    """Remove the pid file, if it still names this process."""
    if read_claim(git_dir) == identity(os.getpid()):
        try:
            os.unlink(os.path.join(git_dir, WAITER_NAME))
        except OSError:
            pass
