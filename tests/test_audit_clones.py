"""`kitty-ops audit` where history is incomplete (partial and shallow clones,
all-zero range ends), and every finding's printed repair, followed literally."""
from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from kitty_ops.lifecycle.executor import complete_invocation, start_invocation

from .conftest import env_with_scripts, git, hand_written_op, open_op, record


def audit(repo, *args):
    result = subprocess.run(["kitty-ops", "audit", *args], cwd=repo, capture_output=True, text=True,
                            env=env_with_scripts(), timeout=300)
    result.output = result.stdout + result.stderr
    return result


def commit_all(repo, message):
    git(repo, "add", "-A", "kitty-ops")
    git(repo, "commit", "-qm", message, "--no-verify")
    return git(repo, "rev-parse", "HEAD")


def committed_op(repo, **fields):
    op_id = start_invocation(repo, "implementer", "implement", **fields)["invocation_id"]
    assert complete_invocation(repo, op_id).commit
    return op_id


def follow_repairs(repo, result):
    """Run every printed `repair:` command as printed, with a shell."""
    commands = [line.split("  repair: ", 1)[1] for line in result.stdout.splitlines() if line.startswith("  repair: ")]
    assert commands, result.output
    for command in commands:
        done = subprocess.run(command, shell=True, cwd=repo, capture_output=True, text=True, env=env_with_scripts())
        assert done.returncode == 0, f"{command}: {done.stderr}"
    return commands


# -- every finding's repair ends in a passing audit -------------------------------------------------

def _orphan(repo):
    open_op(repo)
    commit_all(repo, "wip")


def _deleted(repo):
    op_id = committed_op(repo)
    git(repo, "rm", "-q", f"kitty-ops/{op_id}.jsonl")
    commit_all(repo, "clean up")


def _renamed(repo):
    op_id = committed_op(repo)
    git(repo, "mv", f"kitty-ops/{op_id}.jsonl", "kitty-ops/archived.jsonl")
    commit_all(repo, "archive")


def _rewritten(repo):
    op_id = committed_op(repo)
    path = record(repo, op_id)
    path.write_text(path.read_text().replace('"outcome": "done"', '"outcome": "failed"'))
    commit_all(repo, "fix outcome")


def _rewritten_lifecycle(repo):
    committed_op(repo, mission_id="M1")
    lifecycle = repo / "kitty-ops" / "lifecycle.jsonl"
    lifecycle.write_text(lifecycle.read_text().splitlines()[0] + "\n")
    commit_all(repo, "trim")


def _invalid_appended(repo):
    op_id = committed_op(repo)
    with record(repo, op_id).open("a") as handle:
        handle.write("{not json\n")
    commit_all(repo, "garbage")


def _invalid_new_record(repo):
    hand_written_op(repo, started_at="yesterday")
    commit_all(repo, "bad record")


def _symlink(repo):
    (repo / "kitty-ops").mkdir(exist_ok=True)
    os.symlink("../README.md", repo / "kitty-ops" / "link.jsonl")
    commit_all(repo, "link")


def _local_file(repo):
    start_invocation(repo, "p", "a")
    local = repo / "kitty-ops" / "ops-index.jsonl"
    assert local.exists()
    git(repo, "add", "--force", "kitty-ops/ops-index.jsonl")
    git(repo, "commit", "-qm", "local", "--no-verify")


@pytest.mark.parametrize("make, rule", [
    (_orphan, "committed-orphan"), (_deleted, "deleted-record"), (_renamed, "renamed-record"),
    (_rewritten, "rewritten-line"), (_rewritten_lifecycle, "rewritten-line"),
    (_invalid_appended, "invalid-line"), (_invalid_new_record, "invalid-line"),
    (_symlink, "symlink"), (_local_file, "local-file"),
], ids=lambda value: getattr(value, "__name__", value).strip("_"))
def test_following_the_printed_repair_passes_the_audit(committed_repo, make, rule):
    make(committed_repo)
    found = audit(committed_repo)
    assert found.returncode == 1, found.output
    assert f"[{rule}]" in found.stdout
    follow_repairs(committed_repo, found)
    again = audit(committed_repo)
    assert again.returncode == 0, again.output
    assert f"[{rule}]" in again.stdout and "healed in " in again.stdout  # still listed, as a warning
    shown = again.stdout.splitlines()
    assert all(line.startswith(("warning: ", "  healed in ", "kitty-ops audit: ")) for line in shown)
    assert re.search(r"checked, no problems, \d+ warnings?$", again.stdout.splitlines()[-1])
    assert "  repair: " not in again.stdout


# -- partial clones ---------------------------------------------------------------------------------

