"""Advisory file locks between processes, released by the OS if a process dies."""
from __future__ import annotations

import os
import time

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


class hold_fd:
    """Hold an exclusive lock on an open file descriptor (a context manager)."""

    def __init__(self, fd: int, timeout: float) -> None:
        self.fd, self.timeout = fd, timeout

    def __enter__(self) -> None:
        deadline = time.monotonic() + self.timeout
        delay = 0.002
        while not _try_lock(self.fd):
            if time.monotonic() >= deadline:
                raise LockTimeout(f"lock still held after {self.timeout:g}s")
            time.sleep(delay)
            delay = min(delay * 2, 0.1)

    def __exit__(self, *exc_info: object) -> None:
        _unlock(self.fd)


class hold_file:
    """Hold an exclusive lock on the file `path` (created if needed), as a context manager."""

    def __init__(self, path: str | os.PathLike[str], timeout: float) -> None:
        self.path, self.timeout = path, timeout
        self.fd = -1

    def __enter__(self) -> None:
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            hold_fd(self.fd, self.timeout).__enter__()
        except BaseException:
            os.close(self.fd)
            raise

    def __exit__(self, *exc_info: object) -> None:
        try:
            _unlock(self.fd)
        finally:
            os.close(self.fd)
