"""HEAD's `kitty-ops/` tree, and whether the index stages anything under it, for
the orphans hook without starting git when the answer is plain.

`git diff --cached` reads the whole index (11 MB at 100,000 records) to find
that nothing is staged under `kitty-ops/`, which is the case on almost every
commit. The index's cache tree (`kitty_ops.gitio.cachetree`) holds the tree id of
each directory whose entries are unchanged since a tree was written from it:
when its record of `kitty-ops/` (or of the root) equals HEAD's, the index
holds exactly HEAD's files there, and there is nothing to ask git.

HEAD's tree ids come from its loose commit and root tree objects; anything
this does not read as git would (a packed or replaced commit, packed refs,
reftable, an object directory set in the environment, SHA-256) is asked of
`git ls-tree`, which reads no index.
"""
from __future__ import annotations

import os

from kitty_ops.format.layout import EVENTS_DIR
from kitty_ops.gitio import cachetree, git, objects, refs


def _head_commit(git_dir: str, common_dir: str) -> str | None:
    """HEAD's commit id, None when this cannot tell (git can: an unborn branch too)."""
    try:
        return refs.head_commit(git_dir, common_dir)
    except refs.Unsupported:
        return None


def replaced(common_dir: str) -> bool:
    """Objects may be replaced (`git replace`): git's commands then see other trees."""
    if os.environ.get("GIT_NO_REPLACE_OBJECTS") is not None:
        return False
    if os.path.isdir(os.path.join(common_dir, "refs", "replace")):
        return True
    try:
        with open(os.path.join(common_dir, "packed-refs"), "rb") as handle:
            return b" refs/replace/" in handle.read()
    except OSError:
        return False


def head_trees(git_dir: str, common_dir: str) -> tuple[bytes, bytes | None] | None:
    """(HEAD's root tree id, its `kitty-ops/` tree id or None), 20-byte ids, read from
    loose objects; None when git must be asked."""
    if os.environ.get("GIT_OBJECT_DIRECTORY") or os.environ.get("GIT_ALTERNATE_OBJECT_DIRECTORIES"):
        return None
    try:
        commit_id = _head_commit(git_dir, common_dir)
    except OSError:
        return None
    if commit_id is None or len(commit_id) != 40 or replaced(common_dir):
        return None
    objects_dir = os.path.join(common_dir, "objects")
    commit = objects.read_loose(objects_dir, commit_id)
    if commit is None or commit[0] != b"commit" or not commit[1].startswith(b"tree ") or commit[1][45:46] != b"\n":
        return None
    root_id = commit[1][5:45].decode()
    root = objects.read_loose(objects_dir, root_id)
    if root is None or root[0] != b"tree":
        return None
    entry = objects.TreeEdit(root[1]).get(EVENTS_DIR.encode())
    if entry is not None and entry[0] != objects.TREE_MODE:
        return None  # a `kitty-ops` that is not a directory: git reports it
    return bytes.fromhex(root_id), entry[1] if entry else None


def index_path(git_dir: str) -> str:
    """The index the commit is made from: git names a temporary one in
    `GIT_INDEX_FILE` for `git commit -a` or `git commit <paths>`."""
    return os.environ.get("GIT_INDEX_FILE") or os.path.join(git_dir, "index")


def nothing_staged(index: str, trees: tuple[bytes | None, bytes | None]) -> bool:
    """True when the cache tree of the index at `index` proves it holds HEAD's
    files under `kitty-ops/` (HEAD's `trees`, from `head_trees`); False when it
    does not say so (git must be asked)."""
    try:
        valid = cachetree.valid_trees(index)
    except OSError:
        return False
    if valid is None:
        return False
    root, events = valid
    return (root is not None and root == trees[0]) or (events is not None and events == trees[1])


class HeadQuery:
    """`head_events_tree`'s answer, with git (when it must be asked) running
    meanwhile: `finish()` gives it."""

    def __init__(self, git_dir: str | None, common_dir: str | None, cwd: str = ".",
                 env: dict[str, str] | None = None) -> None:
        self.git_dir = git_dir
        self.loose = head_trees(git_dir, common_dir) if git_dir and common_dir else None
        self.running = None if self.loose is not None else \
            git.start(["ls-tree", "-z", "HEAD", "--", EVENTS_DIR], cwd, env=env)

    def _events_tree_from_git(self) -> bytes | None:
        """HEAD's `kitty-ops/` tree id from `git ls-tree` (None: no such tree, or no HEAD)."""
        assert self.running is not None
        try:
            entry = git.finish(self.running)
        except git.GitError:
            return None
        parts = entry.partition(b"\t")[0].split()
        return bytes.fromhex(parts[2].decode()) if len(parts) == 3 and parts[1] == b"tree" else None

    def finish(self) -> tuple[str | None, bool]:
        trees = self.loose if self.loose is not None else (None, self._events_tree_from_git())
        if self.git_dir is None or trees == (None, None):
            return None, False
        return (trees[1].hex() if trees[1] else None), nothing_staged(index_path(self.git_dir), trees)


def head_events_tree(git_dir: str | None, common_dir: str | None, cwd: str = ".",
                     env: dict[str, str] | None = None) -> tuple[str | None, bool]:
    """(HEAD's `kitty-ops/` tree id in hex or None, whether the index provably
    stages nothing under it). HEAD's trees are read from loose objects, else
    asked of `git ls-tree` (one cheap call, which does not read the index)."""
    return HeadQuery(git_dir, common_dir, cwd, env).finish()
