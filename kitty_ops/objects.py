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

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

TREE_MODE = b"40000"
BLOB_MODE = b"100644"


def write(objects_dir: str, kind: bytes, data: bytes) -> str:
    """Store an object of `kind` (b"blob", b"tree") with `data`; its id."""
    body = b"%s %d\0" % (kind, len(data)) + data
    oid = _sha1(body).hexdigest()
    directory = os.path.join(objects_dir, oid[:2])
    path = os.path.join(directory, oid[2:])
    if os.path.exists(path):
        return oid
    os.makedirs(directory, exist_ok=True)
    temporary = os.path.join(directory, f"tmp_obj_kitty_ops_{os.getpid()}_{time.monotonic_ns()}")
    with open(temporary, "xb") as handle:
        handle.write(zlib.compress(body, 1))
    try:
        os.chmod(temporary, 0o444)
        os.link(temporary, path)
    except FileExistsError:
        pass  # another process stored the same object meanwhile
    finally:
        os.unlink(temporary)
    return oid


def _sha1(data: bytes) -> Any:
    """SHA-1 of `data`: the built-in module for small objects (importing OpenSSL's
    costs more than hashing them), hashlib's for large ones."""
    if len(data) < 1 << 20:
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
