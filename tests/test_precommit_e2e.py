"""End to end through pre-commit itself: a repository whose .pre-commit-config.yaml
points at a copy of this source tree, with real `git commit`s."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kitty_ops.lifecycle.executor import complete_invocation, start_invocation

from .conftest import GITCONFIG, PROJECT_ROOT, git, open_op, record

HOOK_REPO_FILES = ("kitty_ops", "bin", "hooks", "setup.cfg", "pyproject.toml", "README.md", ".pre-commit-hooks.yaml")


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory) -> tuple[Path, str]:
    """This source tree, committed in a repository of its own: (path, commit)."""
    copy = tmp_path_factory.mktemp("kitty-ops-hook-repo")
    for name in HOOK_REPO_FILES:
        source = PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, copy / name)
    # Session fixtures come before the per-test git isolation: isolate these calls too.
    gitconfig = tmp_path_factory.mktemp("hook-repo-home") / ".gitconfig"
    gitconfig.write_text(GITCONFIG)
    env = {**os.environ, "GIT_CONFIG_GLOBAL": str(gitconfig), "GIT_CONFIG_NOSYSTEM": "1"}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "kitty-ops", "--no-verify"]):
        subprocess.run(["git", *args], cwd=copy, env=env, check=True)
    sha = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=copy, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()
    return copy, sha


@pytest.fixture
def guarded_repo(committed_repo, hook_repo) -> Path:
    """A repository with kitty-ops' hooks installed through pre-commit."""
    path, sha = hook_repo
    (committed_repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {path}\n  rev: {sha}\n  hooks:\n  - id: kitty-ops-orphans\n  - id: kitty-ops-validate\n"
    )
    git(committed_repo, "add", ".pre-commit-config.yaml")
    git(committed_repo, "commit", "-qm", "pre-commit config", "--no-verify")
    subprocess.run([sys.executable, "-m", "pre_commit", "install"], cwd=committed_repo, check=True, capture_output=True)
    return committed_repo


def commit(repo: Path, message: str = "work") -> subprocess.CompletedProcess:
    """`git commit`, with what the user sees (git prints hook output on stderr) in `.output`."""
    result = subprocess.run(["git", "commit", "-m", message], cwd=repo, capture_output=True, text=True, timeout=900)
    result.output = result.stdout + result.stderr
    return result


def stage_user_change(repo: Path) -> None:
    (repo / "work.txt").write_text("some work\n")
    git(repo, "add", "work.txt")


def test_a_staged_orphan_blocks_the_commit(guarded_repo):
    head = git(guarded_repo, "rev-parse", "HEAD")
    op_id = open_op(guarded_repo)
    git(guarded_repo, "add", "kitty-ops")
    result = commit(guarded_repo)
    assert result.returncode == 1, result.output
    assert "kitty-ops orphans" in result.output and "Failed" in result.output
    assert f"Op {op_id} (implementer: implement, started <1 min ago) is staged but not completed." in result.output
    assert git(guarded_repo, "rev-parse", "HEAD") == head


def test_a_stale_orphan_blocks_any_commit(guarded_repo):
    op_id = open_op(guarded_repo, hours_ago=30)
    stage_user_change(guarded_repo)
    result = commit(guarded_repo)
    assert result.returncode == 1
    assert f"Op {op_id} (implementer: implement, started 30 h ago) is a stale orphan" in result.output
    assert "kitty-ops doctor ops --close-stale" in result.output


def test_a_fresh_untracked_orphan_lets_the_commit_through(guarded_repo):
    op_id = open_op(guarded_repo, hours_ago=1)
    stage_user_change(guarded_repo)
    result = commit(guarded_repo)
    assert result.returncode == 0, result.output
    assert git(guarded_repo, "log", "-1", "--format=%s") == "work"
    assert f"?? kitty-ops/{op_id}.jsonl" in git(guarded_repo, "status", "--porcelain", "-uall")


def test_a_completed_record_can_be_committed_by_hand(guarded_repo):
    op_id = open_op(guarded_repo)
    complete_invocation(guarded_repo, op_id, commit=False)
    git(guarded_repo, "add", "kitty-ops")
    result = commit(guarded_repo, "records")
    assert result.returncode == 0, result.output
    assert f"kitty-ops/{op_id}.jsonl" in git(guarded_repo, "show", "--name-only", "--format=", "HEAD")


def test_validate_blocks_a_rewritten_committed_line(guarded_repo):
    op_id = open_op(guarded_repo)
    complete_invocation(guarded_repo, op_id)
    path = record(guarded_repo, op_id)
    lines = path.read_text().splitlines(keepends=True)
    tampered = json.loads(lines[1])
    tampered["outcome"] = "failed"
    path.write_text(lines[0] + json.dumps(tampered) + "\n")
    git(guarded_repo, "add", str(path))
    result = commit(guarded_repo, "rewrite history")
    assert result.returncode == 1
    assert "kitty-ops validate" in result.output
    assert f"kitty-ops/{op_id}.jsonl: changes lines already committed" in result.output


