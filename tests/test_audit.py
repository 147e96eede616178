"""`kitty-ops audit` over real histories: one test per rule, and the range it reads."""
from __future__ import annotations

import json
import os
import subprocess

import pytest
from click.testing import CliRunner

from kitty_ops.cli import cli
from kitty_ops.lifecycle.executor import complete_invocation, start_invocation
from kitty_ops.queries.audit import audit

from .conftest import git, open_op, record


def run_audit(*args: str):
    return CliRunner().invoke(cli, ["audit", *args])


def commit_all(repo, message: str) -> str:
    """`git add -A kitty-ops && git commit --no-verify`: what a clone without hooks does."""
    git(repo, "add", "-A", "kitty-ops")
    git(repo, "commit", "-qm", message, "--no-verify")
    return git(repo, "rev-parse", "HEAD")


def committed_op(repo, **fields) -> str:
    op_id = start_invocation(repo, "implementer", "implement", **fields)["invocation_id"]
    assert complete_invocation(repo, op_id).commit
    return op_id


def test_a_history_of_op_commits_passes(committed_repo):
    committed_op(committed_repo)
    committed_op(committed_repo, mission_id="M1")
    result = run_audit()
    assert result.exit_code == 0, result.output
    assert result.stdout == "kitty-ops audit: 2 commits touching kitty-ops/ checked, no problems\n"


def test_the_corpus_passes(corpus_repo):
    result = run_audit()
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("no problems\n")


def test_a_committed_orphan_is_found(committed_repo):
    op_id = open_op(committed_repo, profile_id="reviewer", action="review")
    sha = commit_all(committed_repo, "wip: everything")
    result = run_audit()
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"{sha[:12]} wip: everything: kitty-ops/{op_id}.jsonl: Op {op_id} (reviewer: review) is committed while open"
        " (no completed event): its metadata is in history [committed-orphan]"
    )
    assert lines[1] == (
        f"  repair: kitty-ops complete {op_id} --outcome abandoned  # closes it and commits its completion"
        " (or let the Op finish where it runs)"
    )
    assert lines[-1] == "kitty-ops audit: 1 commit touching kitty-ops/ checked: 1 problem in 1 commit"


def test_a_healed_orphan_is_a_warning_naming_the_commit_that_healed_it(committed_repo):
    op_id = open_op(committed_repo)
    commit_all(committed_repo, "wip")
    healed = complete_invocation(committed_repo, op_id).commit
    result = run_audit()
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("warning: ") and lines[0].endswith("[committed-orphan]")
    assert lines[1] == (
        f"  healed in {healed[:12]}: nothing to repair (the commit stays in history;"
        " only squashing the branch before it is merged would drop it)"
    )
    assert lines[-1].endswith("checked, no problems, 1 warning")


def test_allow_healed_is_still_accepted(committed_repo):
    op_id = open_op(committed_repo)
    commit_all(committed_repo, "wip")
    complete_invocation(committed_repo, op_id)
    assert run_audit("--allow-healed").exit_code == 0


def test_an_orphan_nobody_completed_counts(committed_repo):
    open_op(committed_repo)
    commit_all(committed_repo, "wip")
    assert run_audit("--allow-healed").exit_code == 1


def test_a_deleted_record_is_found(committed_repo):
    op_id = committed_op(committed_repo)
    git(committed_repo, "rm", "-q", f"kitty-ops/{op_id}.jsonl")
    sha = commit_all(committed_repo, "clean up")
    result = run_audit()
    assert result.exit_code == 1
    assert (
        f"{sha[:12]} clean up: kitty-ops/{op_id}.jsonl: Op {op_id} (implementer: implement) deletes the record"
        " [deleted-record]"
    ) in result.stdout
    assert (
        f"  repair: git checkout {sha[:12]}^ -- kitty-ops/{op_id}.jsonl"
        f" && git commit -q -m 'Restore kitty-ops/{op_id}.jsonl'  # restores it in a new commit"
    ) in result.stdout


def test_the_repair_of_a_deletion_works(committed_repo):
    op_id = committed_op(committed_repo)
    git(committed_repo, "rm", "-q", f"kitty-ops/{op_id}.jsonl")
    sha = commit_all(committed_repo, "clean up")
    git(committed_repo, "checkout", f"{sha}^", "--", f"kitty-ops/{op_id}.jsonl")
    git(committed_repo, "commit", "-qm", "restore")
    assert run_audit(f"{sha}..HEAD").exit_code == 0
    assert run_audit().exit_code == 0  # the deletion is healed: a warning
    assert record(committed_repo, op_id).is_file()


def test_a_renamed_record_is_found(committed_repo):
    op_id = committed_op(committed_repo)
    git(committed_repo, "mv", f"kitty-ops/{op_id}.jsonl", "kitty-ops/archived.jsonl")
    commit_all(committed_repo, "archive")
    result = run_audit()
    assert result.exit_code == 1
    assert (
        f"kitty-ops/{op_id}.jsonl: Op {op_id} (implementer: implement) renames the record to kitty-ops/archived.jsonl"
        " [renamed-record]"
    ) in result.stdout
    assert f"git mv kitty-ops/archived.jsonl kitty-ops/{op_id}.jsonl" in result.stdout


