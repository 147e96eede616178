"""Objects kitty-ops writes itself are the objects git would write."""
from __future__ import annotations

import subprocess

from kitty_ops import objects

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
