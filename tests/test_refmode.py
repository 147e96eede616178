"""Ref mode: records on refs/kitty-ops/records, never on the branch, shared by `kitty-ops sync`.

Real bare remotes and several clones.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kitty_ops.lifecycle.executor import complete_invocation, start_invocation

from .conftest import git

BIN = Path(sys.executable).parent
REF = "refs/kitty-ops/records"


def kitty_ops(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "kitty-ops"), *args], cwd=repo, capture_output=True, text=True, timeout=300)


def done_op(repo: Path, **fields) -> str:
    fields.setdefault("profile_id", "implementer")
    fields.setdefault("action", "implement")
    op_id = start_invocation(repo, **fields)["invocation_id"]
    complete_invocation(repo, op_id)
    return op_id


def ref_records(repo: Path, ref: str = REF) -> list[str]:
    names = git(repo, "ls-tree", "--name-only", f"{ref}:kitty-ops").split()
    return sorted(name[:-6] for name in names if name.startswith("01"))


@pytest.fixture
def remote(tmp_path) -> Path:
    path = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True)
    return path


def clone(remote: Path, path: Path, *args: str) -> Path:
    subprocess.run(["git", "clone", "-q", *args, str(remote), str(path)], check=True, capture_output=True)
    return path


@pytest.fixture
def origin_repo(committed_repo, remote) -> Path:
    """A repository in ref mode, with a bare remote `origin` that has main."""
    git(committed_repo, "remote", "add", "origin", str(remote))
    git(committed_repo, "push", "-q", "-u", "origin", "main")
    result = kitty_ops(committed_repo, "init", "--ref")
    assert result.returncode == 0, result.stderr
    return committed_repo


def test_init_ref_sets_the_mode_the_fetch_refspec_once_and_never_a_push_refspec(origin_repo):
    assert git(origin_repo, "config", "kitty-ops.target") == "ref"
    again = kitty_ops(origin_repo, "init", "--ref")
    assert "already has" in again.stdout
    fetch = git(origin_repo, "config", "--get-all", "remote.origin.fetch").splitlines()
    assert fetch.count("+refs/kitty-ops/*:refs/remotes/origin/kitty-ops/*") == 1
    assert git(origin_repo, "config", "--get-all", "remote.origin.push", check=False) == ""
    exclude = (origin_repo / ".git" / "info" / "exclude").read_text()
    assert "/kitty-ops/*.jsonl" in exclude


def test_an_op_commit_in_ref_mode_touches_neither_head_nor_index_nor_work_tree(origin_repo):
    head, index = git(origin_repo, "rev-parse", "HEAD"), (origin_repo / ".git" / "index").read_bytes()
    op_id = done_op(origin_repo, mission_id="M1")
    assert git(origin_repo, "rev-parse", "HEAD") == head
    assert (origin_repo / ".git" / "index").read_bytes() == index
    assert git(origin_repo, "status", "--porcelain") == ""
    assert git(origin_repo, "log", "-1", "--format=%B", REF).strip() == (
        f"op(implementer): implement [{op_id[:8]}]\n\nOp-Id: {op_id}"
    )
    assert ref_records(origin_repo) == [op_id]
    assert "lifecycle.jsonl" in git(origin_repo, "ls-tree", "--name-only", f"{REF}:kitty-ops")
    assert git(origin_repo, "reflog", "show", "--format=%gs", REF).startswith("commit: op(implementer)")
    listed = json.loads(kitty_ops(origin_repo, "list", "--json").stdout)
    assert [op["invocation_id"] for op in listed] == [op_id]
    assert kitty_ops(origin_repo, "log").stdout.count(op_id[:8]) == 1


def test_a_person_commits_beside_agents_in_ref_mode_with_no_failure(origin_repo):
    agent = subprocess.Popen([sys.executable, "-c", (
        "import sys\nfrom kitty_ops.lifecycle.executor import complete_invocation, start_invocation\n"
        "for _ in range(15):\n"
        "    op = start_invocation(sys.argv[1], 'agent', 'work')\n"
        "    complete_invocation(sys.argv[1], op['invocation_id'])\n"
    ), str(origin_repo)])
    failures = []
    for number in range(8):
        (origin_repo / "work.txt").write_text(f"{number}\n")
        git(origin_repo, "add", "work.txt")
        result = subprocess.run(["git", "commit", "-qm", f"person {number}"], cwd=origin_repo,
                                capture_output=True, text=True)
        failures += [result.stderr] if result.returncode else []
    assert agent.wait(timeout=300) == 0
    assert failures == []
    assert len(ref_records(origin_repo)) == 15
    assert git(origin_repo, "log", "--format=%s", "--grep=^op(", "HEAD") == ""


def test_two_clones_sync_concurrently_and_lose_nothing(origin_repo, remote, tmp_path):
    first = [done_op(origin_repo) for _ in range(3)]
    assert kitty_ops(origin_repo, "sync").returncode == 0
    other = clone(remote, tmp_path / "other")
    assert kitty_ops(other, "init", "--ref").returncode == 0
    git(other, "fetch", "-q", "origin")
    second = [done_op(other, profile_id="reviewer", action="review") for _ in range(3)]
    third = [done_op(origin_repo) for _ in range(3)]
    syncs = [subprocess.Popen([str(BIN / "kitty-ops"), "sync"], cwd=repo, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for repo in (origin_repo, other)]
    results = [sync.communicate(timeout=120) for sync in syncs]
    assert [sync.returncode for sync in syncs] == [0, 0], results
    for repo in (origin_repo, other):  # whoever pushed second merged the first
        assert kitty_ops(repo, "sync").returncode == 0
    everything = sorted(first + second + third)
    assert ref_records(origin_repo) == everything
    assert ref_records(other) == everything
    remote_tip = git(origin_repo, "ls-remote", str(remote), REF).split()[0]
    assert ref_records(remote, remote_tip) == everything
    for repo in (origin_repo, other):  # never a forced update: every earlier tip is in the history
        for line in git(repo, "reflog", "show", "--format=%H", REF).split():
            assert git(repo, "merge-base", "--is-ancestor", line, remote_tip, check=False) == ""


def test_a_fresh_clone_lists_every_record_without_a_checkout_and_gc_keeps_them(origin_repo, remote, tmp_path):
    ops = [done_op(origin_repo) for _ in range(4)]
    assert kitty_ops(origin_repo, "sync").returncode == 0
    fresh = clone(remote, tmp_path / "fresh")
    assert kitty_ops(fresh, "init", "--ref").returncode == 0
    git(fresh, "fetch", "-q", "origin")
    assert not (fresh / "kitty-ops" / f"{ops[0]}.jsonl").exists()
    listed = json.loads(kitty_ops(fresh, "list", "--json").stdout)
    assert sorted(op["invocation_id"] for op in listed) == sorted(ops)
    shown = kitty_ops(fresh, "show", ops[0][:10])
    assert shown.returncode == 0 and "[done]" in shown.stdout
    git(origin_repo, "gc", "-q", "--prune=now")
    assert ref_records(origin_repo) == sorted(ops)
    assert git(origin_repo, "fsck", "--no-progress", "--no-dangling") == ""


def test_a_shallow_clone_reads_the_records(origin_repo, remote, tmp_path):
    ops = [done_op(origin_repo) for _ in range(2)]
    assert kitty_ops(origin_repo, "sync").returncode == 0
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{remote}", str(shallow)], check=True)
    assert git(shallow, "rev-parse", "--is-shallow-repository") == "true"
    assert kitty_ops(shallow, "init", "--ref").returncode == 0
    git(shallow, "fetch", "-q", "--depth", "1", "origin")
    listed = json.loads(kitty_ops(shallow, "list", "--json").stdout)
    assert sorted(op["invocation_id"] for op in listed) == sorted(ops)


def test_switching_to_ref_mode_loses_nothing(committed_repo):
    on_branch = done_op(committed_repo)
    assert kitty_ops(committed_repo, "init", "--ref").returncode == 0
    pending = start_invocation(committed_repo, "implementer", "implement")["invocation_id"]
    complete_invocation(committed_repo, pending, commit=False)
    result = kitty_ops(committed_repo, "commit", "--pending")
    assert result.returncode == 0, result.stderr
    assert pending in ref_records(committed_repo)
    listed = {op["invocation_id"] for op in json.loads(kitty_ops(committed_repo, "list", "--json").stdout)}
    assert listed == {on_branch, pending}


def test_doctor_reports_a_missing_refspec_unshared_records_and_a_lost_remote_ref(origin_repo, remote):
    done_op(origin_repo)
    doctor = json.loads(kitty_ops(origin_repo, "doctor", "ops", "--json").stdout)
    assert [problem["kind"] for problem in doctor["ref"]["problems"]] == ["unpushed"]
    assert kitty_ops(origin_repo, "sync").returncode == 0
    clean = kitty_ops(origin_repo, "doctor", "ops")
    assert clean.returncode == 0, clean.stdout
    subprocess.run(["git", "update-ref", "-d", REF], cwd=remote, check=True)  # what a push --mirror does
    git(origin_repo, "fetch", "-q", "--prune", "origin")
    git(origin_repo, "config", "--unset-all", "remote.origin.fetch", "kitty-ops")
    doctor = kitty_ops(origin_repo, "doctor", "ops")
    assert doctor.returncode == 1
    assert "does not bring other clones' records" in doctor.stdout
    assert "was force-pushed or deleted" in doctor.stdout and "kitty-ops sync origin" in doctor.stdout


def test_the_sync_hook_pushes_the_records_along_with_a_real_push(origin_repo, remote):
    (origin_repo / ".pre-commit-config.yaml").write_text(
        "repos:\n- repo: local\n  hooks:\n  - id: kitty-ops-sync\n    name: kitty-ops sync\n"
        f"    entry: {BIN / 'kitty-ops-sync'}\n    language: system\n    pass_filenames: false\n"
        "    always_run: true\n    stages: [pre-push]\n"
    )
    git(origin_repo, "add", ".pre-commit-config.yaml")
    git(origin_repo, "commit", "-qm", "hooks")
    subprocess.run([sys.executable, "-m", "pre_commit", "install", "-t", "pre-push"], cwd=origin_repo, check=True,
                   capture_output=True)
    op_id = done_op(origin_repo)
    push = subprocess.run(["git", "push", "origin", "main"], cwd=origin_repo, capture_output=True, text=True,
                          timeout=300)
    assert push.returncode == 0, push.stdout + push.stderr
    assert git(origin_repo, "ls-remote", "origin", REF) != ""
    assert ref_records(remote) == [op_id]
    assert git(remote, "rev-parse", "main") == git(origin_repo, "rev-parse", "HEAD")


def test_audit_reads_the_records_ref_in_ref_mode(origin_repo, tmp_path):
    clean = kitty_ops(origin_repo, "audit")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    op_id = done_op(origin_repo)
    # a rewrite committed onto the ref by hand, as a careless script would
    forged = subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=origin_repo, capture_output=True,
                            text=True, input='{"event": "started"}\n').stdout.strip()
    env = {**os.environ, "GIT_INDEX_FILE": str(tmp_path / "index")}
    subprocess.run(["git", "read-tree", REF], cwd=origin_repo, env=env, check=True)
    subprocess.run(["git", "update-index", "--cacheinfo", f"100644,{forged},kitty-ops/{op_id}.jsonl"],
                   cwd=origin_repo, env=env, check=True)
    tree = subprocess.run(["git", "write-tree"], cwd=origin_repo, env=env, capture_output=True, text=True,
                          check=True).stdout.strip()
    git(origin_repo, "update-ref", REF, git(origin_repo, "commit-tree", tree, "-p", REF, "-m", "rewrite"))
    result = kitty_ops(origin_repo, "audit")
    assert result.returncode == 1
    assert "[rewritten-line]" in result.stdout and op_id in result.stdout


def test_later_op_commits_move_the_records_ref_with_a_reflog_line_each(origin_repo):
    ops = [done_op(origin_repo) for _ in range(3)]  # the first creates the ref (git), the rest move it
    assert ref_records(origin_repo) == sorted(ops)
    moves = git(origin_repo, "reflog", "show", "--format=%gs", REF).splitlines()
    assert len(moves) == 3 and all(move.startswith("commit: op(implementer)") for move in moves)
    assert not (origin_repo / ".git" / "refs" / "kitty-ops" / "records.lock").exists()
    assert git(origin_repo, "fsck", "--strict", "--no-dangling") == ""