def test_orphans_blocks_a_deleted_record_though_validate_has_nothing_to_check(guarded_repo):
    op_id = open_op(guarded_repo)
    complete_invocation(guarded_repo, op_id)
    git(guarded_repo, "rm", "-q", f"kitty-ops/{op_id}.jsonl")
    result = commit(guarded_repo, "tidy")
    assert result.returncode == 1
    assert f"kitty-ops/{op_id}.jsonl: deleted, but committed records never leave history" in result.output
    lines = result.output.splitlines()
    assert any(line.startswith("kitty-ops orphans") and line.endswith("Failed") for line in lines)
    assert any(line.startswith("kitty-ops validate") and line.endswith("Skipped") for line in lines)


def test_validate_does_not_run_when_nothing_under_kitty_ops_is_staged(guarded_repo):
    (guarded_repo / "notes.txt").write_text("a person's work\n")
    git(guarded_repo, "add", "notes.txt")
    result = commit(guarded_repo, "notes")
    assert result.returncode == 0, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("kitty-ops orphans") and line.endswith("Passed") for line in lines)
    assert any(line.startswith("kitty-ops validate") and line.endswith("Skipped") for line in lines)


def test_validate_blocks_a_renamed_record(guarded_repo):
    op_id = open_op(guarded_repo)
    complete_invocation(guarded_repo, op_id)
    git(guarded_repo, "mv", f"kitty-ops/{op_id}.jsonl", "kitty-ops/renamed.jsonl")
    result = commit(guarded_repo, "rename")
    assert result.returncode == 1
    assert f"kitty-ops/{op_id}.jsonl: renamed to kitty-ops/renamed.jsonl" in result.output


def test_op_commits_are_not_stopped_by_the_hooks(guarded_repo):
    open_op(guarded_repo, hours_ago=30)  # a stale orphan would block a user's commit
    op_id = open_op(guarded_repo)
    result = complete_invocation(guarded_repo, op_id)
    assert result.commit and result.pending_reason is None
    assert git(guarded_repo, "log", "-1", "--format=%s") == f"op(implementer): implement [{op_id[:8]}]"


def test_the_compat_corpus_passes_both_hooks(guarded_repo):
    shutil.copytree(PROJECT_ROOT / "tests" / "data" / "spec-kitty-kitty-ops", guarded_repo / "kitty-ops")
    git(guarded_repo, "add", "kitty-ops")
    result = commit(guarded_repo, "spec-kitty records")
    assert result.returncode == 0, result.output
    assert "kitty-ops validate" in result.output and "Passed" in result.output


def test_validate_blocks_a_force_added_index(guarded_repo):
    start_invocation(guarded_repo, "p", "a")  # writes the index and lists it in info/exclude
    git(guarded_repo, "add", "--force", "kitty-ops/ops-index.jsonl")
    result = commit(guarded_repo, "index")
    assert result.returncode == 1
    assert "kitty-ops/ops-index.jsonl: staged, but it is local to each clone" in result.output
    assert "git rm --cached kitty-ops/ops-index.jsonl" in result.output


@pytest.fixture
def pushing_repo(committed_repo, hook_repo, tmp_path_factory) -> Path:
    """A repository with kitty-ops-audit installed for pre-push, and a bare remote
    `origin` that already has main."""
    path, sha = hook_repo
    (committed_repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {path}\n  rev: {sha}\n  hooks:\n  - id: kitty-ops-audit\n"
    )
    git(committed_repo, "add", ".pre-commit-config.yaml")
    git(committed_repo, "commit", "-qm", "pre-commit config", "--no-verify")
    remote = tmp_path_factory.mktemp("remote") / "origin.git"
    git(committed_repo, "init", "-q", "--bare", str(remote))
    git(committed_repo, "remote", "add", "origin", str(remote))
    git(committed_repo, "push", "-q", "origin", "main")
    subprocess.run([sys.executable, "-m", "pre_commit", "install", "--hook-type", "pre-push"],
                   cwd=committed_repo, check=True, capture_output=True)
    return committed_repo


