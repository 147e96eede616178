"""Git objects written by kitty-ops itself: blobs and trees, into the object store.

The Op commit changes one or two files of one directory. Rather than load the
whole tree into a temporary index (`read-tree`), add the files
(`hash-object`, `update-index`) and write every tree back (`write-tree`), it
edits the two tree objects on the path (`kitty-ops/` and the root) and writes
them as loose objects, as git would: zlib-deflated `<type> <size>\\0<data>`,
named by its SHA-1, created under a temporary name and linked into place, never
replacing an object that exists. Only for SHA-1 repositories; others use git.
"""
from __future__ import annotations

import os
import time
import zlib

from kitty_ops.system.files import write_and_close

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

TREE_MODE = b"40000"
BLOB_MODE = b"100644"


def write(objects_dir: str, kind: bytes, data: bytes) -> str:
    """Store an object of `kind` (b"blob", b"tree") with `data`; its id."""
    oid, body = hashed(kind, data)
    store(objects_dir, oid, body)
    return oid


def hashed(kind: bytes, data: bytes) -> tuple[str, bytes]:
    """(id, body) of an object: what `store` writes, named before it is written."""
    body = b"%s %d\0" % (kind, len(data)) + data
    return _sha1(body).hexdigest(), body


def store(objects_dir: str, oid: str, body: bytes) -> None:
    """Write the object `hashed` made, unless the store has it (then freshened,
    as git does, so that `gc --prune` does not take it as unused)."""
    directory = os.path.join(objects_dir, oid[:2])
    path = os.path.join(directory, oid[2:])
    try:
        os.utime(path)
        return
    except FileNotFoundError:
        pass
    except OSError:
        if os.path.exists(path):
            return  # not ours to touch (another user's object): it exists
    data = zlib.compress(body, 1)
    for attempt in range(3):
        try:
            _write_loose(directory, path, data)
            return
        except FileNotFoundError:
            # A concurrent `git gc` removed the empty object directory, or `git
            # prune` (whose expiry takes every `tmp_obj_*` with `--prune=now`) our
            # temporary file: write it again, as git retries.
            if attempt == 2:
                raise


def _write_loose(directory: str, path: str, data: bytes) -> None:
    temporary = os.path.join(directory, f"tmp_obj_kitty_ops_{os.getpid()}_{time.monotonic_ns()}")
    os.makedirs(directory, exist_ok=True)
    write_and_close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444), data)
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass  # another process stored the same object meanwhile
    finally:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass  # pruned meanwhile


def _sha1(data: bytes) -> Any:
    return sha1(data, len(data))


def sha1(data: Any, size: int) -> Any:
    """SHA-1 of `data` (bytes-like, `size` bytes or the start of them): the built-in
    module for small data (importing OpenSSL's costs more than hashing it),
    hashlib's for large."""
    if size < 1 << 20:
        try:
            from _sha1 import sha1  # type: ignore[import-not-found]  # CPython's built-in module
        except ImportError:
            pass
        else:
            return sha1(data)
    import hashlib

    return hashlib.sha1(data)


def parse_tree(raw: bytes) -> list[tuple[bytes, bytes, bytes]]:
    """The entries of a tree object: (mode, name, 20-byte id), in order."""
    entries = []
    position, end, find = 0, len(raw), raw.index
    while position < end:
        space = find(b" ", position)
        nul = find(b"\0", space)
        entries.append((raw[position:space], raw[space + 1 : nul], raw[nul + 1 : nul + 21]))
        position = nul + 21
    return entries


def _sort_key(entry: tuple[bytes, bytes, bytes]) -> bytes:
    """git's order: by name, a tree's name as if it ended in `/`."""
    return entry[1] + b"/" if entry[0] == TREE_MODE else entry[1]


def entries_of(raw: bytes | None) -> dict[bytes, tuple[bytes, bytes]]:
    """A tree object's entries by name: (mode, 20-byte id)."""
    return {name: (mode, oid) for mode, name, oid in parse_tree(raw)} if raw else {}


