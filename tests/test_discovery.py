"""kitty-ops finds a repository itself only where it finds what `git rev-parse` finds."""
from __future__ import annotations

import os
import subprocess

import pytest

from kitty_ops.gitio import git as git_module
from kitty_ops.gitio import repo as repo_module

from .conftest import git


def rev_parse(path) -> git_module.Repo | None:
    result = subprocess.run(["git", "rev-parse", "--show-toplevel", "--absolute-git-dir", "--git-common-dir"],
                            cwd=path, capture_output=True, text=True)
    if result.returncode != 0:
        return None
    top, git_dir, common = result.stdout.splitlines()
    return git_module.Repo(top, os.path.realpath(git_dir), os.path.realpath(os.path.join(path, common)))


def same(found: git_module.Repo | None, expected: git_module.Repo | None) -> bool:
    if found is None or expected is None:
        return found is expected
    return (found.top, found.git_path, found.common_path) == (expected.top, expected.git_path, expected.common_path)


def test_a_work_tree_its_subdirectories_and_a_linked_work_tree_are_found_as_git_finds_them(committed_repo, tmp_path):
    (committed_repo / "a" / "b").mkdir(parents=True)
    linked = tmp_path / "linked"
    git(committed_repo, "worktree", "add", "-q", str(linked))
    (tmp_path / "link").symlink_to(committed_repo / "a")
    for path in (committed_repo, committed_repo / "a" / "b", linked, tmp_path / "link"):
        found = repo_module._discover(str(path))
        assert found is not None, path
        assert same(found, rev_parse(path)), path


@pytest.mark.parametrize("setting", [("core.worktree", "/elsewhere"), ("core.bare", "true"),
                                     ("include.path", "other.config")])
def test_a_config_that_moves_the_work_tree_is_left_to_git(committed_repo, setting):
    git(committed_repo, "config", *setting)
    assert repo_module._discover(str(committed_repo)) is None


def test_environment_that_changes_discovery_is_left_to_git(committed_repo, monkeypatch):
    monkeypatch.setenv("GIT_DIR", str(committed_repo / ".git"))
    assert repo_module._discover(str(committed_repo)) is None
    monkeypatch.delenv("GIT_DIR")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(committed_repo.parent))
    assert repo_module._discover(str(committed_repo)) is None


def test_outside_any_repository_and_inside_the_git_directory_git_is_asked(tmp_path, committed_repo):
    assert repo_module._discover(str(tmp_path)) is None
    assert repo_module._discover(str(committed_repo / ".git")) is None
    assert git_module.find_repo(tmp_path) is None