@pytest.fixture
def origin(committed_repo, tmp_path):
    """A bare repository that serves partial clones, holding: records written
    once (as Op commits make them), a lifecycle appended to twice, and big
    files outside kitty-ops/ renamed and edited (which `git log -M` reads)."""
    repo = committed_repo
    for number in range(3):
        (repo / f"big{number}.txt").write_text("".join(f"line {number} {n}\n" for n in range(300)))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "big files")
    git(repo, "mv", "big0.txt", "moved.txt")
    with open(repo / "moved.txt", "a") as handle:
        handle.write("edited\n")
    git(repo, "commit", "-qam", "move and edit")
    committed_op(repo)
    committed_op(repo)
    bare = tmp_path / "origin.git"
    git(repo, "clone", "-q", "--bare", str(repo), str(bare))
    git(bare, "config", "uploadpack.allowFilter", "true")
    git(bare, "repack", "-q", "-a", "-d", "-f", "--window=0")  # no blob travels as a delta base
    return bare


def blobless_clone(bare, where):
    subprocess.run(["git", "clone", "-q", "--no-local", "--filter=blob:none", f"file://{bare}", str(where)],
                   check=True)
    return where


def missing_objects(clone):
    raw = git(clone, "rev-list", "--objects", "--missing=print", "--all")
    return {line[1:] for line in raw.splitlines() if line.startswith("?")}


def test_a_blobless_clone_with_no_remote_is_audited(origin, tmp_path):
    clone = blobless_clone(origin, tmp_path / "clone")
    git(clone, "remote", "remove", "origin")
    git(clone, "config", "extensions.partialClone", "origin")  # still a partial clone, its remote gone
    assert missing_objects(clone)
    assert subprocess.run(["git", "log", "--raw", "-M"], cwd=clone, capture_output=True).returncode != 0
    result = audit(clone)
    assert result.returncode == 0, result.output
    assert result.stdout == "kitty-ops audit: 2 commits touching kitty-ops/ checked, no problems\n"


def test_a_missing_kitty_ops_blob_fails_with_one_line_and_is_never_fetched(origin, committed_repo, tmp_path):
    committed_op(committed_repo, mission_id="M1")
    committed_op(committed_repo, mission_id="M1")  # lifecycle.jsonl: the older version is not at the tip
    git(committed_repo, "push", "-q", str(origin), "main")
    clone = blobless_clone(origin, tmp_path / "clone")
    missing = missing_objects(clone)
    result = audit(clone)
    assert result.returncode == 2, result.output
    assert result.stdout == "" and len(result.stderr.splitlines()) == 1
    assert re.fullmatch(
        r"kitty-ops: error: 1 blob under kitty-ops/ that the audit reads are missing from this partial clone"
        r" \(the first: kitty-ops/lifecycle.jsonl in [0-9a-f]{12}\): fetch them first, in one batch, with"
        r" `kitty-ops audit --fetch-missing HEAD`\n", result.stderr), result.stderr
    assert missing_objects(clone) == missing  # nothing was fetched
    fetched = audit(clone, "--fetch-missing", "HEAD")  # the command it names
    assert fetched.returncode == 0, fetched.output
    assert len(missing_objects(clone)) == len(missing) - 1
    assert audit(clone).returncode == 0


def test_a_missing_blob_with_the_remote_gone_says_so(origin, committed_repo, tmp_path):
    committed_op(committed_repo, mission_id="M1")
    committed_op(committed_repo, mission_id="M1")
    git(committed_repo, "push", "-q", str(origin), "main")
    clone = blobless_clone(origin, tmp_path / "clone")
    git(clone, "remote", "rename", "origin", "gone")
    git(clone, "remote", "remove", "gone")
    git(clone, "config", "extensions.partialClone", "gone")
    result = audit(clone, "--fetch-missing")
    assert result.returncode == 2, result.output
    assert len(result.stderr.splitlines()) == 1
    assert "no promisor remote (gone) is left to fetch them from: audit a full clone" in result.stderr


# -- shallow clones ---------------------------------------------------------------------------------

@pytest.fixture
def orphan_origin(committed_repo, tmp_path):
    """A bare remote whose main holds a committed orphan under two clean Op commits."""
    open_op(committed_repo)
    commit_all(committed_repo, "old orphan")
    committed_op(committed_repo)
    committed_op(committed_repo)
    bare = tmp_path / "origin.git"
    git(committed_repo, "clone", "-q", "--bare", str(committed_repo), str(bare))
    return bare


def shallow_clone(bare, where, *args):
    subprocess.run(["git", "clone", "-q", "--depth", "1", *args, f"file://{bare}", str(where)], check=True)
    return where


