"""Adding the Op's files to a small index without starting `git update-index`.

With few files tracked, starting `update-index` costs more than the rest of
the Op commit. So for a small index (`SMALL_INDEX` bytes) of the plain kind
(version 2 or 3, no extension but the cache tree, no conflict, no flag
beyond a stage-0 entry's), this writes the copy the Op commit lands as git
would: the Op's entries (blob id and the stat data of the work-tree file that
was read and hashed) put in path order, the cache tree's root and
`kitty-ops/` records set to the new trees when the index held HEAD's tree,
else the cache tree left out, and the trailing SHA-1.

Entries that are racily clean (changed in the second the index was written)
are what git re-checks when it writes an index: one whose file no longer
holds its blob would be smudged by git; here the work is handed to git. So is
anything else unexpected: `add` returns None and the caller runs git.
"""
from __future__ import annotations

import os
import stat

from kitty_ops.gitio import cachetree, objects

SMALL_INDEX = 1 << 16
_HEADER = 12
_FIXED = 62  # stat data (40), object id (20), flags (2)
_HASH = 20
_NAME_MASK = 0x0FFF
_STAGE_MASK = 0x3000
_FLAGS_BEYOND = 0xC000  # assume-valid, extended


def _entries(data: bytes, count: int) -> tuple[list[tuple[bytes, bytes]], int] | None:
    """[(path, the entry's bytes)] and where they end; None for anything unusual."""
    found, position = [], _HEADER
    for _ in range(count):
        flags = int.from_bytes(data[position + 60:position + 62], "big")
        if flags & (_FLAGS_BEYOND | _STAGE_MASK):
            return None
        name_end = data.find(b"\0", position + _FIXED)
        if name_end < 0 or (flags & _NAME_MASK) not in (name_end - position - _FIXED, _NAME_MASK):
            return None
        end = position + ((_FIXED + (name_end - position - _FIXED) + 8) & ~7)
        if end > len(data) - _HASH:
            return None
        found.append((data[position + _FIXED:name_end], data[position:end]))
        position = end
    return found, position


def _entry(path: bytes, oid: bytes, info: os.stat_result) -> bytes:
    fields = (info.st_ctime_ns // 10**9, info.st_ctime_ns % 10**9, info.st_mtime_ns // 10**9,
              info.st_mtime_ns % 10**9, info.st_dev, info.st_ino, 0o100644, info.st_uid, info.st_gid, info.st_size)
    head = b"".join((value & 0xFFFFFFFF).to_bytes(4, "big") for value in fields)
    flags = min(len(path), _NAME_MASK).to_bytes(2, "big")
    entry = head + oid + flags + path
    return entry + b"\0" * (8 - (len(entry) % 8))


def _racy_ones_hold(top: str, entries: list[tuple[bytes, bytes]], index_seconds: int) -> bool:
    """Whether every racily clean regular entry's file still holds its blob."""
    for path, entry in entries:
        if int.from_bytes(entry[8:12], "big") < index_seconds or int.from_bytes(entry[36:40], "big") == 0:
            continue  # not racy, or smudged already
        mode = int.from_bytes(entry[24:28], "big")
        if mode == 0o160000:
            continue  # a gitlink is never racy for git
        try:
            full = os.path.join(top, os.fsdecode(path))
            if mode not in (0o100644, 0o100755) or not stat.S_ISREG(os.lstat(full).st_mode):
                return False
            with open(full, "rb") as handle:
                content = handle.read(SMALL_INDEX + 1)
        except OSError:
            return False
        if len(content) > SMALL_INDEX or objects.hashed(b"blob", content)[0] != entry[40:60].hex():
            return False
    return True


def add(index: str, out: str, top: str, files: dict[str, tuple[str, os.stat_result]],
        trees: tuple[tuple[bytes, bytes], tuple[bytes, bytes]] | None = None,
        ) -> tuple[tuple[int, int, int] | None, bool] | None:
    """Write at `out` the index at `index` with `files` ({path: (blob id, the
    stat of the file hashed)}) added or replaced. `trees`: (HEAD's root and
    `kitty-ops/` tree ids, the tip's), 20-byte ids, to keep the cache tree.
    (identity of the index read, None when there was none; whether the cache
    tree was kept), or None when git must do it."""
    try:
        with open(index, "rb") as handle:
            info = os.fstat(handle.fileno())
            data = handle.read(SMALL_INDEX + 1)
    except FileNotFoundError:
        return None  # git starts the first index
    except OSError:
        return None
    if len(data) > SMALL_INDEX or len(data) < _HEADER + _HASH or data[:4] != b"DIRC":
        return None
    version, count = int.from_bytes(data[4:8], "big"), int.from_bytes(data[8:12], "big")
    parsed = _entries(data, count) if version in (2, 3) else None
    if parsed is None:
        return None
    entries, end = parsed
    tree_body = _tree_extension(data, end)
    replaced = {path.encode(errors="surrogateescape") for path in files}
    kept_entries = [(path, entry) for path, entry in entries if path not in replaced]
    if tree_body is False or not _racy_ones_hold(top, kept_entries, info.st_mtime_ns // 10**9):
        return None
    merged = dict(entries)
    added = 0
    for path, (blob, file_info) in files.items():
        name = path.encode(errors="surrogateescape")
        if not stat.S_ISREG(file_info.st_mode) or file_info.st_mode & 0o111 or _conflicts(name, merged):
            return None
        added += name not in merged
        merged[name] = _entry(name, bytes.fromhex(blob), file_info)
    kept = None
    if trees is not None and isinstance(tree_body, bytes):
        kept = cachetree.tree_body_with(tree_body, count, trees[0], trees[1], added)
    body = b"".join(merged[name] for name in sorted(merged))
    extension = b"" if kept is None else b"TREE" + len(kept).to_bytes(4, "big") + kept
    content = b"DIRC" + version.to_bytes(4, "big") + len(merged).to_bytes(4, "big") + body + extension
    skip_hash = data[-_HASH:] == b"\0" * _HASH  # index.skipHash
    checksum = b"\0" * _HASH if skip_hash else objects.sha1(content, len(content)).digest()
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        os.write(fd, content + checksum)
    finally:
        os.close(fd)
    return (info.st_ino, info.st_size, info.st_mtime_ns), kept is not None


def _conflicts(name: bytes, entries: dict[bytes, bytes]) -> bool:
    """A file where a directory of the path is, or a directory where the path is."""
    parts = name.split(b"/")
    if any(b"/".join(parts[:depth]) in entries for depth in range(1, len(parts))):
        return True
    prefix = name + b"/"
    return any(path.startswith(prefix) for path in entries)


def _tree_extension(data: bytes, end: int) -> bytes | bool | None:
    """The cache tree's body (None: no extension), False when an extension other
    than the cache tree is there."""
    trailer = len(data) - _HASH
    if end == trailer:
        return None
    if data[end:end + 4] != b"TREE":
        return False
    size = int.from_bytes(data[end + 4:end + 8], "big")
    if end + 8 + size != trailer:
        return False
    return data[end + 8:trailer]
