"""Sharing git with a person: Op commits never break the person's git commands.

Real git, real pre-commit, real concurrent processes.
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kitty_ops.gitio import gitlock
from kitty_ops.lifecycle.executor import complete_invocation, start_invocation
from kitty_ops.opcommit import commit as commit_module
from kitty_ops.system import processes

from .conftest import git

BIN = Path(sys.executable).parent


def kitty_ops(repo: Path, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "kitty-ops"), *args], cwd=repo, capture_output=True, text=True, **kwargs)


def op(repo: Path, **fields) -> str:
    fields.setdefault("profile_id", "implementer")
    fields.setdefault("action", "implement")
    return start_invocation(repo, **fields)["invocation_id"]


def op_subjects(repo: Path) -> list[str]:
    return git(repo, "log", "--format=%s", "--grep=^op(").splitlines()


def install_suite(repo: Path) -> None:
    """The suite's hooks as a `repo: local` pre-commit config, installed for both stages."""
    hooks = "".join(
        f"  - id: {name}\n    name: {name}\n    entry: {BIN / name}\n    language: system\n"
        f"    pass_filenames: false\n    always_run: true\n    stages: [{stage}]\n"
        for name, stage in (("kitty-ops-orphans", "pre-commit"), ("kitty-ops-post-commit", "post-commit"))
    )
    (repo / ".pre-commit-config.yaml").write_text("repos:\n- repo: local\n  hooks:\n" + hooks)
    git(repo, "add", ".pre-commit-config.yaml")
    git(repo, "commit", "-qm", "pre-commit config")
    subprocess.run(
        [sys.executable, "-m", "pre_commit", "install", "-t", "pre-commit", "-t", "post-commit"],
        cwd=repo, check=True, capture_output=True,
    )


AGENT = """
import sys
from kitty_ops.lifecycle.executor import complete_invocation, start_invocation
repo, count = sys.argv[1], int(sys.argv[2])
for number in range(count):
    started = start_invocation(repo, "agent", "work", mission_id="M1")
    complete_invocation(repo, started["invocation_id"])
"""


def agents(repo: Path, count: int, ops_each: int) -> list[subprocess.Popen]:
    return [
        subprocess.Popen([sys.executable, "-c", AGENT, str(repo), str(ops_each)], stderr=subprocess.PIPE, text=True)
        for _ in range(count)
    ]


def person_commits(repo: Path, count: int, env: dict | None = None) -> list[subprocess.CompletedProcess]:
    """A person's `git commit`s through pre-commit, each with an unstaged edit elsewhere."""
    results = []
    for number in range(count):
        (repo / "work.txt").write_text(f"change {number}\n")
        (repo / "README.md").write_text(f"hello\nunstaged {number}\n")  # pre-commit stashes it
        add_retrying(repo, "work.txt")
        results.append(subprocess.run(
            ["git", "commit", "-m", f"person {number}"], cwd=repo, capture_output=True, text=True,
            env={**os.environ, **(env or {})},
        ))
    return results


def add_retrying(repo: Path, path: str) -> None:
    """`git add`, retried as a person would when it meets an index.lock at its start."""
    for _ in range(200):
        if subprocess.run(["git", "add", path], cwd=repo, capture_output=True).returncode == 0:
            return
        time.sleep(0.01)
    raise AssertionError(f"git add {path} kept meeting a lock")