def test_a_rewritten_line_is_found(committed_repo):
    op_id = committed_op(committed_repo)
    path = record(committed_repo, op_id)
    path.write_text(path.read_text().replace('"outcome": "done"', '"outcome": "failed"'))
    sha = commit_all(committed_repo, "fix outcome")
    result = run_audit()
    assert result.exit_code == 1
    assert (
        f"{sha[:12]} fix outcome: kitty-ops/{op_id}.jsonl: Op {op_id} (implementer: implement)"
        " changes lines already committed"
    ) in result.stdout
    assert "[rewritten-line]" in result.stdout and "[invalid-line]" not in result.stdout


def test_a_rewritten_lifecycle_line_is_found(committed_repo):
    committed_op(committed_repo, mission_id="M1")
    lifecycle = committed_repo / "kitty-ops" / "lifecycle.jsonl"
    lifecycle.write_text(lifecycle.read_text().splitlines()[0] + "\n")
    commit_all(committed_repo, "trim")
    result = run_audit()
    assert result.exit_code == 1
    assert (
        "kitty-ops/lifecycle.jsonl: changes lines already committed (the file is append-only) [rewritten-line]"
    ) in result.stdout


def test_appending_lines_passes(committed_repo):
    op_id = committed_op(committed_repo)
    with record(committed_repo, op_id).open("a") as handle:
        link = {"event": "commit_link", "invocation_id": op_id, "at": "2026-11-24T02:00:00+00:00", "sha": "abc"}
        handle.write(json.dumps(link) + "\n")
    commit_all(committed_repo, "link")
    assert run_audit().exit_code == 0


def test_an_invalid_line_is_found_once(committed_repo):
    op_id = committed_op(committed_repo)
    with record(committed_repo, op_id).open("a") as handle:
        handle.write("{not json\n")
    sha = commit_all(committed_repo, "garbage")
    with record(committed_repo, op_id).open("a") as handle:
        link = {"event": "commit_link", "invocation_id": op_id, "at": "2026-11-24T02:00:00+00:00", "sha": "abc"}
        handle.write(json.dumps(link) + "\n")
    commit_all(committed_repo, "more")
    result = run_audit()
    assert result.exit_code == 1
    assert result.stdout.count("[invalid-line]") == 1  # the later commit did not add it
    assert (
        f"{sha[:12]} garbage: kitty-ops/{op_id}.jsonl: Op {op_id} (implementer: implement) commits an invalid record:"
        " line 3: not valid JSON [invalid-line]"
    ) in result.stdout


def test_a_symlink_is_found(committed_repo):
    (committed_repo / "kitty-ops").mkdir()
    os.symlink("../README.md", committed_repo / "kitty-ops" / "link.jsonl")
    sha = commit_all(committed_repo, "link")
    result = run_audit()
    assert result.exit_code == 1
    assert (
        f"{sha[:12]} link: kitty-ops/link.jsonl: is a symbolic link (kitty-ops never reads through links) [symlink]"
    ) in result.stdout


@pytest.mark.parametrize("name", ["ops-index.jsonl", "propagation-errors.jsonl"])
def test_a_local_file_is_found(committed_repo, name):
    start_invocation(committed_repo, "p", "a")  # writes the index
    local = committed_repo / "kitty-ops" / name
    local.write_text('{"invocation_id": "x"}\n') if not local.exists() else None
    git(committed_repo, "add", "--force", f"kitty-ops/{name}")
    git(committed_repo, "commit", "-qm", "local", "--no-verify")
    result = run_audit()
    assert result.exit_code == 1
    assert (
        f"kitty-ops/{name}: is local to each clone (a cache or a log) and must stay out of git [local-file]"
    ) in result.stdout
    assert f"git rm -q --cached kitty-ops/{name} && git commit -q -m" in result.stdout


def test_base_audits_only_what_the_base_does_not_have(committed_repo):
    open_op(committed_repo)
    commit_all(committed_repo, "old mistake")
    git(committed_repo, "branch", "published")
    committed_op(committed_repo)
    assert run_audit().exit_code == 1
    result = run_audit("--base", "published")
    assert result.exit_code == 0, result.output
    assert result.stdout == "kitty-ops audit: 1 commit touching kitty-ops/ checked, no problems\n"


def test_a_clean_merge_reports_a_branch_commit_once(committed_repo):
    git(committed_repo, "checkout", "-qb", "feature")
    op_id = open_op(committed_repo)
    sha = commit_all(committed_repo, "feature wip")
    git(committed_repo, "checkout", "-q", "main")
    committed_op(committed_repo, mission_id="M1")
    git(committed_repo, "merge", "-q", "--no-edit", "feature")
    result = run_audit()
    assert result.exit_code == 1
    # at the commit that made it, not the merge
    assert result.stdout.count("[committed-orphan]") == 1 and op_id in result.stdout
    assert result.stdout.startswith(sha[:12])


