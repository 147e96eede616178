"""Moving HEAD's branch to an Op commit as git's files ref backend does, without
running `git update-ref` (a process that the Op commit would run while it
holds `index.lock`, which a person's git command meets).

`refs/heads/<branch>.lock` is created exclusively, as git creates it, so this
and any git command updating the branch exclude each other; the value is
checked under it (compare-and-swap), the reflogs of the branch and of HEAD get
their line, and the lock is renamed over the ref. Only in the plain case: a
repository with reftable, a `reference-transaction` hook, `core.hooksPath`,
shared permissions, or a branch that is itself a symbolic ref, and any
identity or date git would work out itself, go to `git update-ref`
(`Unsupported`).
"""
from __future__ import annotations

import os


class Unsupported(Exception):
    """Not the plain case: let `git update-ref` do it."""


class Moved(Exception):
    """The branch is not at the expected commit (another command moved it)."""


def plain_case(common_dir: str, config: dict[str, str | None]) -> bool:
    """Whether `move_branch` may do the update in this repository."""
    hooks = os.path.join(common_dir, "hooks", "reference-transaction")
    return not (
        os.path.exists(os.path.join(common_dir, "reftable"))
        or "extensions.refstorage" in config
        or "core.hookspath" in config
        or "core.sharedrepository" in config
        or os.path.exists(hooks)
    )


def move_branch(common_dir: str, git_dir: str | None, branch: str, new: str, old: str, committer: bytes,
                message: str, log_all: str | None) -> None:
    """Point `branch` from `old` to `new`, with a reflog line for it and, with
    `git_dir`, for HEAD, which points at it (`committer`: `Name <email> <seconds>
    <+hhmm>`; `log_all`: `core.logAllRefUpdates`, or "always" for a reflog
    created whatever the setting, as `update-ref --create-reflog`). Moved,
    Unsupported, or OSError."""
    path = os.path.join(common_dir, branch)
    lock = path + ".lock"
    try:
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except FileExistsError:
        raise Moved(f"{branch} is being updated by another command ({lock} exists)") from None
    try:
        try:
            current = _current(common_dir, branch)
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
        os.rename(lock, path)
    except BaseException:
        try:
            os.unlink(lock)
        except FileNotFoundError:
            pass
        raise


def _current(common_dir: str, branch: str) -> str | None:
    """The branch's value from its loose file, else from packed-refs."""
    try:
        with open(os.path.join(common_dir, branch), "rb") as handle:
            value = handle.read().decode(errors="replace").strip()
    except FileNotFoundError:
        value = ""
    if value.startswith("ref:"):
        raise Unsupported(f"{branch} is a symbolic ref")
    if value:
        return value
    try:
        with open(os.path.join(common_dir, "packed-refs"), "rb") as handle:
            for line in handle:
                oid, _, name = line.decode(errors="replace").strip().partition(" ")
                if name == branch:
                    return oid
    except FileNotFoundError:
        pass
    return None


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
