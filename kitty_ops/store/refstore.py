"""Op records kept in refs, read without a checkout.

In ref mode the records live on `refs/kitty-ops/records`, and a fetch brings
other clones' copies to `refs/remotes/<remote>/kitty-ops/records`. Readers
union those with HEAD's and the working tree's records by Op id: when two
copies differ and one is a prefix of the other (a record only grows), the
longer wins; any other difference is a conflict, reported, never picked.
One `ls-tree` per ref and one `cat-file --batch` for all of them.
"""
from __future__ import annotations

from pathlib import Path

from kitty_ops.format import safefs
from kitty_ops.format.layout import EVENTS_DIR, RECORDS_REF, op_id_from_path
from kitty_ops.gitio import git

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

REMOTE_REFS = "refs/remotes/*/kitty-ops/records"


def record_refs(repo: git.Repo) -> list[str]:
    """The refs that hold records besides HEAD: ours, then the remotes' copies."""
    raw = git.run(["for-each-ref", "--format=%(refname)", RECORDS_REF, REMOTE_REFS], repo.root, check=False).stdout
    names = raw.decode(errors="surrogateescape").split()
    return sorted(names, key=lambda name: (name != RECORDS_REF, name))


def tree_records(repo: git.Repo, rev: str) -> dict[str, str]:
    """`{path: blob id}` of the records (and lifecycle log) in `rev`'s tree."""
    result = git.run(["ls-tree", "-r", "-z", rev, "--", f"{EVENTS_DIR}/"], repo.root, check=False)
    entries = {}
    for entry in git.split_z(result.stdout):
        meta, _, path = entry.partition("\t")
        mode, kind, blob = meta.split()
        if kind == "blob" and mode != "120000":
            entries[path] = blob
    return entries


class Copies:
    """Every copy of every record: the union by Op id, and the conflicts."""

    def __init__(self) -> None:
        self.records: dict[str, bytes] = {}  # op id -> the longest copy
        self.where: dict[str, list[str]] = {}  # op id -> where copies were found
        self.conflicts: list[dict[str, Any]] = []

    def add(self, op_id: str, content: bytes, where: str) -> None:
        self.where.setdefault(op_id, []).append(where)
        known = self.records.get(op_id)
        if known is None or content.startswith(known):
            self.records[op_id] = content
        elif not known.startswith(content):
            self.conflicts.append({
                "invocation_id": op_id, "path": f"{EVENTS_DIR}/{op_id}.jsonl",
                "copies": list(self.where[op_id]),
                "error": f"the copies in {self.where[op_id][0]} and {where} differ, and neither extends the other",
            })


def committed_copies(repo: git.Repo, refs: list[str] | None = None, with_head: bool = True) -> Copies:
    """The records in HEAD (unless `with_head` is False) and in `refs` (default:
    `record_refs`), unioned by Op id."""
    revs = (["HEAD"] if with_head else []) + (record_refs(repo) if refs is None else refs)
    blobs: dict[str, list[tuple[str, str]]] = {}  # blob -> [(op id, rev)]
    for rev in revs:
        for path, blob in tree_records(repo, rev).items():
            op_id = op_id_from_path(path)
            if op_id:
                blobs.setdefault(blob, []).append((op_id, rev))
    copies = Copies()
    contents = git.read_objects(repo.root, list(blobs)) if blobs else {}
    for blob, found in blobs.items():
        content = (contents.get(blob) or ("", "", b""))[2]
        for op_id, rev in found:
            copies.add(op_id, content, rev)
    return copies


def all_copies(repo_root: Path | str) -> Copies:
    """Working-tree records, HEAD's and the refs', unioned (`kitty-ops list`, `show`, `doctor`)."""
    root = Path(repo_root)
    repo = git.find_repo(root)
    copies = committed_copies(repo, with_head=False) if repo is not None and record_refs(repo) else Copies()
    directory = root / EVENTS_DIR
    if directory.is_dir():
        for entry in sorted(directory.iterdir()):
            op_id = op_id_from_path(entry.name)
            if op_id is None:
                continue
            try:
                copies.add(op_id, safefs.read_events_file(root, entry.name), "the working tree")
            except OSError:
                continue  # unreadable or not a regular file: the validators report it
    return copies


def elsewhere(repo_root: Path | str) -> Copies | None:
    """All copies (working tree and record refs) when record refs exist, else
    None: then the working tree is all there is, and readers keep their fast path."""
    repo = git.find_repo(repo_root)
    if repo is None or not record_refs(repo):
        return None
    return all_copies(repo_root)


def record_commit(repo_root: Path | str, path: str) -> str | None:
    """The newest commit that touched `path` on HEAD, else on the records ref."""
    commit = git.last_commit(repo_root, path)
    if commit:
        return commit
    result = git.run(["log", "-1", "--format=%H", RECORDS_REF, "--", path], repo_root, check=False)
    return result.stdout.decode().strip() or None if result.returncode == 0 else None