def build_tree(entries: dict[bytes, tuple[bytes, bytes]]) -> bytes:
    """The tree object of `entries` (name -> (mode, 20-byte id)), in git's order."""
    ordered = sorted(((mode, name, oid) for name, (mode, oid) in entries.items()), key=_sort_key)
    return b"".join(mode + b" " + name + b"\0" + oid for mode, name, oid in ordered)


def tree_with(raw: bytes | None, changes: dict[bytes, tuple[bytes, str]]) -> bytes:
    """The tree `raw` (None: empty) with each name in `changes` set to (mode, hex id)."""
    entries = entries_of(raw)
    for name, (mode, oid) in changes.items():
        entries[name] = (mode, bytes.fromhex(oid))
    return build_tree(entries)


def read_loose(objects_dir: str, oid: str) -> tuple[bytes, bytes] | None:
    """(kind, data) of a loose object; None when it is not stored loose (packed,
    in an alternate, absent) or cannot be read: ask git then."""
    try:
        with open(os.path.join(objects_dir, oid[:2], oid[2:]), "rb") as handle:
            body = zlib.decompress(handle.read())
    except (OSError, zlib.error):
        return None
    header, _, data = body.partition(b"\0")
    kind, _, size = header.partition(b" ")
    return (kind, data) if size.isdigit() and int(size) == len(data) else None


def commit_object(tree: str, parents: list[str], author: bytes, committer: bytes, message: bytes) -> bytes:
    """The data of a commit object; `author` and `committer` as `Name <email> <seconds> <+hhmm>`."""
    lines = [b"tree " + tree.encode()] + [b"parent " + parent.encode() for parent in parents]
    return b"\n".join([*lines, b"author " + author, b"committer " + committer, b"", message])


# The records of `kitty-ops/`: `100644 <26-character ULID>.jsonl\0<20-byte id>`, 60
# bytes each, in a run that makes up nearly all of a large `kitty-ops` tree.
RECORD_ENTRY_SIZE = 60
_MODE_PREFIX = BLOB_MODE + b" "
_NAME_START, _NAME_END = len(_MODE_PREFIX), len(_MODE_PREFIX) + 32
_RECORD_SUFFIX = b".jsonl"
SMALL_TREE = 1 << 16  # below this a tree is simply parsed whole


def _record_shaped(mode: bytes, name: bytes) -> bool:
    return mode == BLOB_MODE and len(name) == 32 and name.endswith(_RECORD_SUFFIX)


def _run_length(body: bytes, slots: int) -> int:
    """How many 60-byte slots from the start of `body` are each one whole record
    entry: `100644 `, 32 name bytes with no NUL ending in `.jsonl`, a NUL, an id.
    Checked a column at a time (every slot's byte at one offset), so that the
    work is done by bytes methods, not a Python loop over 100,000 entries."""
    length = slots
    expected = _MODE_PREFIX + b"\0" * (_NAME_END - _NAME_START - len(_RECORD_SUFFIX)) + _RECORD_SUFFIX + b"\0"
    for offset, byte in enumerate(expected):
        column = body[offset : RECORD_ENTRY_SIZE * length : RECORD_ENTRY_SIZE]
        if _NAME_START <= offset < _NAME_END - len(_RECORD_SUFFIX):
            bad = column.find(b"\0")  # any name byte but NUL
        else:
            bad = len(column) - len(column.lstrip(bytes((byte,))))
            bad = -1 if bad == len(column) else bad
        if bad >= 0:
            length = bad
    return length


