"""git's own lock on the index, `$GIT_DIR/index.lock`, taken the way git takes it.

The Op commit creates the lock exclusively, holds it from reading HEAD until
HEAD and the real index are both updated, and removes only a lock it created
(checked by inode). The lock file says who made it (`kitty-ops pid=... host=...`),
so a lock left by a killed kitty-ops is recognised as such: `doctor ops`
reports it with the command that removes it. Temporary index files carry the
host and pid in their names, and the next Op commit removes those of dead
processes.
"""
from __future__ import annotations

import os
import time

from kitty_ops.system.processes import host_name, is_alive

LOCK_NAME = "index.lock"
MARKER = "kitty-ops"
TEMPORARY_PREFIX = "kitty-ops-index."


class LockHeld(Exception):
    """index.lock is held by someone else (the message says who)."""


class IndexLock:
    """An index.lock that this process created."""

    __slots__ = ("path", "inode")

    def __init__(self, path: str, inode: int) -> None:
        self.path = path
        self.inode = inode

    def release(self) -> None:
        """Remove the lock, if it is still the file this process created."""
        try:
            if os.lstat(self.path).st_ino == self.inode:
                os.unlink(self.path)
        except OSError:
            pass

    def __enter__(self) -> IndexLock:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def acquire(git_dir: str, timeout: float) -> IndexLock:
    """Create `index.lock` exclusively, retrying for `timeout` seconds; LockHeld after."""
    path = os.path.join(git_dir, LOCK_NAME)
    deadline = time.monotonic() + timeout
    while True:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            if time.monotonic() >= deadline:
                raise LockHeld(describe_holder(path)) from None
            time.sleep(0.005)
            continue
        try:
            os.write(fd, f"{MARKER} pid={os.getpid()} host={host_name()}\n".encode())
            inode = os.fstat(fd).st_ino
        finally:
            os.close(fd)
        return IndexLock(path, inode)


def kitty_ops_owner(path: str) -> int | None:
    """The pid of the kitty-ops process that made the lock at `path`, or None
    when another program made it (or it is from another host)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(200).decode(errors="replace")
    except OSError:
        return None
    fields = dict(part.split("=", 1) for part in head.split()[1:] if "=" in part)
    if not head.startswith(MARKER + " ") or fields.get("host") != host_name():
        return None
    try:
        return int(fields.get("pid", ""))
    except ValueError:
        return None


def stale_lock(git_dir: str) -> str | None:
    """The path of an index.lock left by a kitty-ops process that is gone, or None."""
    path = os.path.join(git_dir, LOCK_NAME)
    pid = kitty_ops_owner(path)
    return path if pid is not None and not is_alive(pid) else None


def describe_holder(path: str) -> str:
    pid = kitty_ops_owner(path)
    if pid is not None and not is_alive(pid):
        return f"a stale lock left by a killed kitty-ops (pid {pid}): remove it with `rm {path}`"
    if pid is not None:
        return f"the git index is locked by another kitty-ops process (pid {pid})"
    return "the git index is locked by another git process (index.lock)"


def temporary_index_path(git_dir: str) -> str:
    return os.path.join(git_dir, f"{TEMPORARY_PREFIX}{host_name()}.{os.getpid()}.{time.monotonic_ns()}")


def remove_dead_temporaries(git_dir: str) -> int:
    """Remove the temporary index files of kitty-ops processes that are gone; how many."""
    removed = 0
    host = host_name()
    try:
        names = os.listdir(git_dir)
    except OSError:
        return 0
    for name in names:
        if not name.startswith(TEMPORARY_PREFIX):
            continue
        parts = name[len(TEMPORARY_PREFIX):].removesuffix(".lock").rsplit(".", 2)
        if len(parts) != 3 or parts[0] != host or not parts[1].isdigit() or is_alive(int(parts[1])):
            continue
        try:
            os.unlink(os.path.join(git_dir, name))
            removed += 1
        except OSError:
            pass
    return removed
