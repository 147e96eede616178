"""Objects kitty-ops writes itself are the objects git would write."""
from __future__ import annotations

import subprocess

from kitty_ops.gitio import objects

from .conftest import git


def test_a_blob_has_git_s_id_and_reads_back(repo):
    oid = objects.write(str(repo / ".git" / "objects"), b"blob", b"hello\n")
    expected = subprocess.run(["git", "hash-object", "--stdin"], cwd=repo, input=b"hello\n", capture_output=True)
    assert oid == expected.stdout.decode().strip()
    assert git(repo, "cat-file", "-p", oid) == "hello"
    assert objects.write(str(repo / ".git" / "objects"), b"blob", b"hello\n") == oid  # already there: kept


def test_an_edited_tree_sorts_as_git_sorts_and_passes_fsck(repo):
    store = str(repo / ".git" / "objects")
    blob = objects.write(store, b"blob", b"x\n")
    subtree = objects.write(store, b"tree", objects.tree_with(None, {b"inner": (objects.BLOB_MODE, blob)}))
    names = {b"a.b": objects.BLOB_MODE, b"a-b": objects.BLOB_MODE, b"a0": objects.BLOB_MODE}
    raw = objects.tree_with(None, {name: (mode, blob) for name, mode in names.items()})
    raw = objects.tree_with(raw, {b"a": (objects.TREE_MODE, subtree)})  # a tree sorts as "a/"
    ours = objects.write(store, b"tree", raw)
    listing = "".join(f"{'040000 tree ' + subtree if name == 'a' else '100644 blob ' + blob}\t{name}\n"
                      for name in ("a", "a-b", "a.b", "a0"))
    theirs = subprocess.run(["git", "mktree"], cwd=repo, input=listing.encode(), capture_output=True).stdout.decode()
    assert ours == theirs.strip()
    assert [line.split("\t")[1] for line in git(repo, "ls-tree", ours).splitlines()] == ["a-b", "a.b", "a", "a0"]
    assert git(repo, "fsck", "--strict", "--no-dangling") == ""


CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _ulid(n: int) -> bytes:
    return ("01" + "".join(CROCKFORD[(n >> (5 * i)) & 31] for i in reversed(range(24)))).encode()


def _mktree(repo, entries: dict[bytes, tuple[bytes, bytes]]) -> bytes:
    """The tree git itself makes of `entries` (name -> (mode, 20-byte id)), as raw data."""
    kinds = {objects.TREE_MODE: "tree"}
    listing = "".join(f"{mode.decode()} {kinds.get(mode, 'blob')} {oid.hex()}\t{name.decode()}\n"
                      for name, (mode, oid) in entries.items())
    made = subprocess.run(["git", "mktree", "--missing"], cwd=repo, input=listing.encode(), capture_output=True,
                          check=True).stdout.decode().strip()
    return subprocess.run(["git", "cat-file", "tree", made], cwd=repo, capture_output=True, check=True).stdout


def _large_tree(repo, extra: dict[bytes, bytes] | None = None) -> dict[bytes, tuple[bytes, bytes]]:
    """`kitty-ops/` as agents leave it, big enough for the run of records to be kept as bytes."""
    entries = {_ulid(n * 7919) + b".jsonl": (objects.BLOB_MODE, bytes([n % 256]) * 20) for n in range(1500)}
    entries[b".gitattributes"] = (objects.BLOB_MODE, b"\x01" * 20)
    entries[b"lifecycle.jsonl"] = (objects.BLOB_MODE, b"\x02" * 20)
    for name, mode in (extra or {}).items():
        entries[name] = (mode, b"\x03" * 20)
    return entries


def test_a_large_tree_is_looked_up_and_edited_as_git_would_make_it(repo):
    entries = _large_tree(repo)
    raw = _mktree(repo, entries)
    edit = objects.TreeEdit(raw)
    assert edit.run, "the run of records is kept as bytes"
    assert edit.data() == raw
    assert all(edit.get(name) == entry for name, entry in entries.items())
    assert edit.get(_ulid(3) + b".jsonl") is None and edit.get(b"nothing") is None
    changes = {
        _ulid(0) + b".jsonl": b"\x04" * 20,  # the first record replaced
        _ulid(7919 * 700) + b".jsonl": b"\x05" * 20,  # one in the middle replaced
        _ulid(3) + b".jsonl": b"\x06" * 20,  # new, between two
        b"01" + b"Z" * 24 + b".jsonl": b"\x07" * 20,  # new, after every record
        b"00" + b"0" * 24 + b".jsonl": b"\x08" * 20,  # new, before every record
        b"lifecycle.jsonl": b"\x09" * 20,
    }
    for name, oid in changes.items():
        edit.set(name, objects.BLOB_MODE, oid)
        entries[name] = (objects.BLOB_MODE, oid)
    assert edit.data() == _mktree(repo, entries)
    assert all(edit.get(name) == entry for name, entry in entries.items())


def test_a_large_tree_of_unusual_shape_is_still_edited_as_git_would(repo):
    """Entries that break the run of records (another mode, a directory, a name
    sorting among the records) and an edit that lands among them."""
    odd = {
        _ulid(7919 * 300) + b".jsonl": b"100755",  # executable: not a plain record entry
        _ulid(7919 * 600)[:20] + b"-notes": objects.TREE_MODE,  # a directory among the records
        _ulid(7919 * 900) + b".json0": objects.BLOB_MODE,  # record-length name, not a record
    }
    entries = _large_tree(repo, odd)
    raw = _mktree(repo, entries)
    edit = objects.TreeEdit(raw)
    assert edit.data() == raw
    assert all(edit.get(name) == entry for name, entry in entries.items())
    for name, mode, oid in (
        (_ulid(7919 * 1200) + b".jsonl", objects.BLOB_MODE, b"\x0a" * 20),  # after the odd entries
        (_ulid(5) + b".jsonl", objects.BLOB_MODE, b"\x0b" * 20),  # before them
        (_ulid(7919 * 450)[:20] + b"-x.txt", objects.BLOB_MODE, b"\x0c" * 20),  # not a record, among them
    ):
        edit.set(name, mode, oid)
        entries[name] = (mode, oid)
    assert edit.data() == _mktree(repo, entries)


def test_a_loose_object_reads_back_and_a_packed_one_is_left_to_git(committed_repo):
    store = str(committed_repo / ".git" / "objects")
    oid = objects.write(store, b"blob", b"loose\n")
    assert objects.read_loose(store, oid) == (b"blob", b"loose\n")
    (committed_repo / "more.txt").write_text("more\n")
    git(committed_repo, "add", "-A")
    git(committed_repo, "commit", "-qm", "more")
    head = git(committed_repo, "rev-parse", "HEAD")
    assert objects.read_loose(store, head)[0] == b"commit"
    git(committed_repo, "gc", "-q", "--prune=now")
    assert objects.read_loose(store, head) is None
