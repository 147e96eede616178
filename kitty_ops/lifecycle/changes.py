"""What a command changed in the work tree, in git's view (`run --artifacts changed`).

Before the command: HEAD, and every path git reports as changed or untracked
(`git status --untracked-files=all`) with the state of its file. After it,
a path was created or changed by the command when it exists and either was
clean before and is changed now (in the work tree, or in commits the command
made), or was already changed before and its content differs. Ignored files
and `kitty-ops/` itself are never reported; nor are deleted files (they are
no artifact).
"""
from __future__ import annotations

import os
from pathlib import Path

from kitty_ops.format.layout import EVENTS_DIR
from kitty_ops.gitio import git


class Snapshot:
    """The work tree as git saw it at one moment."""

    __slots__ = ("head", "dirty")

    def __init__(self, head: str | None, dirty: dict[str, str | None]) -> None:
        self.head = head  # the commit HEAD named, None on an unborn branch
        self.dirty = dirty  # changed or untracked path -> its state (see `_states`)


def _dirty_paths(repo: git.Repo) -> list[str]:
    raw = git.run(["status", "--porcelain", "-z", "--untracked-files=all", "--no-renames"], repo.root).stdout
    paths = [entry[3:] for entry in raw.decode(errors="surrogateescape").split("\0") if len(entry) > 3]
    return [path for path in paths if not path.startswith(f"{EVENTS_DIR}/")]


def _head(repo: git.Repo) -> str | None:
    return git.object_ids(repo, ["HEAD^{commit}"])["HEAD^{commit}"]


def _states(repo: git.Repo, paths: list[str]) -> dict[str, str | None]:
    """A file's state: its blob id (a regular file), `link:<target>`, `other`
    (a submodule, ...), or None when there is no file."""
    states: dict[str, str | None] = {}
    regular = []
    for path in paths:
        full = repo.root / path
        try:
            mode = os.lstat(full).st_mode
        except OSError:
            states[path] = None
            continue
        if os.path.islink(full):
            states[path] = f"link:{os.readlink(full)}"
        elif os.path.isfile(full):
            regular.append(path)
        else:
            states[path] = f"other:{mode:o}"
    if regular:
        stdin = "".join(f"{path}\n" for path in regular).encode(errors="surrogateescape")
        blobs = git.run(["hash-object", "--stdin-paths"], repo.root, input=stdin).stdout.decode().split()
        states.update(zip(regular, blobs, strict=True))
    return states


def _committed_paths(repo: git.Repo, before: str | None, after: str | None) -> set[str]:
    """Paths that commits made since `before` changed."""
    if after is None or before == after:
        return set()
    if before is None:  # the first commit of the branch
        before = git.output(["hash-object", "-t", "tree", "--stdin"], repo.root, input=b"")
    raw = git.run(["diff", "--name-only", "-z", "--no-renames", before, after, "--"], repo.root).stdout
    return {path for path in git.split_z(raw) if not path.startswith(f"{EVENTS_DIR}/")}


def _repo(repo_root: Path | str) -> git.Repo:
    repo = git.find_repo(repo_root)
    if repo is None:
        from kitty_ops.errors import InvalidInput

        raise InvalidInput(f"{repo_root}: not a git repository (--artifacts changed asks git what changed)")
    return repo


def snapshot(repo_root: Path | str) -> Snapshot:
    """The work tree now: HEAD, and the state of every changed or untracked file."""
    repo = _repo(repo_root)
    return Snapshot(_head(repo), _states(repo, _dirty_paths(repo)))


def changed_since(repo_root: Path | str, before: Snapshot) -> list[str]:
    """The files created or changed since `before`, sorted."""
    repo = _repo(repo_root)
    now_dirty = set(_dirty_paths(repo)) | _committed_paths(repo, before.head, _head(repo))
    again = _states(repo, sorted(set(before.dirty)))
    changed = {path for path in now_dirty - set(before.dirty) if os.path.lexists(repo.root / path)}
    changed |= {path for path, state in again.items() if state is not None and state != before.dirty[path]}
    return sorted(changed)
