"""Keeping git's cache tree valid across an Op commit.

The index keeps, in its `TREE` extension, the tree id of each directory whose
entries are unchanged since a tree was last written from it. `update-index`,
which puts the Op's files into the index, marks `kitty-ops/` and the root as
changed; then every `git diff --cached` (pre-commit's, the hooks') compares the
100,000 entries of `kitty-ops/` one by one, and the person's next `git commit`
rebuilds the tree (40 and 90 ms at 100,000 records).

When the index held exactly HEAD's tree before the Op commit (its cache tree
says so, for the root), it holds exactly the Op commit's tree after it, so the
two entries can be set again: this module finds the `TREE` extension at the end
of the index (entries are not parsed), edits those two records, and writes the
index's checksum again. Anything it does not expect (a split or sparse index,
an extension it does not know, counts that do not add up) leaves the index as
git wrote it.
"""
from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

INDEX_HASH_SIZE = 20  # SHA-1 repositories only: the Op commit writes its own objects only there
_KNOWN = (b"TREE", b"REUC", b"UNTR", b"FSMN")  # extensions that hold no offsets or hashes of the others
_EVENTS = b"kitty-ops"
MAPPED_SIZE = 1 << 20
READ_SIZE = 1 << 16  # an index read for its cache tree alone is mapped from this size on

# A record of the TREE extension: [path component, entry count, subtree count, tree id or None].


def _extensions(data: bytes) -> tuple[int, int] | None:
    """(start, end) of the TREE extension, found from the end of the index: the
    chain of extensions from it must end exactly at the trailing hash."""
    end = len(data) - INDEX_HASH_SIZE
    candidate = end
    while (candidate := data.rfind(b"TREE", 12, candidate)) >= 0:
        position, tree_end = candidate, None
        while position + 8 <= end and data[position:position + 4] in _KNOWN:
            size = int.from_bytes(data[position + 4:position + 8], "big")
            if tree_end is None:
                tree_end = position + 8 + size
            position += 8 + size
        if position == end and tree_end is not None:
            return candidate, tree_end
    return None


def _parse(body: bytes) -> list[list[Any]]:
    records: list[list[Any]] = []
    position = 0
    while position < len(body):
        nul = body.index(b"\0", position)
        newline = body.index(b"\n", nul)
        count, subtrees = (int(field) for field in body[nul + 1:newline].split(b" "))
        path = body[position:nul]
        position = newline + 1
        oid = None
        if count >= 0:
            oid, position = body[position:position + 20], position + 20
        records.append([path, count, subtrees, oid])
    return records


def _skip(records: list[list[Any]], index: int) -> int:
    """The index of the record after `records[index]` and all below it."""
    following = index + 1
    for _ in range(records[index][2]):
        following = _skip(records, following)
    return following


def _events_record(records: list[list[Any]]) -> list[Any] | None:
    """The record of `kitty-ops/`, a directory directly under the root."""
    index = 1
    for _ in range(records[0][2]):
        if records[index][0] == _EVENTS:
            return records[index]
        index = _skip(records, index)
    return None


def _tree_of(data: Any) -> tuple[int, int, list[list[Any]]] | None:
    """(start, end, records) of the TREE extension of the index `data` (bytes or an mmap)."""
    if len(data) < 12 + INDEX_HASH_SIZE or data[:4] != b"DIRC":
        return None
    found = _extensions(data)
    if found is None:
        return None
    start, end = found
    if data[start - 1] != 0:
        return None  # an extension follows an entry, whose path ends in NUL (and padding): not one
    body = bytes(data[start + 8:end])
    try:
        records = _parse(body)
        whole = bool(records) and _skip(records, 0) == len(records)
    except (ValueError, IndexError, RecursionError):
        return None
    if not whole or records[0][0] != b"" or _serialize(records) != body:
        return None  # not exactly one well-formed tree of records: leave it to git
    return start, end, records


class _mapped:
    """The file's bytes; a large one as an mmap, so that only the pages read (the
    header, the extensions at the end) are loaded, not the 11 MB of entries at
    100,000 records."""

    def __init__(self, handle: Any, mapped_size: int = MAPPED_SIZE) -> None:
        self.handle = handle
        self.mapped_size = mapped_size  # from this size on, mapped
        self.map: Any = None

    def __enter__(self) -> Any:
        if os.fstat(self.handle.fileno()).st_size < self.mapped_size:
            return self.handle.read()
        import mmap

        self.map = mmap.mmap(self.handle.fileno(), 0, access=mmap.ACCESS_READ)
        return self.map

    def __exit__(self, *exc_info: object) -> None:
        if self.map is not None:
            self.map.close()