def wait_for(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        _, errors = worker.communicate(timeout=300)
        assert worker.returncode == 0, errors


def test_agents_completing_while_a_person_commits_through_pre_commit(committed_repo):
    repo = committed_repo
    install_suite(repo)
    workers = agents(repo, 4, 12)
    results = person_commits(repo, 8)
    wait_for(workers)
    failures = [result.stderr for result in results if result.returncode != 0]
    assert not [stderr for stderr in failures if "cannot lock ref" in stderr]
    assert all("index.lock" in stderr for stderr in failures), failures
    assert kitty_ops(repo, "commit", "--pending").returncode == 0
    assert len(op_subjects(repo)) == 48
    for sha in git(repo, "log", "--format=%H", "--invert-grep", "--grep=^op(").splitlines():
        assert "kitty-ops/" not in git(repo, "show", "--name-only", "--format=", sha)
    lifecycle = (repo / "kitty-ops" / "lifecycle.jsonl").read_text().splitlines()
    assert len(lifecycle) == 96 and len(set(lifecycle)) == 96
    assert git(repo, "status", "--porcelain", "--", "kitty-ops/") == ""


def slow_person_commit(repo: Path, editor_seconds: int = 2) -> subprocess.Popen:
    """A person's `git commit` of work.txt whose editor takes `editor_seconds`,
    running once this returns."""
    (repo / "work.txt").write_text("work\n")
    git(repo, "add", "work.txt")
    editor = f"sh -c 'sleep {editor_seconds}; echo slow message > \"$1\"' --"
    person = subprocess.Popen(["git", "commit"], cwd=repo, env={**os.environ, "GIT_EDITOR": editor},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)  # the person's commit is running its editor
    return person


def wait_for_op_commits(repo: Path, count: int) -> list[str]:
    deadline = time.monotonic() + 30  # committed in the background
    while len(op_subjects(repo)) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    return op_subjects(repo)


def install_orphans_hook_only(repo: Path) -> None:
    """The configuration `init --write` writes: no post-commit stage."""
    (repo / ".pre-commit-config.yaml").write_text(
        "repos:\n- repo: local\n  hooks:\n  - id: kitty-ops-orphans\n    name: kitty-ops-orphans\n"
        f"    entry: {BIN / 'kitty-ops-orphans'}\n    language: system\n    pass_filenames: false\n"
        "    always_run: true\n    stages: [pre-commit]\n")
    git(repo, "add", ".pre-commit-config.yaml")
    git(repo, "commit", "-qm", "pre-commit config")
    subprocess.run([sys.executable, "-m", "pre_commit", "install", "-t", "pre-commit"], cwd=repo, check=True,
                   capture_output=True)
    assert not (repo / ".git" / "hooks" / "post-commit").exists()


@pytest.mark.parametrize("hooks", ["as init --write installs them", "with the old post-commit stage", "none"])
def test_an_op_that_waited_for_a_persons_commit_is_committed_once_it_ends(committed_repo, hooks):
    repo = committed_repo
    if hooks == "as init --write installs them":
        install_orphans_hook_only(repo)
    elif hooks == "with the old post-commit stage":
        install_suite(repo)
    op_id = op(repo)
    person = slow_person_commit(repo)
    completion = complete_invocation(repo, op_id)
    assert completion.commit is None and "it is committed once that command ends" in completion.pending_reason
    _, stderr = person.communicate(timeout=60)
    assert person.returncode == 0, stderr
    assert wait_for_op_commits(repo, 1) == [f"op(implementer): implement [{op_id[:8]}]"]  # by the waiter
    assert git(repo, "log", "-1", "--skip=1", "--format=%s") == "slow message"
    assert git(repo, "status", "--porcelain", "--", "kitty-ops/") == ""


def test_one_waiter_serves_every_op_that_waited(committed_repo):
    from kitty_ops.opcommit.waiter import WAITER_NAME

    repo = committed_repo
    first, second = op(repo), op(repo)
    person = slow_person_commit(repo, editor_seconds=6)  # each completion waits 1 s first
    assert complete_invocation(repo, first).commit is None
    waiter_pid = (repo / ".git" / WAITER_NAME).read_text().strip()
    assert complete_invocation(repo, second).commit is None
    assert (repo / ".git" / WAITER_NAME).read_text().strip() == waiter_pid  # no second waiter
    person.communicate(timeout=60)
    expected = sorted(f"op(implementer): implement [{op_id[:8]}]" for op_id in (first, second))
    assert sorted(wait_for_op_commits(repo, 2)) == expected


def test_complete_from_the_persons_own_git_hook_leaves_the_op_pending(committed_repo):
    repo = committed_repo
    op_id = op(repo)
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text(f"#!/bin/sh\nexec '{BIN / 'kitty-ops'}' complete {op_id}\n")
    hook.chmod(0o755)
    (repo / "work.txt").write_text("work\n")
    git(repo, "add", "work.txt")
    result = subprocess.run(["git", "commit", "-m", "person"], cwd=repo, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "not committed" in result.stdout + result.stderr
    assert git(repo, "show", "--name-only", "--format=", "HEAD") == "work.txt"
    hook.unlink()
    assert kitty_ops(repo, "commit", "--pending").returncode == 0
    assert op_subjects(repo) == [f"op(implementer): implement [{op_id[:8]}]"]


def test_git_hook_environment_leaves_the_op_pending(committed_repo, monkeypatch):
    op_id = op(committed_repo)
    monkeypatch.setenv("GIT_INDEX_FILE", str(committed_repo / ".git" / "index"))
    completion = complete_invocation(committed_repo, op_id)
    assert completion.commit is None and "GIT_INDEX_FILE" in completion.pending_reason
    monkeypatch.delenv("GIT_INDEX_FILE")
    assert commit_module.commit_op(committed_repo, op_id)


STASH_LOOP = """
import subprocess, sys, time
repo, seconds = sys.argv[1], float(sys.argv[2])
end = time.monotonic() + seconds
while time.monotonic() < end:
    with open(repo + "/README.md", "a") as handle:
        handle.write("edit\\n")
    subprocess.run(["git", "stash", "push", "-q"], cwd=repo, capture_output=True)
    subprocess.run(["git", "stash", "pop", "-q"], cwd=repo, capture_output=True)
"""


def test_a_stash_loop_beside_completing_agents_deletes_no_record(committed_repo):
    repo = committed_repo
    stash = subprocess.Popen([sys.executable, "-c", STASH_LOOP, str(repo), "6"])
    workers = agents(repo, 3, 10)
    wait_for(workers)
    stash.wait(timeout=60)
    assert kitty_ops(repo, "commit", "--pending").returncode == 0
    records = sorted(path.name for path in (repo / "kitty-ops").glob("01*.jsonl"))
    assert len(records) == 30
    in_head = git(repo, "ls-tree", "--name-only", "HEAD", "kitty-ops/").splitlines()
    assert sorted(name.split("/")[1] for name in in_head if name.endswith(".jsonl") and "/01" in name) == records
    assert git(repo, "status", "--porcelain", "--", "kitty-ops/") == ""


def test_a_signing_failure_leaves_nothing_staged(committed_repo, tmp_path):
    signer = tmp_path / "gpg"
    signer.write_text("#!/bin/sh\necho 'gpg: signing failed: No secret key' >&2\nexit 2\n")
    signer.chmod(0o755)
    git(committed_repo, "config", "commit.gpgSign", "true")
    git(committed_repo, "config", "gpg.program", str(signer))
    index_before = (committed_repo / ".git" / "index").read_bytes()
    op_id = op(committed_repo)
    completion = complete_invocation(committed_repo, op_id)
    assert completion.commit is None and "signing" in completion.pending_reason
    assert git(committed_repo, "diff", "--cached", "--name-only") == ""
    assert (committed_repo / ".git" / "index").read_bytes() == index_before


def test_a_refusing_reference_transaction_hook_leaves_nothing_staged(committed_repo):
    hook = committed_repo / ".git" / "hooks" / "reference-transaction"
    hook.write_text("#!/bin/sh\n[ \"$1\" = prepared ] && exit 1\nexit 0\n")
    hook.chmod(0o755)
    (committed_repo / "mine.txt").write_text("mine\n")
    git(committed_repo, "add", "mine.txt")
    op_id = op(committed_repo)
    completion = complete_invocation(committed_repo, op_id)
    assert completion.commit is None
    assert git(committed_repo, "diff", "--cached", "--name-only") == "mine.txt"
    assert git(committed_repo, "log", "-1", "--format=%s") == "initial"
    hook.unlink()
    git(committed_repo, "commit", "-qm", "person")
    assert git(committed_repo, "show", "--name-only", "--format=", "HEAD") == "mine.txt"


def test_lifecycle_log_is_never_dirty_and_keeps_the_start_time(committed_repo):
    started = start_invocation(committed_repo, "implementer", "implement", mission_id="M1")
    assert git(committed_repo, "status", "--porcelain", "--untracked-files=no") == ""
    complete_invocation(committed_repo, started["invocation_id"])
    assert git(committed_repo, "status", "--porcelain") == ""
    committed = git(committed_repo, "show", "HEAD:kitty-ops/lifecycle.jsonl")
    assert f'"at": "{started["started_at"]}"' in committed.splitlines()[0]
    assert "kitty-ops/lifecycle.jsonl" in git(committed_repo, "show", "--name-only", "--format=", "HEAD")


def test_every_op_commit_heals_older_pending_records_oldest_first(committed_repo):
    first, second = op(committed_repo), op(committed_repo, action="review")
    complete_invocation(committed_repo, first, commit=False)
    complete_invocation(committed_repo, second, commit=False)
    third = op(committed_repo, action="test")
    complete_invocation(committed_repo, third)
    assert op_subjects(committed_repo) == [
        f"op(implementer): test [{third[:8]}]",
        f"op(implementer): review [{second[:8]}]",
        f"op(implementer): implement [{first[:8]}]",
    ]


def _limited(limit: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_a_completion_under_a_file_size_limit_writes_no_torn_line(committed_repo):
    op_id = op(committed_repo)
    record = committed_repo / "kitty-ops" / f"{op_id}.jsonl"
    before = record.read_bytes()
    result = subprocess.run([str(BIN / "kitty-ops"), "complete", op_id], cwd=committed_repo, capture_output=True,
                            text=True, preexec_fn=_limited(len(before) + 20))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"kitty-ops: error: kitty-ops/{op_id}.jsonl: the line could not be written: File too large"
    ]
    assert record.read_bytes() == before
    assert op_subjects(committed_repo) == []
    done = kitty_ops(committed_repo, "complete", op_id)
    assert done.returncode == 0, done.stderr
    assert git(committed_repo, "show", f"HEAD:kitty-ops/{op_id}.jsonl").count('"completed"') == 1


def test_a_start_that_cannot_write_its_line_leaves_no_record_file(committed_repo):
    (committed_repo / "kitty-ops").mkdir()
    (committed_repo / "kitty-ops" / ".gitattributes").write_text("*.jsonl merge=union\n")
    result = subprocess.run([str(BIN / "kitty-ops"), "start", "--profile", "p", "--action", "a"], cwd=committed_repo,
                            capture_output=True, text=True, preexec_fn=_limited(40))
    assert result.returncode == 1 and "File too large" in result.stderr
    assert sorted(path.name for path in (committed_repo / "kitty-ops").iterdir()) == [".gitattributes"]


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_temporary_index_files_of_a_killed_completion_are_removed_by_the_next(committed_repo):
    git_dir = committed_repo / ".git"
    leftover = git_dir / f"{gitlock.TEMPORARY_PREFIX}{os.uname().nodename}.{_dead_pid()}.123"
    leftover.write_bytes(b"DIRC")
    (git_dir / (leftover.name + ".lock")).write_bytes(b"")
    mine = git_dir / f"{gitlock.TEMPORARY_PREFIX}{os.uname().nodename}.{os.getpid()}.456"
    mine.write_bytes(b"DIRC")  # a live process's file stays
    complete_invocation(committed_repo, op(committed_repo))
    assert not leftover.exists() and not (git_dir / (leftover.name + ".lock")).exists()
    assert mine.exists()


def test_a_lock_left_by_a_killed_kitty_ops_is_named_as_stale(committed_repo):
    lock = committed_repo / ".git" / "index.lock"
    pid = _dead_pid()
    lock.write_text(f"kitty-ops pid={pid} host={os.uname().nodename}\n")
    op_id = op(committed_repo)
    result = kitty_ops(committed_repo, "complete", op_id)
    assert result.returncode == 0
    assert f"a stale lock left by a killed kitty-ops (pid {pid}): remove it with `rm {lock}`" in result.stderr
    doctor = kitty_ops(committed_repo, "doctor", "ops")
    assert doctor.returncode == 1 and f"rm {lock}" in doctor.stdout
    assert lock.exists()  # never removed by kitty-ops
    lock.unlink()
    assert kitty_ops(committed_repo, "commit", "--pending").returncode == 0


def test_a_lock_held_by_another_git_command_is_waited_for_then_pending(committed_repo, monkeypatch):
    monkeypatch.setattr(commit_module, "INDEX_LOCK_SECONDS", 0.2)
    lock = committed_repo / ".git" / "index.lock"
    lock.write_text("")
    completion = complete_invocation(committed_repo, op(committed_repo))
    assert "locked by another git process" in completion.pending_reason
    assert lock.read_text() == ""  # not ours: left alone


@pytest.mark.parametrize("name", ["commit", "rebase", "merge"])
def test_the_process_table_names_a_head_moving_git_command_in_this_work_tree(committed_repo, tmp_path, name):
    from kitty_ops.gitio import busy

    impostor = tmp_path / "git"  # named git, so its command name is git; -c is git's option too
    impostor.symlink_to(sys.executable)
    (committed_repo / "sub").mkdir()
    process = subprocess.Popen([str(impostor), "-c", "import time; time.sleep(30)", name, "-m", "x"],
                               cwd=committed_repo / "sub")
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not busy.running_in(str(committed_repo), str(committed_repo / ".git")):
            time.sleep(0.02)
        found = busy.running_in(str(committed_repo), str(committed_repo / ".git"))
        assert [(found_process.pid, found_process.subcommand) for found_process in found] == [(process.pid, name)]
        assert busy.running_in(str(tmp_path), str(tmp_path / ".git")) == []
    finally:
        process.kill()
        process.wait()


def test_where_there_is_no_process_table_the_hook_marks_the_git_command(committed_repo, monkeypatch):
    from kitty_ops.gitio import busy

    monkeypatch.setattr(processes, "PROC", str(committed_repo / "no-proc"))
    git_dir = committed_repo / ".git"
    busy.mark(str(git_dir), os.getpid())
    busy.mark(str(git_dir), _dead_pid())
    assert busy.busy_pids(str(committed_repo), str(git_dir)) == {
        os.getpid(): f"git (pid {os.getpid()}, marked by the pre-commit hook)"
    }
    busy.unmark(str(git_dir), os.getpid())
    assert busy.busy_pids(str(committed_repo), str(git_dir)) == {}
    assert os.listdir(git_dir / busy.MARKS_DIR) == []


def test_the_op_commit_heals_from_its_notes_and_forgets_each_note_once_committed(committed_repo):
    notes = committed_repo / ".git" / "kitty-ops" / "uncommitted"
    first = op(committed_repo)
    complete_invocation(committed_repo, first, commit=False)
    assert sorted(path.name for path in notes.iterdir()) == [first]
    second = op(committed_repo, action="review")
    complete_invocation(committed_repo, second)
    assert op_subjects(committed_repo) == [
        f"op(implementer): review [{second[:8]}]", f"op(implementer): implement [{first[:8]}]",
    ]
    assert list(notes.iterdir()) == []


def test_a_record_completed_without_kitty_ops_is_left_to_commit_pending(committed_repo):
    """No note: the Op commit does not ask git for every changed file; `commit --pending` does."""
    by_hand = op(committed_repo)
    record = committed_repo / "kitty-ops" / f"{by_hand}.jsonl"
    completed = {"event": "completed", "invocation_id": by_hand, "completed_at": "2026-01-01T00:05:00+00:00",
                 "outcome": "done", "closed_by": "agent"}
    record.write_text(record.read_text() + json.dumps(completed) + "\n")
    mine = op(committed_repo, action="review")
    complete_invocation(committed_repo, mine)
    assert op_subjects(committed_repo) == [f"op(implementer): review [{mine[:8]}]"]
    result = kitty_ops(committed_repo, "commit", "--pending")
    assert result.returncode == 0, result.stderr
    assert op_subjects(committed_repo)[0] == f"op(implementer): implement [{by_hand[:8]}]"


def test_a_note_left_by_a_crash_before_the_completed_line_commits_nothing_until_completed(committed_repo):
    from kitty_ops.store import uncommitted

    crashed = op(committed_repo)
    uncommitted.note(str(committed_repo / ".git"), crashed)  # as `complete` does, then SIGKILL
    mine = op(committed_repo, action="review")
    complete_invocation(committed_repo, mine)
    assert op_subjects(committed_repo) == [f"op(implementer): review [{mine[:8]}]"]
    assert uncommitted.noted(str(committed_repo / ".git")) == [crashed]
    complete_invocation(committed_repo, crashed)
    assert op_subjects(committed_repo)[0] == f"op(implementer): implement [{crashed[:8]}]"
    assert uncommitted.noted(str(committed_repo / ".git")) == []


def test_the_branch_lock_of_a_killed_op_commit_is_named_with_its_index_lock(committed_repo):
    """Killed between taking the branch's lock and renaming it (under index.lock)."""
    index_lock = committed_repo / ".git" / "index.lock"
    index_lock.write_text(f"kitty-ops pid={_dead_pid()} host={os.uname().nodename}\n")
    branch_lock = committed_repo / ".git" / "refs" / "heads" / "main.lock"
    branch_lock.write_text(git(committed_repo, "rev-parse", "HEAD") + "\n")
    doctor = kitty_ops(committed_repo, "doctor", "ops")
    assert doctor.returncode == 1
    assert f"rm {index_lock}" in doctor.stdout and f"rm {branch_lock}" in doctor.stdout
    assert index_lock.exists() and branch_lock.exists()  # never removed by kitty-ops


def test_a_records_ref_lock_nobody_holds_is_named_stale(committed_repo):
    records_lock = committed_repo / ".git" / "refs" / "kitty-ops" / "records.lock"
    records_lock.parent.mkdir(parents=True)
    records_lock.write_text("0" * 40 + "\n")
    doctor = kitty_ops(committed_repo, "doctor", "ops", "--json")
    assert [lock["path"] for lock in json.loads(doctor.stdout)["stale_locks"]] == [str(records_lock)]


def test_beside_a_persons_running_commit_the_op_commit_does_not_even_try_index_lock(committed_repo, monkeypatch):
    # pre-commit's stash writes the index during the person's commit: a lock
    # taken only to find the commit running would make that fail.
    monkeypatch.setattr(commit_module, "INDEX_LOCK_SECONDS", 0.2)
    first, second = op(committed_repo), op(committed_repo, action="review")
    person = slow_person_commit(committed_repo, editor_seconds=4)
    assert "git commit" in complete_invocation(committed_repo, first).pending_reason  # met, under the lock
    lock = committed_repo / ".git" / "index.lock"
    lock.write_text("")  # the person's stash at work
    try:
        reason = complete_invocation(committed_repo, second).pending_reason
    finally:
        lock.unlink()
    assert "git commit" in reason and "locked" not in reason  # seen before any lock was tried
    _, stderr = person.communicate(timeout=60)
    assert person.returncode == 0, stderr
    assert len(wait_for_op_commits(committed_repo, 2)) == 2  # by the waiter, once the commit ended
