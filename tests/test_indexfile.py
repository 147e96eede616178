"""`kitty_ops.gitio.indexfile`: the small index written without `git update-index`,
held to what git itself writes."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from kitty_ops.gitio import cachetree, indexfile

from .conftest import git


def git_env(repo, index, *args, check=True) -> str:
    result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=check,
                            env={**os.environ, "GIT_INDEX_FILE": str(index)})
    return result.stdout


@pytest.fixture
def small_repo(committed_repo):
    (committed_repo / "kitty-ops").mkdir()
    (committed_repo / "kitty-ops" / "old.jsonl").write_text("old\n")
    (committed_repo / "src").mkdir()
    (committed_repo / "src" / "a.py").write_text("print(1)\n")
    git(committed_repo, "add", "-A")
    git(committed_repo, "commit", "-qm", "files", "--no-verify")
    return committed_repo


def new_record(repo, name="01KTK4DFAS04MCX5GP1W2R6NEP.jsonl", text="{}\n"):
    path = repo / "kitty-ops" / name
    path.write_text(text)
    blob = git(repo, "hash-object", "-w", str(path))
    return f"kitty-ops/{name}", blob, os.lstat(path)


def by_git(repo, tmp_path, paths) -> str:
    copy = tmp_path / "git-index"
    shutil.copy(repo / ".git" / "index", copy)
    git_env(repo, copy, "update-index", "--add", "--", *paths)
    return git_env(repo, copy, "ls-files", "--stage", "--debug")


def test_the_entries_are_what_git_update_index_writes(small_repo, tmp_path):
    path, blob, info = new_record(small_repo)
    ours = tmp_path / "ours"
    written = indexfile.add(str(small_repo / ".git" / "index"), str(ours), str(small_repo), {path: (blob, info)})
    assert written is not None
    assert git_env(small_repo, ours, "ls-files", "--stage", "--debug") == by_git(small_repo, tmp_path, [path])
    assert git_env(small_repo, ours, "diff-files", "--name-only") == ""  # git sees every file clean
    assert git_env(small_repo, ours, "diff", "--cached", "--name-only") == f"{path}\n"


def test_a_record_already_in_the_index_is_replaced_in_place(small_repo, tmp_path):
    record = small_repo / "kitty-ops" / "old.jsonl"
    record.write_text("old\nmore\n")
    blob = git(small_repo, "hash-object", "-w", str(record))
    ours = tmp_path / "ours"
    assert indexfile.add(str(small_repo / ".git" / "index"), str(ours), str(small_repo),
                         {"kitty-ops/old.jsonl": (blob, os.lstat(record))}) is not None
    assert git_env(small_repo, ours, "ls-files", "--stage", "--debug") == \
        by_git(small_repo, tmp_path, ["kitty-ops/old.jsonl"])


def test_the_cache_tree_is_set_to_the_new_trees_when_the_index_held_head(small_repo, tmp_path):
    git(small_repo, "write-tree")  # the cache tree whole, as after a person's commit
    path, blob, info = new_record(small_repo)
    head = tuple(bytes.fromhex(git(small_repo, "rev-parse", spec)) for spec in ("HEAD^{tree}", "HEAD:kitty-ops"))
    expected = tmp_path / "expected"
    shutil.copy(small_repo / ".git" / "index", expected)
    git_env(small_repo, expected, "update-index", "--add", "--", path)
    tip_root = git_env(small_repo, expected, "write-tree").strip()
    tip_events = git(small_repo, "rev-parse", f"{tip_root}:kitty-ops")
    tip = (bytes.fromhex(tip_root), bytes.fromhex(tip_events))
    ours = tmp_path / "ours"
    written = indexfile.add(str(small_repo / ".git" / "index"), str(ours), str(small_repo), {path: (blob, info)},
                            (head, tip))  # type: ignore[arg-type]
    assert written is not None and written[1] is True
    assert cachetree.valid_trees(str(ours)) == tip
    before = ours.read_bytes()
    assert git_env(small_repo, ours, "write-tree").strip() == tip_root
    assert ours.read_bytes() == before  # git found nothing to rebuild


def test_without_head_in_the_index_the_cache_tree_is_left_out(small_repo, tmp_path):
    (small_repo / "src" / "a.py").write_text("print(2)\n")
    git(small_repo, "add", "src/a.py")  # the root no longer HEAD's
    path, blob, info = new_record(small_repo)
    head = (b"\0" * 20, b"\0" * 20)
    ours = tmp_path / "ours"
    written = indexfile.add(str(small_repo / ".git" / "index"), str(ours), str(small_repo), {path: (blob, info)},
                            (head, head))
    assert written is not None and written[1] is False
    assert cachetree.valid_trees(str(ours)) is None
    assert git_env(small_repo, ours, "diff", "--cached", "--name-only") == f"{path}\nsrc/a.py\n"


def test_a_racily_clean_entry_whose_file_changed_is_left_to_git(small_repo, tmp_path):
    index = small_repo / ".git" / "index"
    source = small_repo / "src" / "a.py"
    source.write_text("print(3)\n")
    git(small_repo, "add", "src/a.py")
    entry_time = os.stat(source).st_mtime
    source.write_text("print(4)\n")  # same size, same second: the index's stat data still match
    os.utime(source, (entry_time, entry_time))
    os.utime(index, (entry_time, entry_time))
    path, blob, info = new_record(small_repo)
    assert indexfile.add(str(index), str(tmp_path / "ours"), str(small_repo), {path: (blob, info)}) is None
    source.write_text("print(3)\n")  # the file holds its blob again: no re-check needed
    os.utime(source, (entry_time, entry_time))
    assert indexfile.add(str(index), str(tmp_path / "ours2"), str(small_repo), {path: (blob, info)}) is not None


@pytest.mark.parametrize("setup", [
    ["update-index", "--index-version", "4"],
    ["-c", "core.untrackedCache=true", "status"],
])
def test_indexes_of_another_kind_are_left_to_git(small_repo, tmp_path, setup):
    git(small_repo, *setup)
    path, blob, info = new_record(small_repo)
    assert indexfile.add(str(small_repo / ".git" / "index"), str(tmp_path / "ours"), str(small_repo),
                         {path: (blob, info)}) is None


def test_a_file_where_the_directory_would_be_is_left_to_git(committed_repo, tmp_path):
    (committed_repo / "kitty-ops").write_text("a file\n")
    git(committed_repo, "add", "kitty-ops")
    info = os.lstat(committed_repo / "kitty-ops")
    assert indexfile.add(str(committed_repo / ".git" / "index"), str(tmp_path / "ours"), str(committed_repo),
                         {"kitty-ops/x.jsonl": ("0" * 40, info)}) is None
