"""Files under `kitty-ops/`, opened without following a link or blocking on a special file.

A repository may be someone else's: a record, `lifecycle.jsonl` or the
directory itself can be a committed symlink (to `~/.ssh/id_ed25519`, say), or a
FIFO that would block a reader forever. Everything kitty-ops reads, writes or
commits there goes through this module: the directory is opened with
O_NOFOLLOW, each file inside it relative to that descriptor with O_NOFOLLOW and
O_NONBLOCK, and only a regular file is accepted (checked on the open
descriptor, so nothing can be swapped in between).

Standard library only: the pre-commit hooks import it.
"""
from __future__ import annotations

import errno
import os
import stat

from kitty_ops.errors import UnsafePath
from kitty_ops.format.layout import EVENTS_DIR

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_HAS_DIR_FD = os.open in os.supports_dir_fd


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def unsafe_reason(path: str | os.PathLike[str]) -> str | None:
    """Why the entry at `path` may not be opened (`a symbolic link`, ...), or None
    when it is a regular file or absent. Never follows the last component."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return None
    return None if stat.S_ISREG(mode) else _kind(mode)


def open_events_dir(repo_root: str | os.PathLike[str]) -> int:
    """A descriptor of `kitty-ops/`; UnsafePath when it is a link or not a directory.
    FileNotFoundError when it does not exist."""
    path = os.path.join(os.fspath(repo_root), EVENTS_DIR)
    try:
        return os.open(path, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR) or os.path.islink(path):
            reason = unsafe_reason(path) or "not a directory"
            raise UnsafePath(f"{EVENTS_DIR}/ is {reason}; kitty-ops does not work through it") from None
        raise


def open_in_events_dir(repo_root: str | os.PathLike[str], name: str, flags: int, mode: int = 0o644) -> int:
    """Open `kitty-ops/<name>` with `flags`, never through a link, never blocking.

    Raises UnsafePath for a link or a special file (the descriptor is closed
    again), and the OSError of the open otherwise (FileNotFoundError, ...).
    """
    shown = f"{EVENTS_DIR}/{name}"
    flags |= _NOFOLLOW | _NONBLOCK | _CLOEXEC
    if _HAS_DIR_FD:
        directory = open_events_dir(repo_root)
        try:
            fd = _open_checked(name, flags, mode, shown, directory)
        finally:
            os.close(directory)
        return fd
    return _open_checked(os.path.join(os.fspath(repo_root), EVENTS_DIR, name), flags, mode, shown, None)


def _open_checked(path: str, flags: int, mode: int, shown: str, dir_fd: int | None) -> int:
    try:
        fd = os.open(path, flags, mode, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafePath(f"{shown} is a symbolic link; kitty-ops does not read or write through links") from None
        if exc.errno == errno.ENXIO:  # a FIFO with no writer, opened for writing
            raise UnsafePath(f"{shown} is a FIFO; kitty-ops opens regular files only") from None
        raise
    file_mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(file_mode):
        os.close(fd)
        raise UnsafePath(f"{shown} is {_kind(file_mode)}; kitty-ops opens regular files only")
    return fd


def read_fd(fd: int) -> bytes:
    """All of an open file, from its start."""
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


def read_events_file(repo_root: str | os.PathLike[str], name: str) -> bytes:
    """The bytes of `kitty-ops/<name>`, a regular file (UnsafePath otherwise)."""
    return read_events_file_stat(repo_root, name)[0]


def read_events_file_stat(repo_root: str | os.PathLike[str], name: str) -> tuple[bytes, tuple[int, int, int]]:
    """The bytes of `kitty-ops/<name>` and the (inode, size, mtime) they were read at."""
    fd = open_in_events_dir(repo_root, name, os.O_RDONLY)
    try:
        data = read_fd(fd)
        info = os.fstat(fd)
        return data, (info.st_ino, info.st_size, info.st_mtime_ns)
    finally:
        os.close(fd)


def identity(path: str | os.PathLike[str]) -> tuple[int, int, int] | None:
    """(inode, size, mtime) of a regular file at `path` (not followed), None otherwise."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    return (info.st_ino, info.st_size, info.st_mtime_ns) if stat.S_ISREG(info.st_mode) else None
def read_chunks(fd: int, size: int = 1 << 16) -> Iterator[bytes]:
    """The content of an open file, from where it stands, in chunks."""
    while chunk := os.read(fd, size):
        yield chunk


def read_file_at(path: str | os.PathLike[str]) -> bytes:
    """The bytes of the regular file at `path` (see `open_file_at`)."""
    fd = open_file_at(path)
    try:
        return read_fd(fd)
    finally:
        os.close(fd)


def open_file_at(path: str | os.PathLike[str]) -> int:
    """A read-only descriptor of the regular file at `path`, opened relative to its
    directory without following a link at either (UnsafePath otherwise): for
    record paths given whole, as the hooks and the readers hold them."""
    directory, name = os.path.split(os.fspath(path))
    shown = f"{os.path.basename(directory)}/{name}" if directory else name
    if not _HAS_DIR_FD:
        fd = _open_checked(os.fspath(path), os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC, 0, shown, None)
    else:
        try:
            dir_fd = os.open(directory or ".", os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                reason = unsafe_reason(directory) or "not a directory"
                raise UnsafePath(
                    f"{os.path.basename(directory)}/ is {reason}; kitty-ops does not work through it"
                ) from None
            raise
        try:
            fd = _open_checked(name, os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC, 0, shown, dir_fd)
        finally:
            os.close(dir_fd)
    return fd
