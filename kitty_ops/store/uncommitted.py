"""Completions whose Op commit has not landed yet, noted in the git directory.

Every Op commit first commits the older records that were completed and not
committed (the person was at work, the session died between the two, or the
completion said `--no-commit`). Asking git which files under `kitty-ops/` are
untracked or changed reads the whole index and lists the whole directory: at
100,000 records that alone costs more than a person's own `git commit`. So
`complete` notes its Op here, in `<git-dir>/kitty-ops/uncommitted/` (local,
never committed), before it appends the `completed` line; the Op commit heals
what is noted and forgets each note once its record is in the target.

A record completed by anything other than kitty-ops (another tool, a hand
edit) has no note: the orphans hook warns about it, `doctor ops` lists it, and
`kitty-ops commit --pending`, which asks git, commits it.

Standard library only; every operation is best effort (a note that cannot be
made only costs the healing of that record, which `commit --pending` does).
"""
from __future__ import annotations

import os

from kitty_ops.format.ulid import is_ulid

NOTES_DIR = os.path.join("kitty-ops", "uncommitted")  # under the work tree's git directory
LANDED_DIR = os.path.join("kitty-ops", "landed")  # records another completion's Op commit took along
LANDED_KEPT_SECONDS = 3600.0  # a landed note nobody took (its completion died) is removed after this


def note(git_dir: str, op_id: str) -> None:
    """Note that `op_id` is being completed and is not committed yet."""
    directory = os.path.join(git_dir, NOTES_DIR)
    try:
        try:
            fd = os.open(os.path.join(directory, op_id), os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except FileNotFoundError:
            os.makedirs(directory, exist_ok=True)
            fd = os.open(os.path.join(directory, op_id), os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        os.close(fd)
    except OSError as exc:
        from kitty_ops.system.warn import warn

        warn("Op %s: could not note it as not yet committed: %s", op_id, exc.strerror or exc)


def noted(git_dir: str) -> list[str]:
    """The Op ids noted as completed and not committed, oldest first."""
    try:
        names = os.listdir(os.path.join(git_dir, NOTES_DIR))
    except OSError:
        return []
    return sorted(name for name in names if is_ulid(name))


def forget(git_dir: str, op_ids: list[str]) -> None:
    """Drop the notes of `op_ids` (their records are committed, or gone)."""
    directory = os.path.join(git_dir, NOTES_DIR)
    for op_id in op_ids:
        try:
            os.unlink(os.path.join(directory, op_id))
        except OSError:
            pass


def note_landed(git_dir: str, commits: dict[str, str]) -> None:
    """Tell the completions whose records this Op commit took along (a group
    commit: one lock for many Ops) which commit holds each (`commits`: Op id ->
    commit id); notes older than LANDED_KEPT_SECONDS, whose completion never
    came for them, go."""
    import time

    directory = os.path.join(git_dir, LANDED_DIR)
    try:
        os.makedirs(directory, exist_ok=True)
        now = time.time()
        for name in os.listdir(directory):
            path = os.path.join(directory, name)
            if name not in commits and now - os.lstat(path).st_mtime > LANDED_KEPT_SECONDS:
                os.unlink(path)
        for op_id, commit in commits.items():
            fd = os.open(os.path.join(directory, op_id), os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
            try:
                os.write(fd, commit.encode())
            finally:
                os.close(fd)
    except OSError:
        pass  # the completion then reports its record as already in HEAD


def take_landed(git_dir: str, op_id: str) -> str | None:
    """The commit that another completion's Op commit made of `op_id`'s record
    (`note_landed`), or None; the note is removed."""
    path = os.path.join(git_dir, LANDED_DIR, op_id)
    try:
        with open(path, "rb") as handle:
            commit = handle.read(100).decode("ascii", errors="replace").strip()
        os.unlink(path)
    except OSError:
        return None
    return commit or None
