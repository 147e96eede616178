"""The Op commit's files outside the object store: records and the lifecycle
log in the work tree (read without following links), and the index copies
in the git directory."""
from __future__ import annotations

import os

from kitty_ops.errors import KittyOpsError
from kitty_ops.format import safefs
from kitty_ops.format.layout import LIFECYCLE_LOG_RELATIVE_PATH, op_id_from_path
from kitty_ops.format.scan import scan_record
from kitty_ops.system.warn import warn

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from kitty_ops.gitio import git

Identity = tuple[int, int, int]  # (inode, size, mtime in ns): the file as it was read


class NotCompleted(KittyOpsError):
    """The Op is still open: its record is never committed."""


class NoSuchRecord(KittyOpsError):
    """The record is not in the work tree."""


def read_record(
    repo: git.Repo, path: str, read_at: dict[str, Identity] | None = None
) -> tuple[bytes, dict[str, Any], dict[str, Any]]:
    """(content, started, completed) of a committable record; KittyOpsError
    otherwise. `read_at` gets the file's identity as it was read."""
    op_id = op_id_from_path(path) or path
    try:
        content, identity = safefs.read_events_file_stat(repo.top, path.rsplit("/", 1)[-1])
        if read_at is not None:
            read_at[path] = identity
    except FileNotFoundError:
        raise NoSuchRecord(f"{op_id}: no such Op (no {path})") from None
    except OSError as exc:
        raise KittyOpsError(f"{op_id}: cannot read {path}: {exc.strerror or exc}") from None
    scan = scan_record(content, op_id)
    if scan.problems:
        raise KittyOpsError(f"{op_id}: {path} is invalid and is never committed ({scan.problems[0]})")
    if scan.completed is None:
        raise NotCompleted(f"{op_id}: not completed; open Ops are never committed")
    return content, scan.started or {}, scan.completed


def is_open(repo: git.Repo, path: str) -> bool:
    try:
        read_record(repo, path)
    except NotCompleted:
        return True
    except KittyOpsError:
        return False
    return False


def read_optional(repo: git.Repo, path: str, read_at: dict[str, Identity] | None = None) -> bytes | None:
    """A file under kitty-ops/ read without following links; None when absent.
    A link or special file there is refused: nothing is committed next to it."""
    try:
        content, identity = safefs.read_events_file_stat(repo.top, path.rsplit("/", 1)[-1])
        if read_at is not None:
            read_at[path] = identity
        return content
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise KittyOpsError(f"cannot read {path}: {exc.strerror or exc}") from None


def append_working_log(repo: git.Repo, lines: bytes, committed: bytes) -> None:
    """Put the lifecycle lines just committed into the working file too."""
    name = LIFECYCLE_LOG_RELATIVE_PATH.rsplit("/", 1)[-1]
    try:
        fd = safefs.open_in_events_dir(repo.top, name, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    except OSError as exc:
        warn("could not write %s: %s", LIFECYCLE_LOG_RELATIVE_PATH, exc.strerror or exc)
        return
    try:
        if os.fstat(fd).st_size == 0:
            lines = committed  # a new file: all that HEAD has, ours included
        os.write(fd, lines)
    except OSError as exc:
        warn("could not write %s: %s", LIFECYCLE_LOG_RELATIVE_PATH, exc.strerror or exc)
    finally:
        os.close(fd)


def identity(path: str) -> Identity | None:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def link_or_copy(source: str, target: str) -> Identity | None:
    """The index at `source` under the name `target`; the identity of what was
    taken (None: no index yet). A hard link where the file system has them: git
    never writes an index in place (it writes `<name>.lock` and renames it over),
    so the update-index of the copy replaces the link and leaves the real index
    as it was; copying 11 MB at 100,000 records cost more than the update."""
    remove(target)  # taken again after the index changed: never write through an old link
    try:
        os.link(source, target)
    except FileNotFoundError:
        return None  # no index yet: git starts from an empty one
    except OSError:
        return copy(source, target)
    return identity(target)


def copy(source: str, target: str) -> Identity | None:
    """Copy the index at `source`; the identity of what was copied (None: no index yet)."""
    try:
        with open(source, "rb") as handle:
            stat = os.fstat(handle.fileno())
            data = handle.read()
    except FileNotFoundError:
        return None  # no index yet: git starts from an empty one
    with open(target, "wb") as handle:
        handle.write(data)
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def remove(path: str) -> None:
    """Remove `path` and its `.lock`, where they exist."""
    for leftover in (path, path + ".lock"):
        try:
            os.unlink(leftover)
        except FileNotFoundError:
            pass