def test_a_union_merge_of_the_lifecycle_passes(committed_repo):
    committed_op(committed_repo, mission_id="M1")
    git(committed_repo, "checkout", "-qb", "feature")
    committed_op(committed_repo, mission_id="M1")
    git(committed_repo, "checkout", "-q", "main")
    committed_op(committed_repo, mission_id="M1")
    git(committed_repo, "merge", "-q", "--no-edit", "feature")  # lifecycle.jsonl merges by union
    assert len(git(committed_repo, "log", "--merges", "--format=%H").splitlines()) == 1
    result = run_audit()
    assert result.exit_code == 0, result.output


def test_a_merge_that_rewrites_a_record_is_found(committed_repo):
    op_id = committed_op(committed_repo)
    git(committed_repo, "checkout", "-qb", "feature")
    (committed_repo / "f.txt").write_text("f\n")
    git(committed_repo, "add", "f.txt")
    git(committed_repo, "commit", "-qm", "feature")
    git(committed_repo, "checkout", "-q", "main")
    git(committed_repo, "merge", "-q", "--no-commit", "feature")
    path = record(committed_repo, op_id)
    path.write_text(path.read_text().replace('"done"', '"failed"'))
    git(committed_repo, "add", str(path))
    git(committed_repo, "commit", "-qm", "evil merge", "--no-verify")
    result = run_audit()
    assert result.exit_code == 1
    assert "evil merge: " in result.stdout and "[rewritten-line]" in result.stdout


def test_json_lists_each_finding(committed_repo):
    op_id = open_op(committed_repo)
    sha = commit_all(committed_repo, "wip")
    result = run_audit("--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["commits_checked"] == 1 and report["problems"] == 1 and report["warnings"] == 0
    [finding] = report["findings"]
    assert finding["commit"] == sha and finding["subject"] == "wip" and finding["rule"] == "committed-orphan"
    assert finding["op_id"] == op_id and finding["op"] == "implementer: implement" and finding["counts"] is True
    assert finding["path"] == f"kitty-ops/{op_id}.jsonl" and finding["healed_in"] is None


def test_audit_called_directly(committed_repo):
    open_op(committed_repo)
    commit_all(committed_repo, "wip")
    report = audit(committed_repo, ["HEAD"])
    assert [finding.rule for finding in report.problems] == ["committed-orphan"]


def test_an_unborn_branch_has_nothing_to_audit(repo):
    result = run_audit()
    assert result.exit_code == 0
    assert result.stdout == "kitty-ops audit: no commits yet, nothing to audit\n"


@pytest.mark.parametrize("args", [["no-such-ref"], ["--base", "no-such-ref"], ["--", "--output=x"]])
def test_a_bad_revision_is_bad_input(committed_repo, args):
    result = subprocess.run(["kitty-ops", "audit", *args], cwd=committed_repo, capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.startswith("kitty-ops: error: ") and len(result.stderr.splitlines()) == 1
    assert not (committed_repo / "x").exists()


def test_outside_git_is_bad_input(tmp_path):
    result = run_audit("--repo", str(tmp_path))
    assert result.exit_code == 2


def test_a_record_moved_out_of_kitty_ops_is_a_deletion(committed_repo):
    """Only kitty-ops/ is read: a record moved out of it is gone from it."""
    op_id = committed_op(committed_repo)
    (committed_repo / "archive").mkdir()
    git(committed_repo, "mv", f"kitty-ops/{op_id}.jsonl", f"archive/{op_id}.jsonl")
    git(committed_repo, "commit", "-qm", "archive", "--no-verify")
    result = run_audit()
    assert result.exit_code == 1
    assert f"kitty-ops/{op_id}.jsonl: Op {op_id} (implementer: implement) deletes the record [deleted-record]" in (
        result.stdout)


def test_a_copy_is_not_a_rename(committed_repo):
    op_id = committed_op(committed_repo)
    (committed_repo / "kitty-ops" / "copy.jsonl").write_bytes(record(committed_repo, op_id).read_bytes())
    commit_all(committed_repo, "copy")
    git(committed_repo, "config", "diff.renames", "copies")
    assert run_audit().exit_code == 0


def test_commits_that_do_not_touch_kitty_ops_are_not_counted(committed_repo):
    committed_op(committed_repo)
    (committed_repo / "other.txt").write_text("x\n")
    git(committed_repo, "add", "other.txt")
    git(committed_repo, "commit", "-qm", "other")
    assert run_audit().stdout == "kitty-ops audit: 1 commit touching kitty-ops/ checked, no problems\n"


def test_a_range_and_a_base_together(committed_repo):
    git(committed_repo, "branch", "base")
    git(committed_repo, "checkout", "-qb", "feature")
    open_op(committed_repo)
    commit_all(committed_repo, "wip")
    git(committed_repo, "checkout", "-q", "main")
    assert run_audit().exit_code == 0  # main does not have it
    assert run_audit("feature", "--base", "base").exit_code == 1
    assert run_audit("feature", "--base", "feature").exit_code == 0
