"""Writing a whole file at once: the one atomic writer of kitty-ops.

The data goes to a temporary file beside the target (created exclusively, never
through a link), then is renamed over the target: a reader sees the old file
or the new one, never a part. A short write (a full disk) raises and leaves
nothing behind.
"""
from __future__ import annotations

import os

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def write_atomically(path: str, data: bytes, mode: int = 0o644, dir_fd: int | None = None) -> None:
    """Replace `path` (relative to `dir_fd` when given) with `data`; OSError on failure."""
    temporary = f"{path}.{os.getpid()}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, mode, dir_fd=dir_fd)
    try:
        write_and_close(fd, data)
        os.replace(temporary, path, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        try:
            os.unlink(temporary, dir_fd=dir_fd)
        except OSError:
            pass
        raise


def write_and_close(fd: int, data: bytes) -> None:
    """Write all of `data` to `fd` (os.write may write less), then close it."""
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def write_quietly(path: str, data: bytes) -> bool:
    """`write_atomically`, making the directory; False instead of an error (for
    caches and notes, which are only ever an optimisation)."""
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write_atomically(path, data)
    except OSError:
        return False
    return True