class TreeEdit:
    """A tree object to look names up in and change, then write back.

    A small tree is parsed whole. In a large one the run of record entries is
    kept as bytes, checked entry by entry at C speed, and searched and edited in
    place: parsing and rebuilding 100,000 entries in Python would cost more
    than a person's whole `git commit`. Anything unusual falls back to parsing.
    """

    def __init__(self, raw: bytes) -> None:
        self.entries: dict[bytes, tuple[bytes, bytes]] = {}  # name -> (mode, id), outside the run
        self.run = bytearray()
        if len(raw) >= SMALL_TREE and self._take_run(raw):
            return
        self.entries = entries_of(raw)

    def _take_run(self, raw: bytes) -> bool:
        position, end, find = 0, len(raw), raw.index
        while position < end:  # the entries before the run (`.gitattributes`), parsed
            space = find(b" ", position)
            nul = find(b"\0", space)
            mode, name = raw[position:space], raw[space + 1 : nul]
            if _record_shaped(mode, name):
                break
            self.entries[name] = (mode, raw[nul + 1 : nul + 21])
            position = nul + 21
            if len(self.entries) > 64:
                return False
        slots = (end - position) // RECORD_ENTRY_SIZE
        length = _run_length(raw[position : position + slots * RECORD_ENTRY_SIZE], slots)
        if length == 0:
            return False
        run_end = position + length * RECORD_ENTRY_SIZE
        self.run = bytearray(raw[position:run_end])
        self.entries.update(entries_of(raw[run_end:]))  # after the run (`lifecycle.jsonl`)
        return True

    def _slot(self, name: bytes) -> tuple[int, bool]:
        """(slot, found): where the record entry `name` is or goes in the run."""
        run, size = self.run, RECORD_ENTRY_SIZE
        low, high = 0, len(run) // size
        while low < high:
            middle = (low + high) // 2
            if run[middle * size + _NAME_START : middle * size + _NAME_END] < name:
                low = middle + 1
            else:
                high = middle
        found = low < len(run) // size and run[low * size + _NAME_START : low * size + _NAME_END] == name
        return low, found

    def _in_order(self) -> bool:
        """Whether every parsed entry sorts before or after the whole run (as kept)."""
        last_start = len(self.run) - RECORD_ENTRY_SIZE
        first, last = self.run[_NAME_START:_NAME_END], self.run[last_start + _NAME_START : last_start + _NAME_END]
        return not any(first <= _sort_key((mode, name, b"")) <= last for name, (mode, _) in self.entries.items())

    def get(self, name: bytes) -> tuple[bytes, bytes] | None:
        """(mode, 20-byte id) of `name`, None when the tree lacks it."""
        if name in self.entries or not self.run or not _record_shaped(BLOB_MODE, name):
            return self.entries.get(name)
        slot, found = self._slot(name)
        start = slot * RECORD_ENTRY_SIZE
        return (BLOB_MODE, bytes(self.run[start + _NAME_END + 1 : start + RECORD_ENTRY_SIZE])) if found else None

    def set(self, name: bytes, mode: bytes, oid: bytes) -> None:
        """Set `name` to (mode, 20-byte id)."""
        if self.run and _record_shaped(mode, name) and name not in self.entries:
            slot, found = self._slot(name)
            start = slot * RECORD_ENTRY_SIZE
            if found:
                self.run[start + _NAME_END + 1 : start + RECORD_ENTRY_SIZE] = oid
            else:
                self.run[start:start] = _MODE_PREFIX + name + b"\0" + oid
        else:
            self.entries[name] = (mode, oid)
        if self.run and not self._in_order():
            self._parse_run()  # an entry now sorts inside the run: keep it simple, parse it all

    def _parse_run(self) -> None:
        self.entries.update(entries_of(bytes(self.run)))
        self.run = bytearray()

    def data(self) -> bytes:
        """The tree object's data, in git's order."""
        if not self.run:
            return build_tree(self.entries)
        first = bytes(self.run[_NAME_START:_NAME_END])
        before = {name: entry for name, entry in self.entries.items() if _sort_key((entry[0], name, b"")) < first}
        after = {name: entry for name, entry in self.entries.items() if name not in before}
        return build_tree(before) + bytes(self.run) + build_tree(after)
