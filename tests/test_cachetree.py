"""After an Op commit the index's cache tree is as git itself would leave it."""
from __future__ import annotations

from pathlib import Path

from kitty_ops.lifecycle.executor import complete_invocation, start_invocation

from .conftest import git


def op(repo: Path) -> str:
    return start_invocation(repo, "implementer", "implement")["invocation_id"]


def index_bytes(repo: Path) -> bytes:
    return (repo / ".git" / "index").read_bytes()


def test_a_clean_index_keeps_a_fully_valid_cache_tree_of_the_op_commit(committed_repo):
    complete_invocation(committed_repo, op(committed_repo))  # kitty-ops/ is in HEAD from here on
    git(committed_repo, "write-tree")  # the cache tree as git makes it
    complete_invocation(committed_repo, op(committed_repo))
    before = index_bytes(committed_repo)
    # git writes the index again only when its cache tree was not fully valid
    assert git(committed_repo, "write-tree") == git(committed_repo, "rev-parse", "HEAD^{tree}")
    assert index_bytes(committed_repo) == before
    assert git(committed_repo, "status", "--porcelain") == ""
    assert git(committed_repo, "fsck", "--strict", "--no-dangling") == ""


def test_a_person_s_staged_work_leaves_the_cache_tree_to_git(committed_repo):
    complete_invocation(committed_repo, op(committed_repo))
    git(committed_repo, "write-tree")
    (committed_repo / "mine.txt").write_text("mine\n")
    git(committed_repo, "add", "mine.txt")
    complete_invocation(committed_repo, op(committed_repo))
    assert git(committed_repo, "diff", "--cached", "--name-only") == "mine.txt"
    tree = git(committed_repo, "write-tree")
    assert git(committed_repo, "ls-tree", "--name-only", tree, "mine.txt") == "mine.txt"
    assert git(committed_repo, "diff", "--name-only", "HEAD", tree) == "mine.txt"


def test_a_split_index_is_left_as_git_wrote_it(committed_repo):
    complete_invocation(committed_repo, op(committed_repo))
    git(committed_repo, "update-index", "--split-index")
    second = op(committed_repo)
    assert complete_invocation(committed_repo, second).commit == git(committed_repo, "rev-parse", "HEAD")
    assert git(committed_repo, "status", "--porcelain") == ""
    assert git(committed_repo, "write-tree") == git(committed_repo, "rev-parse", "HEAD^{tree}")
