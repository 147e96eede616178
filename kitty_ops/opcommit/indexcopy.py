"""The real index's next version, made in a copy before the commit lands: the
index gets the Op's files by one atomic rename."""
from __future__ import annotations

import os

from kitty_ops.errors import CommitSkipped
from kitty_ops.format import safefs
from kitty_ops.format.layout import LIFECYCLE_LOG_RELATIVE_PATH
from kitty_ops.gitio import cachetree, git, gitlock, indexfile
from kitty_ops.opcommit import plumbing
from kitty_ops.opcommit.worktree import identity, link_or_copy, remove

TYPE_CHECKING = False
if TYPE_CHECKING:
    from kitty_ops.opcommit.trees import TreeBuilder
    from kitty_ops.opcommit.worktree import Identity


class IndexCopy:
    """`<git-dir>/index` with the Op's entries, in a temporary file, and the
    identity of the index it copied (`is_current` tells whether that is still
    the real one). Where the copy holds exactly the tip's tree, its cache tree
    says so (`kitty_ops.gitio.cachetree`): git's next `commit` need not rebuild it."""

    def __init__(self, repo: git.Repo, env: dict[str, str], config: dict[str, str | None], trees: TreeBuilder) -> None:
        self.repo = repo
        self.env = env
        self.config = config
        self.trees = trees
        self.index_path = os.path.join(repo.git_path, "index")
        self.new_index = gitlock.temporary_index_path(repo.git_path)
        self.copied: Identity | None = None
        self.update: git.Running | None = None  # the update-index of the copy, still running
        self.from_work_tree: list[str] = []  # the paths that update-index reads from the work tree
        self.cache_counts: tuple[int, int] | None = None  # see `_keep_cache_tree`

    def close(self) -> None:
        if self.update is not None:
            git.finish(self.update, check=False)
        remove(self.new_index)

    def prepare(self, entries: dict[str, str], read_at: dict[str, Identity], wait: bool = True) -> None:
        """The copy with `entries` (path -> blob). Files unchanged since they were
        read (`read_at`) go in from the work tree, so that the index has their stat
        data and git sees them clean; the rest by blob. Without `wait` its last
        git call is left running (`ready`)."""
        entries = dict(entries)
        if self._write_small_index(entries, read_at):
            return
        self.copied = link_or_copy(self.index_path, self.new_index)
        if LIFECYCLE_LOG_RELATIVE_PATH in entries and self._lifecycle_staged_by_user():
            del entries[LIFECYCLE_LOG_RELATIVE_PATH]  # the person's staged version stays
        unchanged = [path for path in entries if path in read_at
                     and safefs.identity(os.path.join(self.repo.top, path)) == read_at[path]]
        by_blob = {path: blob for path, blob in entries.items() if path not in unchanged}
        self._note_cache_tree(entries)
        if by_blob:
            plumbing.run(self.repo, self.env, ["update-index", "--add", "--index-info"], input=git.index_info(by_blob),
                         index=self.new_index)
        self.from_work_tree = unchanged
        if unchanged:
            self.update = git.start(["update-index", "--add", "--", *unchanged], self.repo.top,
                                    env={**self.env, "GIT_INDEX_FILE": self.new_index})
            if wait:
                self.ready()

    def _write_small_index(self, entries: dict[str, str], read_at: dict[str, Identity]) -> bool:
        """The copy written by `kitty_ops.gitio.indexfile`, for a small index whose Op
        files are all as they were read; False when git must make it."""
        if not self.trees.native or LIFECYCLE_LOG_RELATIVE_PATH in entries or "core.sharedrepository" in self.config:
            return False  # the person may have staged lifecycle.jsonl: git is asked
        files = {}
        for path, blob in entries.items():
            try:
                info = os.lstat(os.path.join(self.repo.top, path))
            except OSError:
                return False
            if (info.st_ino, info.st_size, info.st_mtime_ns) != read_at.get(path):
                return False  # changed since it was read and hashed
            files[path] = (blob, info)
        trees = None
        if self.trees.head_tree_ids is not None and self.trees.tip_tree_ids is not None:
            tip_root, tip_events = (bytes.fromhex(oid) for oid in self.trees.tip_tree_ids)
            trees = self.trees.head_tree_ids, (tip_root, tip_events)
        remove(self.new_index)
        try:
            written = indexfile.add(self.index_path, self.new_index, self.repo.top, files, trees)
        except OSError:
            written = None
        if written is None:
            remove(self.new_index)
            return False
        self.copied, self.cache_counts = written[0], None
        return True

    def ready(self) -> None:
        """Wait for the copy's update-index, if one is running; then keep its cache tree."""
        running, self.update = self.update, None
        if running is not None:
            try:
                git.finish(running)
            except git.GitError as exc:
                self._update_again(exc)
        self._keep_cache_tree()

    def _update_again(self, failure: git.GitError) -> None:
        """update-index writes a file's blob when it finds it missing: a concurrent
        `git gc --prune=now` may have taken the one just stored, and then remove
        git's temporary object file too. Store it again, and try once more."""
        if not self.trees.new.restore_missing():
            raise CommitSkipped(plumbing.explain(failure)) from None
        plumbing.run(self.repo, self.env, ["update-index", "--add", "--", *self.from_work_tree], index=self.new_index)

    def is_current(self) -> bool:
        """The real index is still the one copied."""
        return identity(self.index_path) == self.copied

    def replace_real_index(self) -> None:
        os.replace(self.new_index, self.index_path)

    def _note_cache_tree(self, entries: dict[str, str]) -> None:
        """Whether the index copied holds exactly HEAD's tree (`kitty_ops.gitio.cachetree`),
        and so, with the Op's entries, exactly the tip's."""
        self.cache_counts = None
        if self.trees.head_tree_ids is None or self.trees.tip_tree_ids is None:
            return
        try:
            counts = cachetree.counts_if_head(self.new_index, *self.trees.head_tree_ids)
        except (OSError, ValueError):
            return
        if counts is not None:
            added = sum(1 for path in entries if self.trees.in_head.get(path) is None)
            self.cache_counts = counts[0] + added, counts[1] + added

    def _keep_cache_tree(self) -> None:
        """Set the copy's cache tree of the root and `kitty-ops/` to the tip's trees
        (update-index marked both as changed), when `_note_cache_tree` allowed it."""
        counts, self.cache_counts = self.cache_counts, None
        if counts is None or self.trees.tip_tree_ids is None or identity(self.new_index) == self.copied:
            return  # nothing to set, or git left the copy as it was: still the real index's link
        root, events = (bytes.fromhex(oid) for oid in self.trees.tip_tree_ids)
        try:
            cachetree.set_trees(self.new_index, (root, counts[0]), (events, counts[1]))
        except (OSError, ValueError):
            pass  # the cache tree is only a cache: git rebuilds it

    def _lifecycle_staged_by_user(self) -> bool:
        staged = git.read_objects(self.repo.top, [f":{LIFECYCLE_LOG_RELATIVE_PATH}"],
                                  env={**self.env, "GIT_INDEX_FILE": self.new_index})
        staged_blob = (staged[f":{LIFECYCLE_LOG_RELATIVE_PATH}"] or (None,))[0]
        head = self.trees.in_head[LIFECYCLE_LOG_RELATIVE_PATH]
        return staged_blob != (head[0] if head else None)
