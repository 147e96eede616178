"""HEAD's trees read, and the tip's trees made: each Op commit's tree is its
parent's with the Op's files under `kitty-ops/` set."""
from __future__ import annotations

from kitty_ops.errors import CommitSkipped
from kitty_ops.format.layout import EVENTS_DIR
from kitty_ops.gitio import git, gitlock, objects, stagedtree
from kitty_ops.opcommit import plumbing
from kitty_ops.opcommit.newobjects import NewObjects
from kitty_ops.opcommit.worktree import remove

TYPE_CHECKING = False
if TYPE_CHECKING:
    InHead = dict[str, tuple[str, str, bytes] | None]  # path -> (blob id, "blob", content) in HEAD, or None


class TreeBuilder:
    """The trees of a chain of Op commits on `head`.

    SHA-1 repositories that are not shared (`native`): HEAD's trees are read
    from the object store where they are loose (as the last commit left them),
    else from git once, and the `kitty-ops` tree's entries are looked up and
    edited here (`objects.TreeEdit`), the new trees written by `new` (NewObjects).
    Others, and a first commit, go through git and a temporary index.
    """

    def __init__(self, repo: git.Repo, env: dict[str, str], config: dict[str, str | None], objects_dir: str) -> None:
        self.repo = repo
        self.env = env
        self.config = config
        self.objects_dir = objects_dir
        self.new = NewObjects(objects_dir)
        self.native = False
        self.root = objects.TreeEdit(b"")
        self.events = objects.TreeEdit(b"")
        self.tree_index = gitlock.temporary_index_path(repo.git_path)
        self.head_tree_ids: tuple[bytes, bytes] | None = None  # HEAD's root and kitty-ops trees (native)
        self.tip_tree_ids: tuple[str, str] | None = None  # the tip's root and kitty-ops trees (native)
        self.in_head: InHead = {}

    def close(self) -> None:
        remove(self.tree_index)

    def read_head(self, head: str | None, paths: list[str]) -> InHead:
        """HEAD's versions of `paths` (files under kitty-ops/), kept as `in_head`;
        its trees taken to edit."""
        self.native = (bool(head) and len(head or "") == 40 and "core.sharedrepository" not in self.config
                       and (self.config.get("extensions.objectformat") or "sha1").lower() == "sha1"
                       and self._take_trees(head or ""))
        if self.native:
            self.in_head = self._blobs_in_head(head or "", paths)
        else:
            specs = [f"{head}:{path}" for path in paths] if head else []
            by_spec = git.read_objects(self.repo.top, specs, env=self.env) if specs else {}
            self.in_head = {path: by_spec.get(f"{head}:{path}") for path in paths}
            plumbing.read_tree(self.repo, self.env, head, self.tree_index)
        return self.in_head

    def _take_trees(self, head: str) -> bool:
        """Read HEAD's root and `kitty-ops` trees; False when git must do the work."""
        trees = self._loose_trees(head)
        if trees is None:
            specs = [f"{head}^{{tree}}", f"{head}:{EVENTS_DIR}"]
            found = git.read_objects(self.repo.top, specs, env=self.env)
            root, events = (found.get(spec) for spec in specs)
            if root is None or (events is not None and events[1] != "tree"):
                return False  # a `kitty-ops` that is not a directory: git reports it
            named = objects.TreeEdit(root[2]).get(EVENTS_DIR.encode())
            if events is None and named is not None and named[0] == objects.TREE_MODE:
                raise CommitSkipped(plumbing.MISSING_TIP.format(head[:8]))  # named, but not there
            trees = root[2], events[2] if events else b""
        self.root, self.events = objects.TreeEdit(trees[0]), objects.TreeEdit(trees[1])
        events_entry = self.root.get(EVENTS_DIR.encode())
        if events_entry is not None:
            self.head_tree_ids = bytes.fromhex(objects.hashed(b"tree", trees[0])[0]), events_entry[1]
        return True

    def _loose_trees(self, head: str) -> tuple[bytes, bytes] | None:
        if stagedtree.replaced(self.repo.common_path):
            return None  # git reads the replacements: let it
        commit = objects.read_loose(self.objects_dir, head)
        if commit is None or commit[0] != b"commit" or not commit[1].startswith(b"tree "):
            return None
        root = objects.read_loose(self.objects_dir, commit[1][5:45].decode())
        if root is None or root[0] != b"tree":
            return None
        entry = objects.TreeEdit(root[1]).get(EVENTS_DIR.encode())
        if entry is None:
            return root[1], b""
        events = objects.read_loose(self.objects_dir, entry[1].hex()) if entry[0] == objects.TREE_MODE else None
        return (root[1], events[1]) if events is not None and events[0] == b"tree" else None

    def _blobs_in_head(self, head: str, paths: list[str]) -> InHead:
        """`{path: (blob id, "blob", content)}` of HEAD's files among `paths`, by blob id."""
        ids: dict[str, str] = {}
        for path in paths:
            entry = self.events.get(path.split("/", 1)[1].encode(errors="surrogateescape"))
            if entry is not None and entry[0] in (objects.BLOB_MODE, b"100755"):
                ids[path] = entry[1].hex()
        contents: dict[str, tuple[str, str, bytes] | None] = {}
        for oid in set(ids.values()):
            loose = objects.read_loose(self.objects_dir, oid)
            if loose is not None and loose[0] == b"blob":
                contents[oid] = (oid, "blob", loose[1])
        missing = sorted(set(ids.values()) - set(contents))
        if missing:
            contents.update(git.read_objects(self.repo.top, missing, env=self.env))
            if any(contents.get(oid) is None for oid in missing):  # never build on half of HEAD's files
                raise CommitSkipped(plumbing.MISSING_TIP.format(head[:8]))
        return {path: contents.get(ids[path]) if path in ids else None for path in paths}

    def store_blob(self, data: bytes) -> str:
        if self.native:
            return self.new.write(b"blob", data)
        return plumbing.run(self.repo, self.env, ["hash-object", "-w", "--stdin"], input=data).strip()

    def tree_with(self, blobs: dict[str, str]) -> str:
        """The root tree of the tip with `blobs` (paths under kitty-ops/) set."""
        if not self.native:
            plumbing.run(self.repo, self.env, ["update-index", "--add", "--index-info"], input=git.index_info(blobs),
                         index=self.tree_index)
            return plumbing.run(self.repo, self.env, ["write-tree"], index=self.tree_index).strip()
        for path, blob in blobs.items():
            self.events.set(path.split("/", 1)[1].encode(), objects.BLOB_MODE, bytes.fromhex(blob))
        events = self.new.name(b"tree", self.events.data())
        self.root.set(EVENTS_DIR.encode(), objects.TREE_MODE, bytes.fromhex(events))
        root = self.new.name(b"tree", self.root.data())
        self.tip_tree_ids = root, events
        return root
