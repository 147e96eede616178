"""The Op commit beside `git gc --prune=now`: what a prune takes from a new
commit is stored again, and a tip already lost is said in one line."""
from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from kitty_ops.lifecycle.executor import complete_invocation, start_invocation
from kitty_ops.opcommit import newobjects
from kitty_ops.opcommit.batch import OpCommits
from kitty_ops.system.processes import host_name

from .conftest import beside, git

MISSING = "is missing from the object store (pruned by a concurrent `git gc --prune=now`?)"


def op(repo: Path) -> str:
    """An Op in a mission: its Op commit writes lifecycle.jsonl too."""
    return start_invocation(repo, profile_id="implementer", action="implement", mission_id="M1",
                            wp_id="WP01")["invocation_id"]


def loose(repo: Path, oid: str) -> Path:
    return repo / ".git" / "objects" / oid[:2] / oid[2:]


def prune_after_landing(monkeypatch, then=None) -> list[str]:
    """After each landing, delete the loose objects the batch wrote, as a prune
    that walked the refs before the move would; `then()` after that. The ids deleted."""
    deleted: list[str] = []
    land = OpCommits.land

    def land_then_prune(self: OpCommits, last_try: bool = False) -> bool:
        landed = land(self, last_try)
        for oid, _ in self.trees.new.stored:
            path = os.path.join(self.trees.new.objects_dir, oid[:2], oid[2:])
            if os.path.exists(path):
                os.unlink(path)
                deleted.append(oid)
        if then is not None:
            then()
        return landed

    monkeypatch.setattr(OpCommits, "land", land_then_prune)
    return deleted


def fsck_clean(repo: Path) -> bool:
    result = subprocess.run(["git", "fsck", "--strict", "--no-dangling", "--no-progress"], cwd=repo,
                            capture_output=True, text=True)
    return result.returncode == 0 and not (result.stdout + result.stderr).strip()


def test_objects_a_prune_took_after_the_move_are_stored_again(committed_repo, monkeypatch):
    deleted = prune_after_landing(monkeypatch)
    first = op(committed_repo)
    result = complete_invocation(committed_repo, first)
    head = git(committed_repo, "rev-parse", "HEAD")
    assert result.commit == head and head in deleted and len(deleted) >= 4  # record, log, two trees, commit
    assert all(loose(committed_repo, oid).exists() for oid in deleted)
    assert fsck_clean(committed_repo)
    monkeypatch.undo()
    second = op(committed_repo)
    assert complete_invocation(committed_repo, second).commit == git(committed_repo, "rev-parse", "HEAD")
    assert git(committed_repo, "cat-file", "-p", f"HEAD:kitty-ops/{first}.jsonl")


def test_in_ref_mode_too(committed_repo, monkeypatch):
    git(committed_repo, "config", "kitty-ops.target", "ref")
    assert complete_invocation(committed_repo, op(committed_repo)).commit  # git makes the ref's first commit
    deleted = prune_after_landing(monkeypatch)
    op_id = op(committed_repo)
    assert complete_invocation(committed_repo, op_id).commit
    tip = git(committed_repo, "rev-parse", "refs/kitty-ops/records")
    assert tip in deleted and all(loose(committed_repo, oid).exists() for oid in deleted)
    assert fsck_clean(committed_repo)


class FakeGc:
    """A live git process named in `gc.pid`, as `git gc` names itself for its whole run."""

    def __init__(self, repo: Path, host: str | None = None) -> None:
        self.process = subprocess.Popen(["git", "cat-file", "--batch"], cwd=repo, stdin=subprocess.PIPE,
                                        stdout=subprocess.DEVNULL)
        self.pid_file = repo / ".git" / "gc.pid"
        self.pid_file.write_text(f"{self.process.pid} {host or host_name()}")
        self.ended_at = 0.0

    def end(self) -> None:
        self.ended_at = time.monotonic()
        self.pid_file.unlink(missing_ok=True)
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait()


def test_a_running_gc_is_waited_for_then_what_it_pruned_is_stored_again(committed_repo, monkeypatch):
    gc = FakeGc(committed_repo)
    ender = threading.Timer(0.4, gc.end)
    deleted = prune_after_landing(monkeypatch, then=ender.start)  # the prune deletes, then the gc ends
    try:
        result = complete_invocation(committed_repo, op(committed_repo))
        done = time.monotonic()
    finally:
        ender.cancel()
        if gc.process.poll() is None:
            gc.end()
    assert result.commit and gc.ended_at and done >= gc.ended_at  # the Op commit outlasted the gc
    assert all(loose(committed_repo, oid).exists() for oid in deleted)
    assert fsck_clean(committed_repo)


@pytest.mark.parametrize("case", ["other host", "dead pid", "written after the move", "not git"])
def test_a_gc_pid_that_names_no_gc_running_since_before_the_move_is_not_waited_for(committed_repo, case):
    pid_file = committed_repo / ".git" / "gc.pid"
    command = ["sleep", "30"] if case == "not git" else ["git", "cat-file", "--batch"]
    process = subprocess.Popen(command, cwd=committed_repo, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    try:
        if case == "dead pid":
            process.kill()
            process.wait()
        pid_file.write_text(f"{process.pid} {'elsewhere.invalid' if case == 'other host' else host_name()}")
        since = time.time_ns()
        if case == "written after the move":
            os.utime(pid_file, ns=(since + 10**9, since + 10**9))
        started = time.monotonic()
        assert newobjects.wait_for_gc(str(committed_repo / ".git"), since, timeout=5.0)
        assert time.monotonic() - started < 1.0
    finally:
        process.kill()
        process.communicate()


def test_a_gc_that_outlives_the_bound_is_left(committed_repo):
    gc = FakeGc(committed_repo)
    try:
        started = time.monotonic()
        assert not newobjects.wait_for_gc(str(committed_repo / ".git"), time.time_ns(), timeout=0.3)
        assert 0.3 <= time.monotonic() - started < 2.0
    finally:
        gc.end()


def lose(repo: Path, spec: str) -> str:
    """Delete the loose object `spec` names (HEAD's objects are loose in these repositories)."""
    oid = git(repo, "rev-parse", spec)
    loose(repo, oid).unlink()
    return oid


@pytest.mark.parametrize("spec", ["HEAD", "HEAD^{tree}", "HEAD:kitty-ops", "HEAD:kitty-ops/lifecycle.jsonl"])
def test_a_tip_a_prune_took_is_said_in_one_line(committed_repo, spec):
    assert complete_invocation(committed_repo, op(committed_repo)).commit
    head = git(committed_repo, "rev-parse", "HEAD")
    lose(committed_repo, spec)
    op_id = op(committed_repo)
    result = complete_invocation(committed_repo, op_id)
    assert result.commit is None
    assert result.pending_reason == f"the branch tip {head[:8]} {MISSING}"


def test_a_real_gc_prune_now_beside_op_commits_loses_nothing(committed_repo):
    rounds = []

    def gc_loop(stop) -> None:
        while not stop.is_set():
            subprocess.run(["git", "gc", "--prune=now", "-q"], cwd=committed_repo, capture_output=True)
            rounds.append(1)

    results = beside(gc_loop, lambda: complete_invocation(committed_repo, op(committed_repo)), 8)
    assert rounds and all(result.commit for result in results), [r.pending_reason for r in results]
    assert fsck_clean(committed_repo)
    assert len(git(committed_repo, "log", "--format=%s", "--grep=^op(").splitlines()) == 8