def test_a_shallow_clone_is_not_a_false_green(orphan_origin, tmp_path):
    clone = shallow_clone(orphan_origin, tmp_path / "clone")
    result = audit(clone)
    assert result.returncode == 2, result.output
    [line] = result.stderr.splitlines()
    assert re.fullmatch(
        r"kitty-ops: error: this clone is shallow and the history to audit goes beyond it \([0-9a-f]{12} has no"
        r" parents here\): fetch it first with `git fetch --unshallow`, or pass --shallow-ok to audit only what is"
        r" here", line), line
    subprocess.run(["git", "fetch", "-q", "--unshallow"], cwd=clone, check=True)  # the command it names
    found = audit(clone)
    assert found.returncode == 1, found.output
    assert "old orphan: " in found.stdout and "[committed-orphan]" in found.stdout


def test_shallow_ok_audits_what_is_there_with_a_warning(orphan_origin, tmp_path):
    clone = shallow_clone(orphan_origin, tmp_path / "clone", "--depth", "2")
    head = git(clone, "rev-parse", "HEAD")
    boundary = git(clone, "rev-parse", "HEAD^")
    result = audit(clone, "--shallow-ok")
    assert result.returncode == 0, result.output
    assert result.stderr == (f"warning: this clone is shallow: {boundary[:12]} and the history beyond it are not"
                             " audited (--shallow-ok)\n")
    assert result.stdout == "kitty-ops audit: 1 commit touching kitty-ops/ checked, no problems\n"
    assert audit(clone, f"{boundary}..{head}").returncode == 0  # a range inside what is here needs nothing


def test_a_base_the_shallow_clone_lacks_names_the_fetch(orphan_origin, committed_repo, tmp_path):
    git(committed_repo, "checkout", "-qb", "feature")
    open_op(committed_repo)
    commit_all(committed_repo, "feature wip")
    committed_op(committed_repo)
    git(committed_repo, "push", "-q", str(orphan_origin), "feature")
    clone = shallow_clone(orphan_origin, tmp_path / "clone", "--branch", "feature")
    result = audit(clone, "--base", "origin/main")
    assert result.returncode == 2, result.output
    [line] = result.stderr.splitlines()
    command = "git fetch --unshallow origin main:refs/remotes/origin/main"
    assert line == f"kitty-ops: error: origin/main is not in this clone: fetch it first with `{command}`"
    subprocess.run(command.split(), cwd=clone, check=True, capture_output=True)
    found = audit(clone, "--base", "origin/main")
    assert found.returncode == 1, found.output  # the branch's orphan, not main's
    assert "feature wip: " in found.stdout and "old orphan" not in found.stdout


# -- all-zero old ends ------------------------------------------------------------------------------

@pytest.mark.parametrize("zeros", [40, 64])
def test_an_all_zero_old_end_audits_what_no_remote_has(orphan_origin, committed_repo, zeros):
    git(committed_repo, "remote", "add", "origin", str(orphan_origin))
    git(committed_repo, "fetch", "-q", "origin")
    op_id = open_op(committed_repo)
    commit_all(committed_repo, "new wip")
    result = audit(committed_repo, f"{'0' * zeros}..HEAD")
    assert result.returncode == 1, result.output
    assert "new wip: " in result.stdout and op_id in result.stdout and "old orphan" not in result.stdout
    assert "Invalid revision range" not in result.output
    assert audit(committed_repo, "--base", "0" * zeros).returncode == 1


def test_the_hook_reads_64_zeros_and_a_branch_deletion(committed_repo, monkeypatch, capsys):
    from kitty_ops.hooks.audit import main, revisions_to_push

    open_op(committed_repo)
    head = commit_all(committed_repo, "wip")
    assert revisions_to_push({"PRE_COMMIT_FROM_REF": "0" * 64, "PRE_COMMIT_TO_REF": head}) == [head]
    assert revisions_to_push({"PRE_COMMIT_FROM_REF": head, "PRE_COMMIT_TO_REF": "0" * 40}) == []
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", "0" * 64)
    monkeypatch.setenv("PRE_COMMIT_TO_REF", head)
    assert main([]) == 1
    monkeypatch.setenv("PRE_COMMIT_TO_REF", "0" * 40)
    assert main([]) == 0


def test_json_names_the_unaudited_boundary(orphan_origin, tmp_path):
    clone = shallow_clone(orphan_origin, tmp_path / "clone")
    result = audit(clone, "--shallow-ok", "--json")
    assert result.returncode == 0, result.output
    report = json.loads(result.stdout)
    assert report["unaudited_shallow_boundary"] == [git(clone, "rev-parse", "HEAD")]
    assert report["commits_checked"] == 0
