"""`kitty_ops.gitio.stagedtree`: the orphans hook's answer to "is anything staged under
kitty-ops/?" from the index's cache tree, held to git's own answer."""
from __future__ import annotations

import os
import subprocess

import pytest

from kitty_ops.gitio.stagedtree import head_events_tree
from kitty_ops.hooks.orphans import main
from kitty_ops.lifecycle.executor import complete_invocation

from .conftest import git, open_op


def answer(repo, **env):
    old = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        return head_events_tree(str(repo / ".git"), str(repo / ".git"))
    finally:
        for name, value in old.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def staged_by_git(repo) -> str:
    return git(repo, "diff", "--cached", "--name-only", "--", "kitty-ops")


@pytest.fixture
def recorded_repo(committed_repo):
    complete_invocation(committed_repo, open_op(committed_repo))
    git(committed_repo, "write-tree")  # as a person's commit leaves it: the cache tree whole
    return committed_repo


def test_nothing_staged_is_proved_from_the_cache_tree(recorded_repo):
    assert answer(recorded_repo) == (git(recorded_repo, "rev-parse", "HEAD:kitty-ops"), True)
    assert staged_by_git(recorded_repo) == ""


def test_a_person_staging_other_files_still_proves_nothing_staged_under_kitty_ops(recorded_repo):
    (recorded_repo / "notes.txt").write_text("work\n")
    git(recorded_repo, "add", "notes.txt")
    assert answer(recorded_repo) == (git(recorded_repo, "rev-parse", "HEAD:kitty-ops"), True)


def test_a_staged_record_is_never_proved_absent(recorded_repo):
    op_id = open_op(recorded_repo)
    git(recorded_repo, "add", f"kitty-ops/{op_id}.jsonl")
    assert answer(recorded_repo)[1] is False
    assert staged_by_git(recorded_repo) == f"kitty-ops/{op_id}.jsonl"


def test_a_record_changed_in_the_index_by_plumbing_is_not_missed(recorded_repo):
    path = git(recorded_repo, "ls-files", "kitty-ops/*.jsonl").splitlines()[0]
    (recorded_repo / "other.txt").write_text("{}\n")
    blob = git(recorded_repo, "hash-object", "-w", "other.txt")
    git(recorded_repo, "update-index", "--cacheinfo", f"100644,{blob},{path}")
    assert answer(recorded_repo)[1] is False


def test_the_index_git_names_for_the_commit_is_the_one_read(recorded_repo, tmp_path):
    other = tmp_path / "next-index"
    env = {**os.environ, "GIT_INDEX_FILE": str(other)}
    subprocess.run(["git", "read-tree", "HEAD"], cwd=recorded_repo, env=env, check=True)
    op_id = open_op(recorded_repo)
    subprocess.run(["git", "add", f"kitty-ops/{op_id}.jsonl"], cwd=recorded_repo, env=env, check=True)
    assert answer(recorded_repo, GIT_INDEX_FILE=str(other))[1] is False
    assert answer(recorded_repo)[1] is True  # the real index still holds HEAD's records


def test_a_packed_head_is_asked_of_git(recorded_repo, capsys, monkeypatch):
    git(recorded_repo, "gc", "-q")  # objects and refs packed: not read here
    assert not (recorded_repo / ".git" / "refs" / "heads" / "main").exists()
    assert answer(recorded_repo) == (git(recorded_repo, "rev-parse", "HEAD:kitty-ops"), True)
    op_id = open_op(recorded_repo)
    git(recorded_repo, "add", f"kitty-ops/{op_id}.jsonl")
    assert answer(recorded_repo)[1] is False
    monkeypatch.chdir(recorded_repo)
    assert main([]) == 1
    assert "is staged but not completed." in capsys.readouterr().out


def test_replaced_objects_are_seen_as_git_sees_them(recorded_repo):
    complete_invocation(recorded_repo, open_op(recorded_repo))
    head = git(recorded_repo, "rev-parse", "HEAD")
    git(recorded_repo, "replace", head, git(recorded_repo, "rev-parse", "HEAD~1"))
    tree, proved = answer(recorded_repo)
    assert tree == git(recorded_repo, "rev-parse", "HEAD:kitty-ops") != git(
        recorded_repo, "--no-replace-objects", "rev-parse", "HEAD:kitty-ops")
    assert proved is False  # the index holds the real HEAD's records: git diff --cached shows one


def test_a_detached_head_is_read(recorded_repo):
    git(recorded_repo, "checkout", "-q", "--detach")
    assert answer(recorded_repo) == (git(recorded_repo, "rev-parse", "HEAD:kitty-ops"), True)


def test_without_kitty_ops_in_head(committed_repo):
    tree, _ = answer(committed_repo)
    assert tree is None


def test_the_hook_blocks_a_commit_whose_index_has_no_cache_tree(recorded_repo, capsys, monkeypatch):
    op_id = open_op(recorded_repo)
    git(recorded_repo, "add", f"kitty-ops/{op_id}.jsonl")
    git(recorded_repo, "read-tree", "--empty")
    git(recorded_repo, "read-tree", "HEAD")  # an index with no TREE extension
    git(recorded_repo, "add", f"kitty-ops/{op_id}.jsonl")
    monkeypatch.chdir(recorded_repo)
    assert main([]) == 1
    assert f"kitty-ops/{op_id}.jsonl: Op {op_id}" in capsys.readouterr().out