def _serialize(records: list[list[Any]]) -> bytes:
    return b"".join(name + b"\0" + b"%d %d\n" % (count, subtrees) + (oid if count >= 0 else b"")
                    for name, count, subtrees, oid in records)


def tree_body_with(body: bytes, entries: int, head: tuple[bytes, bytes], tip: tuple[bytes, bytes],
                   added: int) -> bytes | None:
    """The `TREE` extension body `body` of an index of `entries` entries that holds
    exactly HEAD's tree (`head`: root and `kitty-ops/` ids), with the root and
    `kitty-ops/` records set to the tip's (`tip`) after `added` files were added
    under `kitty-ops/`; None when the index does not hold HEAD's tree."""
    try:
        records = _parse(body)
    except ValueError:
        return None
    if not records or records[0][0] != b"":
        return None
    root, events = records[0], _events_record(records)
    if root[3] != head[0] or root[1] != entries or events is None or events[3] != head[1] or events[1] < 0:
        return None
    root[3], root[1] = tip[0], root[1] + added
    events[3], events[1] = tip[1], events[1] + added
    return _serialize(records)


def valid_trees(path: str) -> tuple[bytes | None, bytes | None] | None:
    """(root tree id, `kitty-ops/` tree id) that the cache tree of the index at
    `path` holds as valid, each None when it is not; None without a cache tree
    this can read."""
    with open(path, "rb") as handle:
        if os.fstat(handle.fileno()).st_size < 12 + INDEX_HASH_SIZE:
            return None
        with _mapped(handle, READ_SIZE) as data:  # only the end is read
            tree = _tree_of(data)
            entries = int.from_bytes(data[8:12], "big")
    if tree is None:
        return None
    root, events = tree[2][0], _events_record(tree[2])
    return (root[3] if root[1] == entries else None), (events[3] if events and events[1] >= 0 else None)


def counts_if_head(path: str, head_root: bytes, head_events: bytes) -> tuple[int, int] | None:
    """(entries in the index at `path`, entries under `kitty-ops/`) when its cache
    tree says it holds exactly HEAD's tree (`head_root`, `head_events`: 20-byte ids)."""
    with open(path, "rb") as handle:
        if os.fstat(handle.fileno()).st_size < 12 + INDEX_HASH_SIZE:
            return None
        with _mapped(handle) as data:
            tree = _tree_of(data)
            entries = int.from_bytes(data[8:12], "big")
    if tree is None:
        return None
    records = tree[2]
    root, events = records[0], _events_record(records)
    if root[3] != head_root or root[1] != entries:
        return None
    if events is None or events[3] != head_events or events[1] < 0:
        return None
    return root[1], events[1]


def set_trees(path: str, root: tuple[bytes, int], events: tuple[bytes, int]) -> bool:
    """Set the cache tree records of the root and `kitty-ops/` in the index at
    `path` (a file of the caller's own, never the live index or a link to it) to
    (tree id, entry count); False, the index untouched, when it is not as
    expected. The entries stay where they are: the extensions after them and the
    checksum are written again in place."""
    from kitty_ops.gitio.objects import sha1

    with open(path, "r+b") as handle:
        with _mapped(handle) as data:
            tree = _tree_of(data)
            if tree is None or int.from_bytes(data[8:12], "big") != root[1]:
                return False
            start, end, records = tree
            events_record = _events_record(records)
            if events_record is None:
                return False
            records[0][3], records[0][1] = root
            events_record[3], events_record[1] = events
            body = _serialize(records)
            tail = b"TREE" + len(body).to_bytes(4, "big") + body + bytes(data[end:len(data) - INDEX_HASH_SIZE])
            skip_hash = bytes(data[len(data) - INDEX_HASH_SIZE:]) == b"\0" * INDEX_HASH_SIZE  # index.skipHash
            digest = None
            if not skip_hash:
                digest = sha1(memoryview(data)[:start], len(data))
                digest.update(tail)
        checksum = b"\0" * INDEX_HASH_SIZE if digest is None else digest.digest()
        handle.seek(start)
        handle.write(tail + checksum)
        handle.truncate()
    return True
