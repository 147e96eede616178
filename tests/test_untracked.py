"""The orphans hook's cache of untracked records: it spares git's listing of
`kitty-ops/` while nothing there changed, and never hides an orphan that appeared,
came out of the index, or changed, however quickly."""
from __future__ import annotations

import os
import time
from pathlib import Path

from kitty_ops.hooks.orphans import find_orphan_problems, main
from kitty_ops.lifecycle.executor import complete_invocation
from kitty_ops.store.untracked import CACHE_NAME

from .conftest import git, hand_written_op, open_op, record

HOUR = 3600


def aged(path, seconds: float = HOUR) -> None:
    """Set `path`'s mtime back, as if nothing had changed there for a while (its ctime stays now)."""
    moment = time.time() - seconds
    os.utime(path, (moment, moment), follow_symlinks=False)


def quiet(repo) -> None:
    """The directory and its records, as they are when nobody touched them lately."""
    for entry in (repo / "kitty-ops").iterdir():
        aged(entry)
    aged(repo / "kitty-ops")


def hook(repo) -> tuple[list[str], list[str]]:
    return find_orphan_problems(24, strict=False)


def named(lines: list[str]) -> str:
    return "\n".join(lines)


def test_the_listing_is_cached_while_the_directory_is_quiet_and_says_the_same(committed_repo, capsys):
    op_id = open_op(committed_repo)
    quiet(committed_repo)
    assert main([]) == 0
    first = capsys.readouterr().out
    assert (committed_repo / ".git" / CACHE_NAME).exists()
    assert main([]) == 0
    assert capsys.readouterr().out == first and op_id in first


def test_an_orphan_started_after_a_cached_run_is_found(committed_repo):
    first = open_op(committed_repo)
    quiet(committed_repo)
    hook(committed_repo)
    second = open_op(committed_repo)  # the directory's mtime moves, within the same second or not
    warnings = named(hook(committed_repo)[1])
    assert first in warnings and second in warnings


def test_an_orphan_whose_file_is_replaced_in_a_quiet_directory_is_read_again(committed_repo):
    op_id = hand_written_op(committed_repo, started_at="2026-12-01T00:00:00+00:00")
    quiet(committed_repo)
    hook(committed_repo)
    path = record(committed_repo, op_id)
    mtime = path.stat().st_mtime_ns
    path.write_text(path.read_text().replace("2026-12-01", "2020-12-01"))  # same size: now stale
    os.utime(path, ns=(mtime, mtime))  # and the same mtime: only the ctime tells
    aged(committed_repo / "kitty-ops")
    blocking, _ = hook(committed_repo)
    assert any(op_id in line and "stale" in line for line in blocking)


def test_a_committed_open_record_taken_out_of_the_index_is_found(committed_repo):
    op_id = open_op(committed_repo)
    git(committed_repo, "add", "kitty-ops")
    git(committed_repo, "commit", "-qm", "an orphan, by hand", "--no-verify")
    quiet(committed_repo)
    assert op_id not in named(hook(committed_repo)[1])  # tracked: not the hook's business
    git(committed_repo, "rm", "-q", "--cached", f"kitty-ops/{op_id}.jsonl")  # the directory does not change
    assert op_id in named(hook(committed_repo)[1])


def test_an_orphan_staged_then_unstaged_is_found_again(committed_repo):
    op_id = open_op(committed_repo)
    quiet(committed_repo)
    hook(committed_repo)
    git(committed_repo, "add", f"kitty-ops/{op_id}.jsonl")
    blocking, _ = hook(committed_repo)
    assert any("is staged but not completed" in line for line in blocking)
    git(committed_repo, "reset", "-q")
    blocking, warnings = hook(committed_repo)
    assert blocking == [] and op_id in named(warnings)


def test_an_orphan_completed_after_a_cached_run_is_seen_completed(committed_repo):
    op_id = open_op(committed_repo)
    quiet(committed_repo)
    assert "still open" in named(hook(committed_repo)[1])
    complete_invocation(committed_repo, op_id, commit=False)
    quiet(committed_repo)
    assert "completed but not committed" in named(hook(committed_repo)[1])


