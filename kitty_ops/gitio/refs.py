"""Moving HEAD's branch to an Op commit as git's files ref backend does, without
running `git update-ref` (a process that the Op commit would run while it
holds `index.lock`, which a person's git command meets).

`refs/heads/<branch>.lock` is created exclusively, as git creates it (its
directories too: `pack-refs` removes them with the loose ref), retried for
`core.filesRefLockTimeout` as git retries; so this and any git command
updating the branch exclude each other. HEAD is locked as well while its reflog
gets its line (git's split HEAD update), the value is checked under the lock
(compare-and-swap), and the lock is renamed over the ref. Only in the plain
case: reftable, a `reference-transaction` hook, `core.hooksPath`, shared
permissions, a branch that is itself a symbolic ref, and any identity or date
git would work out itself, go to `git update-ref` (`Unsupported`).
"""
from __future__ import annotations

import os
import time

DEFAULT_LOCK_TIMEOUT_MS = 100  # git's default core.filesRefLockTimeout


class Unsupported(Exception):
    """Not the plain case: let `git update-ref` do it."""


class Moved(Exception):
    """The branch is not at the expected commit (another command moved it)."""


class Locked(Exception):
    """Another command holds the ref's lock for longer than git itself would wait."""


def files_backend(common_dir: str, config: dict[str, str | None]) -> bool:
    """Whether refs are files and packed-refs (not reftable), as this module reads them."""
    storage = (config.get("extensions.refstorage") or "files").strip().lower()
    return storage == "files" and not os.path.exists(os.path.join(common_dir, "reftable"))


def plain_case(common_dir: str, config: dict[str, str | None]) -> bool:
    """Whether `move_branch` may do the update in this repository."""
    hooks = os.path.join(common_dir, "hooks", "reference-transaction")
    return files_backend(common_dir, config) and not (
        "core.hookspath" in config
        or "core.sharedrepository" in config
        or os.path.exists(hooks)
    )


def lock_timeout_ms(config: dict[str, str | None]) -> int:
    """`core.filesRefLockTimeout` (milliseconds; git's default 100, negative: for ever)."""
    try:
        value = int((config.get("core.filesreflocktimeout") or "").strip())
    except ValueError:
        return DEFAULT_LOCK_TIMEOUT_MS
    return 60_000 if value < 0 else value


def head_target(git_dir: str) -> str | None:
    """The ref HEAD points at (`refs/heads/main`), None when HEAD is detached.
    Unsupported when HEAD is not as the files backend writes it (reftable's
    placeholder `refs/heads/.invalid`, anything else): git knows."""
    try:
        with open(os.path.join(git_dir, "HEAD"), "rb") as handle:
            head = handle.read(4096).decode(errors="surrogateescape").strip()
    except OSError as exc:
        raise Unsupported(f"HEAD cannot be read ({exc.strerror})") from None
    if head.startswith("ref: refs/") and head != "ref: refs/heads/.invalid":
        return head[len("ref: "):]
    if len(head) in (40, 64) and all(char in "0123456789abcdef" for char in head):
        return None
    raise Unsupported("HEAD is not a plain file")


def head_commit(git_dir: str, common_dir: str) -> str | None:
    """HEAD's commit id from the ref files, None for an unborn branch; Unsupported
    where git must be asked (see `head_target`, `read`)."""
    target = head_target(git_dir)
    if target is None:
        with open(os.path.join(git_dir, "HEAD"), "rb") as handle:
            return handle.read(4096).decode().strip()
    return read(common_dir, target)


def read(common_dir: str, ref: str) -> str | None:
    """The value of `ref` (a full ref name) in the files backend: its loose file,
    else packed-refs; None when absent. Unsupported for a symbolic ref."""
    try:
        with open(os.path.join(common_dir, ref), "rb") as handle:
            value = handle.read(4096).decode(errors="replace").strip()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        value = ""
    if value.startswith("ref:"):
        raise Unsupported(f"{ref} is a symbolic ref")
    if value:
        return value
    try:
        with open(os.path.join(common_dir, "packed-refs"), "rb") as handle:
            for line in handle:
                oid, _, name = line.decode(errors="replace").strip().partition(" ")
                if name == ref:
                    return oid
    except FileNotFoundError:
        pass
    return None


def move_branch(common_dir: str, git_dir: str | None, branch: str, new: str, old: str, committer: bytes,
                message: str, log_all: str | None, timeout_ms: int = DEFAULT_LOCK_TIMEOUT_MS) -> None:
    """Point `branch` from `old` to `new`, with a reflog line for it and, with
    `git_dir`, for HEAD, which points at it (`committer`: `Name <email> <seconds>
    <+hhmm>`; `log_all`: `core.logAllRefUpdates`, or "always" for a reflog
    created whatever the setting, as `update-ref --create-reflog`). Moved,
    Locked, Unsupported, or OSError."""
    path = os.path.join(common_dir, branch)
    deadline = time.monotonic() + timeout_ms / 1000
    fd = _lock(path, deadline)
    head_fd = -1
    try:
        try:
            if git_dir is not None:
                head_fd = _lock(os.path.join(git_dir, "HEAD"), deadline)
                if head_target(git_dir) != branch:
                    raise Moved(f"HEAD no longer points at {branch}")
            current = read(common_dir, branch)
            if current != old:
                raise Moved(f"{branch} is at {current}, not {old}")
            os.write(fd, new.encode() + b"\n")
        finally:
            os.close(fd)
        entry = f"{old} {new} ".encode() + committer + b"\t" + message.replace("\n", " ").encode() + b"\n"
        create = (log_all or "true").strip().lower() not in ("false", "no", "off", "0")
        _append_log(os.path.join(common_dir, "logs", branch), entry, create)
        if git_dir is not None:
            _append_log(os.path.join(git_dir, "logs", "HEAD"), entry, create)
        os.rename(path + ".lock", path)
    except BaseException:
        _remove(path + ".lock")
        raise
    finally:
        if head_fd >= 0:
            os.close(head_fd)
            _remove(os.path.join(git_dir or "", "HEAD.lock"))


def _lock(path: str, deadline: float) -> int:
    """Create `<path>.lock` exclusively (and the directories it is in), retrying
    until `deadline` as git does while another command holds it."""
    lock = path + ".lock"
    while True:
        try:
            return os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileNotFoundError:  # the directory was removed (pack-refs, gc): make it again
            if time.monotonic() >= deadline:
                raise
            os.makedirs(os.path.dirname(lock), exist_ok=True)
            continue
        except FileExistsError:
            if time.monotonic() >= deadline:
                raise Locked(f"{lock} is held by another git command") from None
        time.sleep(0.002)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _append_log(path: str, entry: bytes, create: bool) -> None:
    flags = os.O_WRONLY | os.O_APPEND | (os.O_CREAT if create else 0)
    try:
        fd = os.open(path, flags, 0o666)
    except FileNotFoundError:
        if not create:
            return  # logging is off and this ref has no log: git writes none either
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, flags, 0o666)
    try:
        os.write(fd, entry)
    finally:
        os.close(fd)
