"""The waiter: an Op completed while a person's git command runs is committed
once that command has ended, whatever the command (a commit, or a merge,
rebase or cherry-pick waiting in the person's editor); its pid file names it
beyond its pid.

Real git, real concurrent processes: the person's editor is a script that
waits for a file to appear.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import kitty_ops
from kitty_ops.opcommit import waiter
from kitty_ops.system import processes

from .conftest import git

BIN = Path(sys.executable).parent
PROFILE, ACTION = "implementer", "implement"

SLOW_EDITOR = """#!/bin/sh
# A person at the editor: says it opened, waits to be released, then
# (optionally) edits the file as the person would.
touch "{started}"
while [ ! -e "{release}" ]; do sleep 0.05; done
{edit}
exit 0
"""


class Person:
    """A person's git command whose editor waits until `release()`."""

    def __init__(self, repo: Path, args: list[str], edit: str = "", sequence_edit: str | None = None) -> None:
        self.repo = repo
        scratch = repo.parent / f"editor-{os.getpid()}-{time.monotonic_ns()}"
        scratch.mkdir()
        self.started, self.released = scratch / "started", scratch / "release"
        env = {**os.environ, "GIT_EDITOR": str(self._script(scratch / "editor", edit))}
        if sequence_edit is not None:
            env["GIT_SEQUENCE_EDITOR"] = str(self._script(scratch / "sequence-editor", sequence_edit))
        self.process = subprocess.Popen(["git", *args], cwd=repo, env=env, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while not self.started.exists():
            assert self.process.poll() is None, self.process.communicate()
            assert time.monotonic() < deadline, "the editor never opened"
            time.sleep(0.02)

    def _script(self, path: Path, edit: str) -> Path:
        path.write_text(SLOW_EDITOR.format(started=self.started, release=self.released, edit=edit))
        path.chmod(0o755)
        return path

    def release(self) -> None:
        self.released.touch()

    def finish(self) -> subprocess.CompletedProcess:
        self.release()
        stdout, stderr = self.process.communicate(timeout=60)
        assert self.process.returncode == 0, stderr
        return subprocess.CompletedProcess(self.process.args, self.process.returncode, stdout, stderr)


def op_subject(op_id: str) -> str:
    return f"op({PROFILE}): {ACTION} [{op_id[:8]}]"


def subjects(repo: Path, count: int = 3) -> list[str]:
    return git(repo, "log", f"-{count}", "--format=%s").splitlines()


def wait_for_head_subject(repo: Path, subject: str, seconds: float = 30) -> list[str]:
    """Poll (bounded) until HEAD's subject is `subject` (the waiter commits in the background)."""
    deadline = time.monotonic() + seconds
    while git(repo, "log", "-1", "--format=%s") != subject and time.monotonic() < deadline:
        time.sleep(0.1)
    return subjects(repo)


def wait_until_gone(path: Path, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return not path.exists()


def assert_clean(repo: Path) -> None:
    assert git(repo, "status", "--porcelain") == ""
    fsck = subprocess.run(["git", "fsck", "--strict"], cwd=repo, capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    assert not [line for line in (fsck.stdout + fsck.stderr).splitlines()
                if line.startswith(("error", "warning", "broken", "missing"))], fsck.stdout + fsck.stderr


def commit_file(repo: Path, name: str, subject: str) -> None:
    (repo / name).write_text(f"{subject}\n")
    git(repo, "add", name)
    git(repo, "commit", "-qm", subject)


@pytest.fixture
def diverged(committed_repo) -> Path:
    """main and side, each one commit past the first."""
    repo = committed_repo
    git(repo, "checkout", "-qb", "side")
    commit_file(repo, "side.txt", "side work")
    git(repo, "checkout", "-q", "main")
    commit_file(repo, "main.txt", "main work")
    return repo


def start_op(repo: Path) -> str:
    return kitty_ops.start(PROFILE, ACTION, repo=repo).invocation_id


WAITS_IN_EDITOR = {
    "git merge -e": (["merge", "-e", "side"], "main", "Merge branch 'side'"),
    "git cherry-pick -e": (["cherry-pick", "-e", "side"], "main", "side work"),
    "git rebase -i": (["rebase", "-i", "main"], "side", "side work"),
}


@pytest.mark.parametrize("command", list(WAITS_IN_EDITOR))
def test_an_op_completed_while_an_operation_waits_in_the_editor_is_committed_after_it(diverged, command):
    repo = diverged
    args, branch, person_subject = WAITS_IN_EDITOR[command]
    git(repo, "checkout", "-q", branch)
    op_id = start_op(repo)
    person = Person(repo, args)
    assert (repo / ".git" / ("rebase-merge" if "rebase" in args else
                             "MERGE_HEAD" if "merge" in args else "CHERRY_PICK_HEAD")).exists()
    completion = kitty_ops.complete(op_id, repo=repo)
    assert completion.commit is None
    assert "in progress" in completion.pending_reason and "is committed once that command ends" in \
        completion.pending_reason and "finish it first" not in completion.pending_reason
    pid_file = repo / ".git" / waiter.WAITER_NAME
    assert pid_file.exists()  # the waiter named itself before the completion returned
    assert subjects(repo, 1) != [op_subject(op_id)]
    person.finish()
    assert wait_for_head_subject(repo, op_subject(op_id))[:2] == [op_subject(op_id), person_subject]
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == branch
    assert_clean(repo)
    assert wait_until_gone(pid_file)  # the waiter removed its pid file as it exited


def test_a_rebase_stopped_for_an_edit_is_waited_for_until_it_is_finished(diverged):
    repo = diverged
    git(repo, "checkout", "-q", "side")
    op_id = start_op(repo)
    person = Person(repo, ["rebase", "-i", "main"], sequence_edit="sed -i 's/^pick/edit/' \"$1\"")
    completion = kitty_ops.complete(op_id, repo=repo)
    assert completion.commit is None and "is committed once that command ends" in completion.pending_reason
    person.finish()  # the rebase stops at the `edit`: still under way, no git command runs
    assert (repo / ".git" / "rebase-merge").exists()
    time.sleep(0.5)
    assert op_subject(op_id) not in subjects(repo, 5)  # never in the middle of the rebase
    (repo / "side.txt").write_text("side work, edited\n")
    git(repo, "add", "side.txt")
    git(repo, "commit", "-q", "--amend", "--no-edit")
    continued = subprocess.run(["git", "rebase", "--continue"], cwd=repo, capture_output=True, text=True,
                               env={**os.environ, "GIT_EDITOR": "true"})
    assert continued.returncode == 0, continued.stderr
    assert wait_for_head_subject(repo, op_subject(op_id)) == [op_subject(op_id), "side work", "main work"]
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "side"
    assert_clean(repo)


def test_a_conflicted_merge_leaves_the_op_pending_until_commit_pending(committed_repo):
    repo = committed_repo
    git(repo, "checkout", "-qb", "side")
    commit_file(repo, "work.txt", "side work")
    git(repo, "checkout", "-q", "main")
    commit_file(repo, "work.txt", "main work")
    assert subprocess.run(["git", "merge", "side"], cwd=repo, capture_output=True).returncode != 0  # a conflict
    op_id = start_op(repo)
    completion = kitty_ops.complete(op_id, repo=repo)
    assert completion.commit is None and completion.pending_reason == "a merge is in progress; finish it first"
    assert not (repo / ".git" / waiter.WAITER_NAME).exists()  # nothing runs to wait for: no waiter
    refused = subprocess.run([str(BIN / "kitty-ops"), "commit", "--pending"], cwd=repo, capture_output=True,
                             text=True)
    assert "a merge is in progress; finish it first" in refused.stdout + refused.stderr
    (repo / "work.txt").write_text("both\n")
    git(repo, "add", "work.txt")
    git(repo, "commit", "-q", "--no-edit")
    done = subprocess.run([str(BIN / "kitty-ops"), "commit", "--pending"], cwd=repo, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert subjects(repo, 2) == [op_subject(op_id), "Merge branch 'side'"]
    assert_clean(repo)


@pytest.fixture
def sleeper():
    process = subprocess.Popen(["sleep", "120"])
    yield process
    process.kill()
    process.wait()


@pytest.mark.parametrize("names", ["a sleep, by pid", "a sleep, by pid and start time", "the person's git commit"])
def test_a_pid_file_naming_another_live_process_never_stops_a_waiter(committed_repo, sleeper, names):
    repo = committed_repo
    op_id = start_op(repo)
    (repo / "work.txt").write_text("work\n")
    git(repo, "add", "work.txt")
    person = Person(repo, ["commit"], edit="echo 'slow message' > \"$1\"")
    pid_file = repo / ".git" / waiter.WAITER_NAME
    if names == "a sleep, by pid":
        pid_file.write_text(f"{sleeper.pid}\n")  # as the waiter wrote it before
    elif names == "a sleep, by pid and start time":
        pid_file.write_text(f"{sleeper.pid} {processes.start_time(sleeper.pid)}\n")
    else:
        pid_file.write_text(f"{person.process.pid}\n")  # the pid reused by the person's own command
    stale = pid_file.read_text()
    completion = kitty_ops.complete(op_id, repo=repo)
    assert completion.commit is None and "is committed once that command ends" in completion.pending_reason
    assert pid_file.read_text() != stale  # a waiter started and named itself
    waiter_pid = int(pid_file.read_text().split()[0])
    assert waiter_pid not in (sleeper.pid, person.process.pid) and processes.is_alive(waiter_pid)
    person.finish()
    assert wait_for_head_subject(repo, op_subject(op_id))[:2] == [op_subject(op_id), "slow message"]
    assert_clean(repo)
    assert wait_until_gone(pid_file)
    assert sleeper.poll() is None


def test_a_live_waiter_is_left_the_work(committed_repo):
    repo = committed_repo
    first, second = start_op(repo), start_op(repo)
    (repo / "work.txt").write_text("work\n")
    git(repo, "add", "work.txt")
    person = Person(repo, ["commit"], edit="echo 'slow message' > \"$1\"")
    assert kitty_ops.complete(first, repo=repo).commit is None
    pid_file = repo / ".git" / waiter.WAITER_NAME
    claim = pid_file.read_text()
    pid, started = claim.split()
    assert started == str(processes.start_time(int(pid)))
    assert kitty_ops.complete(second, repo=repo).commit is None
    assert pid_file.read_text() == claim  # no second waiter
    person.finish()
    expected = sorted(op_subject(op_id) for op_id in (first, second))
    deadline = time.monotonic() + 30
    while sorted(subjects(repo, 2)) != expected and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sorted(subjects(repo, 2)) == expected
    assert_clean(repo)
    assert wait_until_gone(pid_file)


def test_the_waiter_removes_only_its_own_pid_file(tmp_path):
    pid_file = tmp_path / waiter.WAITER_NAME
    pid_file.write_text("1 1\n")
    waiter._release(str(tmp_path))
    assert pid_file.read_text() == "1 1\n"
    waiter._claim(str(tmp_path))
    assert pid_file.read_text() == f"{os.getpid()} {processes.start_time(os.getpid())}\n"
    assert not waiter._alive_waiter(str(tmp_path))  # this process is alive, but it is no waiter
    waiter._release(str(tmp_path))
    assert not pid_file.exists()


def test_a_zombie_is_not_alive():
    child = subprocess.Popen(["true"])
    deadline = time.monotonic() + 10
    while (Path(f"/proc/{child.pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
           and time.monotonic() < deadline):
        time.sleep(0.01)
    try:
        assert not processes.is_alive(child.pid)
        assert processes.liveness(child.pid)[0] is False  # what the owners of Ops are judged by
    finally:
        child.wait()
    assert not processes.is_alive(child.pid)
    assert processes.is_alive(os.getpid())
    assert not processes.is_alive(0) and not processes.is_alive(-1)
