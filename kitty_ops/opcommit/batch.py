"""A chain of Op commits, one per record, prepared and then landed."""
from __future__ import annotations

import os
import time

from kitty_ops.errors import CommitSkipped, KittyOpsError
from kitty_ops.format import lifecycle_log as lifecycle
from kitty_ops.format import safefs
from kitty_ops.format.layout import GITATTRIBUTES_PATH, LIFECYCLE_LOG_RELATIVE_PATH, op_id_from_path
from kitty_ops.format.scan import scan_record
from kitty_ops.gitio import git, objects
from kitty_ops.opcommit import plumbing
from kitty_ops.opcommit.indexcopy import IndexCopy
from kitty_ops.opcommit.landing import RefMover
from kitty_ops.opcommit.message import commit_message, python_identities, timestamp
from kitty_ops.opcommit.newobjects import wait_for_gc
from kitty_ops.opcommit.quiet import IndexLock
from kitty_ops.opcommit.trees import TreeBuilder
from kitty_ops.opcommit.worktree import append_working_log, read_optional, read_record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from kitty_ops.opcommit.worktree import Identity

SHARED_FILES = (LIFECYCLE_LOG_RELATIVE_PATH, GITATTRIBUTES_PATH)  # committed beside the records


class OpCommits:
    """A chain of Op commits on HEAD (or, in ref mode, on `ref`): prepared
    without git's index lock (trees and commits by `TreeBuilder`, the real
    index's next version by `IndexCopy`), then landed under it (`RefMover`).

    Holding index.lock is what a person's git command meets at its start, so
    it is held only to check that HEAD and the index are still what the
    commits were made from, and to move both.
    """

    def __init__(self, repo: git.Repo, env: dict[str, str], sign: bool, paths: list[str], ref: str | None,
                 config: dict[str, str | None], index_lock_seconds: float) -> None:
        self.repo = repo
        self.env = env
        self.sign = sign
        self.paths = paths
        self.ref = ref  # None: HEAD, its index and work tree; else a ref of kitty-ops' own
        self.index_lock_seconds = index_lock_seconds
        self.identities = None if sign else python_identities(config)
        self.trees = TreeBuilder(repo, env, config, os.path.join(repo.common_path, "objects"))
        self.index = IndexCopy(repo, env, config, self.trees)
        self.mover = RefMover(repo, env, config, self.identities)
        self.results: dict[str, str | KittyOpsError | None] = {}
        self.index_entries: dict[str, str] = {}  # path -> blob, for the real index
        self.read_at: dict[str, Identity] = {}  # path -> identity of the file as committed
        self.lifecycle: tuple[str, str, bytes] | None = None  # the tip's lifecycle.jsonl (blob, "blob", content)
        self.lifecycle_lines = b""  # what the chain adds to it
        self.head: str | None = None
        self.tip: str | None = None
        self.last_subject = ""
        self.moved_at = 0  # time.time_ns() once the target ref moved

    def __enter__(self) -> OpCommits:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.index.close()
        self.trees.close()

    def prepare(self) -> None:
        for path in SHARED_FILES:
            reason = safefs.unsafe_reason(os.path.join(self.repo.top, path))
            if reason:
                problem = KittyOpsError(f"{path} is {reason}; kitty-ops commits nothing next to it")
                self.results = {record: problem for record in self.paths}
                return
        self.head = git.ref_commit(self.repo, self.ref) if self.ref else plumbing.head_commit(self.repo)
        self.tip = self.head
        self.lifecycle = self.trees.read_head(self.head, [*SHARED_FILES, *self.paths])[LIFECYCLE_LOG_RELATIVE_PATH]
        for number, path in enumerate(self.paths):
            try:
                self.results[path] = self._commit_one(path)
            except CommitSkipped as exc:  # git could not commit (a signer, a hook): nor the next
                self.results.update(dict.fromkeys(self.paths[number:], exc))
                break
            except KittyOpsError as exc:
                self.results[path] = exc
        if self.tip != self.head and self.ref is None:
            self.index.prepare(self.index_entries, self.read_at, wait=False)  # runs while the trees are written
        self.trees.new.flush()
        self.index.ready()

    def _commit_one(self, path: str) -> str | None:
        content, started, completed = read_record(self.repo, path, self.read_at)
        in_head = self.trees.in_head.get(path)
        head_content = in_head[2] if in_head else None
        if head_content == content:
            return None
        entries = {path: content}
        if head_content is None or scan_record(head_content).completed is None:
            lines = lifecycle.lines_for(started, completed)
            if lines:
                base = self.lifecycle[2] if self.lifecycle else b""
                entries[LIFECYCLE_LOG_RELATIVE_PATH] = base + lines
        if self.trees.in_head[GITATTRIBUTES_PATH] is None and GITATTRIBUTES_PATH not in self.index_entries:
            attributes = read_optional(self.repo, GITATTRIBUTES_PATH, self.read_at)
            if attributes is not None:
                entries[GITATTRIBUTES_PATH] = attributes
        blobs = {name: self.trees.store_blob(data) for name, data in entries.items()}
        tree = self.trees.tree_with(blobs)
        op_id = op_id_from_path(path) or ""
        self.tip = self._commit(tree, commit_message(started["profile_id"], started["action"], op_id))
        if LIFECYCLE_LOG_RELATIVE_PATH in entries:
            new = entries[LIFECYCLE_LOG_RELATIVE_PATH]
            self.lifecycle_lines += new[len(self.lifecycle[2]) if self.lifecycle else 0 :]
            self.lifecycle = (blobs[LIFECYCLE_LOG_RELATIVE_PATH], "blob", new)
        self.index_entries.update(blobs)
        return self.tip

    def _commit(self, tree: str, message: str) -> str:
        self.last_subject = message.splitlines()[0]
        parents = [self.tip] if self.tip else []
        if self.trees.native and self.identities is not None:  # what `git commit-tree` would write
            stamp = timestamp()
            author, committer = (identity + b" " + stamp for identity in self.identities)
            return self.trees.new.name(b"commit", objects.commit_object(tree, parents, author, committer,
                                                                        message.encode()))
        self.trees.new.flush()  # git reads the tree (and the parent) it is given
        return plumbing.commit_tree(self.repo, self.env, tree, parents, self.sign, message)

    def land(self, last_try: bool = False) -> bool:
        """Under index.lock: move HEAD (compare-and-swap) and the real index, then
        the working log. False when HEAD moved since `prepare` (prepare again),
        or the real index did (a person's `git add`, `git status`): copying it
        takes git calls, not to be made while the person meets the lock, but on
        the `last_try`. In ref mode only the ref moves (compare-and-swap, with a reflog)."""
        message = f"commit: {self.last_subject}"
        if self.ref is not None:
            self.mover.move_ref(self.ref, self.head, self.tip or "", message)
            self.moved_at = time.time_ns()
            return True
        self.index.ready()
        if not last_try and not self.index.is_current():
            return False  # seen without the lock: the person's git add, git status
        with IndexLock(self.repo, self.index_lock_seconds) as lock:
            if plumbing.head_commit(self.repo) != self.head:
                return False
            current = self.index.is_current()
            if not current and not last_try:
                return False
            lock.ensure_quiet()  # the process table, last: it is the longest check
            if not current:
                self.index.prepare(self.index_entries, self.read_at)
            self.mover.move_head(self.head, self.tip or "", message)
            self.moved_at = time.time_ns()
            self.index.replace_real_index()
            if self.lifecycle_lines:
                append_working_log(self.repo, self.lifecycle_lines, self.lifecycle[2] if self.lifecycle else b"")
        return True

    def outlast_gc(self) -> None:
        """Once landed: a `git gc --prune=now` that walked the refs before they named
        the new objects deletes them. Wait for a gc that was running then to end,
        and store again what it took (`kitty_ops.opcommit.newobjects`)."""
        if self.trees.new.stored and self.moved_at:
            wait_for_gc(self.repo.common_path, self.moved_at, git.GIT_TIMEOUT_SECONDS)
            self.trees.new.restore_missing()
