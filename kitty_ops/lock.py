"""Advisory file locks between processes, released by the OS if a process dies."""
from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]
    import msvcrt


class LockTimeout(Exception):
    pass


def _try_lock(fd: int) -> bool:
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError:
        return False
    return True


def _unlock(fd: int) -> None:
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_UN)
    else:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)


@contextlib.contextmanager
def hold_fd(fd: int, timeout: float) -> Iterator[None]:
    """Hold an exclusive lock on an open file descriptor."""
    deadline = time.monotonic() + timeout
    delay = 0.002
    while not _try_lock(fd):
        if time.monotonic() >= deadline:
            raise LockTimeout(f"lock still held after {timeout:g}s")
        time.sleep(delay)
        delay = min(delay * 2, 0.1)
    try:
        yield
    finally:
        _unlock(fd)


@contextlib.contextmanager
def hold_file(path: Path, timeout: float) -> Iterator[None]:
    """Hold an exclusive lock on the file `path` (created if needed)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        with hold_fd(fd, timeout):
            yield
    finally:
        os.close(fd)