def test_a_new_commit_moving_head_relists(committed_repo):
    op_id = open_op(committed_repo)
    quiet(committed_repo)
    hook(committed_repo)
    git(committed_repo, "add", "kitty-ops")
    git(committed_repo, "commit", "-qm", "an orphan, by hand", "--no-verify")
    git(committed_repo, "reset", "-q", "--mixed", "HEAD~1")  # HEAD back, the record untracked again
    assert op_id in named(hook(committed_repo)[1])


def test_a_damaged_cache_changes_nothing(committed_repo):
    op_id = open_op(committed_repo)
    quiet(committed_repo)
    hook(committed_repo)
    (committed_repo / ".git" / CACHE_NAME).write_text('{"stamp": 1, "dir": []')
    assert op_id in named(hook(committed_repo)[1])
    (committed_repo / ".git" / CACHE_NAME).write_text("[]")
    assert op_id in named(hook(committed_repo)[1])


def test_op_commits_moving_head_keep_the_listing_without_listing_again(committed_repo, monkeypatch):
    from kitty_ops.hooks import orphans

    done, still_open = open_op(committed_repo), open_op(committed_repo)
    quiet(committed_repo)
    hook(committed_repo)
    complete_invocation(committed_repo, done)  # an Op commit: HEAD's tree gains the record, the directory stays

    def no_listing():
        raise AssertionError("git listed the directory again")

    monkeypatch.setattr(orphans, "start_untracked_query", no_listing)
    warnings = named(hook(committed_repo)[1])
    assert still_open in warnings and done not in warnings
    git(committed_repo, "reset", "-q", "--mixed", "HEAD~1")  # HEAD and the index lose it: untracked again
    assert f"{done} (implementer: implement, started <1 min ago) is completed but not committed" in named(
        hook(committed_repo)[1])


def test_the_hook_finds_the_git_directories_as_git_does_in_a_linked_worktree_too(committed_repo, monkeypatch):
    from kitty_ops.gitio.gitdirs import git_dirs

    def asked_of_git() -> tuple[str, str]:
        lines = git(Path.cwd(), "rev-parse", "--absolute-git-dir", "--git-common-dir").splitlines()
        return lines[0], os.path.realpath(lines[1])

    assert git_dirs() == asked_of_git()
    linked = committed_repo.parent / f"{committed_repo.name}-linked"
    git(committed_repo, "worktree", "add", "-q", str(linked))
    monkeypatch.chdir(linked)
    assert git_dirs() == asked_of_git()
    monkeypatch.setenv("GIT_DIR", asked_of_git()[0])  # as git sets it for a linked worktree's hooks
    assert git_dirs() == asked_of_git()


def test_an_owner_file_remembered_is_read_again_once_another_process_owns_the_op(committed_repo, monkeypatch):
    import json
    import subprocess

    from kitty_ops.lifecycle import owners
    from kitty_ops.lifecycle.executor import start_invocation

    monkeypatch.chdir(committed_repo)
    agent = subprocess.Popen(["sleep", "600"])
    try:
        op_id = start_invocation(committed_repo, "agent", "work", owner_pid=agent.pid)["invocation_id"]
        owner_file = committed_repo / ".git" / owners.OWNERS_SUBDIR / f"{op_id}.json"
        quiet(committed_repo)
        aged(owner_file)
        blocking, warnings = hook(committed_repo)
        assert blocking == [] and f"(owner pid {agent.pid} is running)" in named(warnings)
        assert f"{op_id}.json" in json.loads((committed_repo / ".git" / CACHE_NAME).read_text())["owners"]
        gone = subprocess.Popen(["true"])
        gone.wait()
        owners.record_owner(committed_repo, op_id, gone.pid)  # adopted by another process, now gone
        blocking, _ = hook(committed_repo)
        assert f"Op {op_id}" in named(blocking) and "dead orphan" in named(blocking)
    finally:
        agent.kill()
        agent.wait()