def push(repo: Path, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(["git", "push", "origin", *args], cwd=repo, capture_output=True, text=True, timeout=900)
    result.output = result.stdout + result.stderr
    return result


def remote_sha(repo: Path, branch: str) -> str:
    return git(repo, "ls-remote", "origin", f"refs/heads/{branch}").split("\t")[0]


def commit_no_verify(repo: Path, message: str) -> str:
    git(repo, "add", "-A", "kitty-ops")
    git(repo, "commit", "-qm", message, "--no-verify")
    return git(repo, "rev-parse", "HEAD")


def test_a_push_publishing_a_committed_orphan_is_blocked(pushing_repo):
    published = remote_sha(pushing_repo, "main")
    op_id = open_op(pushing_repo)
    sha = commit_no_verify(pushing_repo, "wip")
    result = push(pushing_repo, "main")
    assert result.returncode != 0, result.output
    assert "kitty-ops audit" in result.output and "Failed" in result.output
    assert (
        f"{sha[:12]} wip: kitty-ops/{op_id}.jsonl: Op {op_id} (implementer: implement) is committed while open"
    ) in result.output
    assert "The push is blocked" in result.output
    assert remote_sha(pushing_repo, "main") == published


def test_a_push_publishing_a_deleted_record_is_blocked(pushing_repo):
    op_id = open_op(pushing_repo)
    complete_invocation(pushing_repo, op_id)
    assert push(pushing_repo, "main").returncode == 0
    git(pushing_repo, "rm", "-q", f"kitty-ops/{op_id}.jsonl")
    git(pushing_repo, "commit", "-qm", "tidy", "--no-verify")
    result = push(pushing_repo, "main")
    assert result.returncode != 0
    assert (
        f"kitty-ops/{op_id}.jsonl: Op {op_id} (implementer: implement) deletes the record [deleted-record]"
    ) in result.output


def test_a_push_publishing_a_rewrite_is_blocked(pushing_repo):
    op_id = open_op(pushing_repo)
    complete_invocation(pushing_repo, op_id)
    path = record(pushing_repo, op_id)
    path.write_text(path.read_text().replace('"done"', '"failed"'))
    commit_no_verify(pushing_repo, "rewrite")
    result = push(pushing_repo, "main")
    assert result.returncode != 0
    assert "[rewritten-line]" in result.output


def test_a_clean_push_passes(pushing_repo):
    op_id = open_op(pushing_repo)
    complete_invocation(pushing_repo, op_id)
    result = push(pushing_repo, "main")
    assert result.returncode == 0, result.output
    assert "kitty-ops audit" in result.output and "Passed" in result.output
    assert remote_sha(pushing_repo, "main") == git(pushing_repo, "rev-parse", "HEAD")


def test_a_new_branch_is_audited_for_what_the_remote_lacks(pushing_repo):
    open_op(pushing_repo)
    commit_no_verify(pushing_repo, "old mistake")
    assert push(pushing_repo, "--no-verify", "main").returncode == 0  # already published
    git(pushing_repo, "checkout", "-qb", "feature")
    op_id = open_op(pushing_repo)
    complete_invocation(pushing_repo, op_id)
    result = push(pushing_repo, "feature")
    assert result.returncode == 0, result.output  # the published mistake is not the push's
    git(pushing_repo, "checkout", "-qb", "feature-2")
    bad = open_op(pushing_repo)
    commit_no_verify(pushing_repo, "new mistake")
    result = push(pushing_repo, "feature-2")
    assert result.returncode != 0
    assert f"new mistake: kitty-ops/{bad}.jsonl" in result.output and "old mistake" not in result.output


def test_a_first_push_to_an_empty_remote_audits_the_whole_branch(pushing_repo, tmp_path):
    """pre-commit gives no FROM/TO refs when the root commit is pushed: the branch is audited whole."""
    op_id = open_op(pushing_repo)
    commit_no_verify(pushing_repo, "wip")
    git(pushing_repo, "init", "-q", "--bare", str(tmp_path / "empty.git"))
    git(pushing_repo, "remote", "add", "empty", str(tmp_path / "empty.git"))
    result = subprocess.run(
        ["git", "push", "empty", "main"], cwd=pushing_repo, capture_output=True, text=True, timeout=900
    )
    assert result.returncode != 0
    assert f"wip: kitty-ops/{op_id}.jsonl" in result.stdout + result.stderr


@pytest.mark.parametrize("name", [".gitattributes", "lifecycle.jsonl", "01KTK4DFAS04MCX5GP1W2R6NEP.jsonl"])
def test_validate_blocks_a_staged_symlink(guarded_repo, name):
    (guarded_repo / "kitty-ops").mkdir(exist_ok=True)
    (guarded_repo / "kitty-ops" / name).symlink_to("../../.ssh/id_ed25519")
    git(guarded_repo, "add", f"kitty-ops/{name}")
    result = commit(guarded_repo, "a link")
    assert result.returncode == 1, result.output
    assert (
        f"kitty-ops/{name}: staged as a symbolic link; kitty-ops never reads or commits through links"
    ) in result.output
    assert "Traceback" not in result.output


def test_both_hooks_block_a_forged_trailer_and_a_deep_line_without_a_traceback(guarded_repo):
    from .conftest import hand_written_op

    forged = hand_written_op(guarded_repo, profile_id="x\n\nSigned-off-by: Mallory <mallory@example.com>")
    deep = hand_written_op(guarded_repo, request_text="r")
    with record(guarded_repo, deep).open("a") as handle:
        handle.write('{"event": "x", "v": ' + "[" * 1000 + "]" * 1000 + "}\n")
    git(guarded_repo, "add", "kitty-ops")
    result = commit(guarded_repo, "hostile records")
    assert result.returncode == 1
    assert f"kitty-ops/{forged}.jsonl: line 1: profile_id: must be one word of printable ASCII" in result.output
    assert f"kitty-ops/{deep}.jsonl: line 2: nested more than 32 levels deep" in result.output
    assert f"kitty-ops/{forged}.jsonl: Op {forged} (?: implement, " in result.output  # the orphans hook
    assert "Traceback" not in result.output and "Signed-off-by" not in result.output
