"""kitty-ops-orphans, called as `main([...])` in real repositories."""
from __future__ import annotations

import json

import pytest

from kitty_ops.doctor.ops import list_orphan_ops
from kitty_ops.hooks.orphans import find_orphan_problems, main, parse_args
from kitty_ops.lifecycle.executor import complete_invocation, start_invocation

from .conftest import git, hand_written_op, open_op, record


def completed_line(op_id: str) -> str:
    return json.dumps({"event": "completed", "invocation_id": op_id, "completed_at": "2026-11-24T00:00:00+00:00",
                       "outcome": "done", "closed_by": "agent"}) + "\n"


def test_nothing_to_say_without_kitty_ops(committed_repo, capsys):
    assert main([]) == 0
    assert capsys.readouterr().out == ""


def test_a_staged_open_record_blocks_and_names_the_fixes(committed_repo, capsys):
    op_id = open_op(committed_repo, hours_ago=2, profile_id="reviewer", action="review")
    git(committed_repo, "add", "kitty-ops")
    assert main([]) == 1
    out = capsys.readouterr().out
    assert out.splitlines() == [
        f"kitty-ops/{op_id}.jsonl: Op {op_id} (reviewer: review, started 2 h ago) is staged but not completed.",
        f"  unstage it: git restore --staged kitty-ops/{op_id}.jsonl",
    ]  # a fresh Op may still be running: abandoning it is not offered


def test_a_staged_stale_orphan_is_unstaged_first_then_closed(committed_repo, capsys):
    op_id = open_op(committed_repo, hours_ago=30)
    git(committed_repo, "add", "kitty-ops")
    assert main([]) == 1
    assert capsys.readouterr().out.splitlines()[1:] == [
        f"  unstage it: git restore --staged kitty-ops/{op_id}.jsonl",
        f"  it is stale (open over 24h): close it: kitty-ops complete {op_id} --outcome abandoned",
    ]


def test_before_the_first_commit_the_fix_is_git_rm_cached(repo, capsys):
    op_id = open_op(repo)
    git(repo, "add", "kitty-ops")
    assert main([]) == 1
    line = f"  unstage it: git rm --cached kitty-ops/{op_id}.jsonl"
    assert line in capsys.readouterr().out.splitlines()
    git(repo, *line.split(": ", 1)[1].split()[1:])  # the command named works
    assert git(repo, "diff", "--cached", "--name-only") == "kitty-ops/.gitattributes"


def test_strict_never_offers_to_abandon_a_fresh_orphan(committed_repo, capsys):
    op_id = open_op(committed_repo)
    assert main(["--strict"]) == 1
    out = capsys.readouterr().out
    assert "--outcome abandoned" not in out
    assert f"  it may still be running: let it finish (kitty-ops complete {op_id}) first" in out


def test_git_config_sets_the_threshold(committed_repo, capsys):
    open_op(committed_repo, hours_ago=13)
    assert main([]) == 0
    git(committed_repo, "config", "kitty-ops.maxAgeHours", "12")
    assert main([]) == 1
    out = capsys.readouterr().out
    assert "is a stale orphan (open over 12h)." in out
    assert "  or close every stale one: kitty-ops doctor ops --close-stale --threshold-hours 12" in out
    assert main(["--max-age-hours", "14"]) == 0  # the command line wins


def test_the_remedy_works_with_the_threshold_in_force(committed_repo, capsys):
    """The sweep the hook names closes what the hook blocks on, at the hook's threshold."""
    import subprocess

    op_id = open_op(committed_repo, hours_ago=20)
    assert main(["--max-age-hours", "12"]) == 1
    command = next(line for line in capsys.readouterr().out.splitlines() if "--close-stale" in line)
    command = command.split(": ", 1)[1].split()
    result = subprocess.run(command, cwd=committed_repo, capture_output=True, text=True)
    assert f"closed: {op_id}" in result.stdout
    assert main(["--max-age-hours", "12"]) == 0


def test_a_bad_configured_threshold_is_bad_input(committed_repo, capsys):
    git(committed_repo, "config", "kitty-ops.maxAgeHours", "soon")
    assert main([]) == 2
    assert capsys.readouterr().out == (
        "kitty-ops-orphans: git config kitty-ops.maxAgeHours: 'soon' is not a number of hours (>= 0)\n"
    )


def test_the_staged_version_counts_not_the_working_file(committed_repo, capsys):
    op_id = open_op(committed_repo)
    git(committed_repo, "add", "kitty-ops")
    with record(committed_repo, op_id).open("a") as handle:
        handle.write(completed_line(op_id))  # completed in the work tree only
    assert main([]) == 1
    assert "is staged but not completed" in capsys.readouterr().out


def test_a_staged_completed_record_passes(committed_repo, capsys):
    op_id = open_op(committed_repo)
    complete_invocation(committed_repo, op_id, commit=False)
    git(committed_repo, "add", "kitty-ops")
    assert main([]) == 0
    assert capsys.readouterr().out == ""


def test_a_stale_untracked_orphan_blocks(committed_repo, capsys):
    op_id = open_op(committed_repo, hours_ago=30)
    assert main([]) == 1
    out = capsys.readouterr().out
    assert f"Op {op_id} (implementer: implement, started 30 h ago) is a stale orphan (open over 24h)." in out
    assert "kitty-ops doctor ops --close-stale" in out
    assert f"kitty-ops complete {op_id} --outcome abandoned" in out


def test_a_fresh_orphan_passes_with_a_warning(committed_repo, capsys):
    op_id = open_op(committed_repo, hours_ago=1)
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("warning: ") and op_id in out and "is still open" in out


def test_strict_blocks_on_a_fresh_orphan(committed_repo, capsys):
    op_id = open_op(committed_repo)
    assert main(["--strict"]) == 1
    out = capsys.readouterr().out
    assert f"Op {op_id} (implementer: implement, started <1 min ago) is an orphan (--strict)." in out


@pytest.mark.parametrize("args", [["--max-age-hours", "0.5"], ["--max-age-hours=0.5"]])
def test_max_age_hours_sets_the_threshold(committed_repo, args):
    open_op(committed_repo, hours_ago=1)
    assert main(args) == 1
    assert main(["--max-age-hours", "2"]) == 0


def test_an_unreadable_start_time_counts_as_stale(committed_repo, capsys):
    op_id = hand_written_op(committed_repo, started_at="yesterday-ish")
    assert main([]) == 1
    out = capsys.readouterr().out
    assert f"Op {op_id} (implementer: implement, start time unreadable) is a stale orphan" in out
    assert "its record is damaged (line 1: started_at: must be an ISO-8601 date and time with a UTC offset)" in out


def test_completed_but_uncommitted_records_are_not_orphans(committed_repo, capsys):
    op_id = open_op(committed_repo, hours_ago=50)
    complete_invocation(committed_repo, op_id, commit=False)
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "orphan" not in out and out.count("\n") == 1 and "completed but not committed" in out


def test_committed_records_are_not_read(corpus_repo, capsys):
    assert main([]) == 0
    assert capsys.readouterr().out == ""
    assert find_orphan_problems(24, strict=True) == ([], [])


def test_runs_from_a_subdirectory(committed_repo, monkeypatch, capsys):
    open_op(committed_repo, hours_ago=30)
    (committed_repo / "sub").mkdir()
    monkeypatch.chdir(committed_repo / "sub")
    assert main([]) == 1
    assert "is a stale orphan" in capsys.readouterr().out


def test_filenames_are_ignored(committed_repo):
    open_op(committed_repo, hours_ago=1)
    assert main(["README.md", "kitty-ops/whatever.jsonl"]) == 0


def test_outside_git_it_says_why_it_cannot_check(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main([]) == 1
    assert capsys.readouterr().out.startswith("kitty-ops-orphans: cannot check for orphans:")


def test_bad_arguments_are_a_usage_error(committed_repo, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--max-age-hours", "soon"])
    assert exit_info.value.code == 2
    assert "invalid float value: 'soon'" in capsys.readouterr().err


def test_parse_args_reads_the_usual_arguments():
    assert parse_args([]) == (None, False, False)  # None: the configured threshold
    assert parse_args(["--strict", "--max-age-hours", "3", "a.txt"]) == (3.0, True, False)
    assert parse_args(["--verbose"]) == (None, False, True)


@pytest.mark.parametrize("module", ["kitty_ops.hooks.orphans", "kitty_ops.hooks.validate", "kitty_ops.hooks.audit"])
def test_the_hooks_import_nothing_heavy(module):
    import subprocess
    import sys

    probe = f"import sys; before = set(sys.modules); import {module}; print(' '.join(set(sys.modules) - before))"
    probed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = set(probed.stdout.split())
    heavy = {"pydantic", "click", "subprocess", "pathlib", "typing", "logging", "kitty_ops.record"}
    if module.endswith("orphans"):
        heavy.add("argparse")
    assert loaded & heavy == set()


def test_tracked_records_are_not_read(committed_repo, capsys):
    """Its cost must not grow with history: a committed record is never looked at,
    even an open one that slipped in with --no-verify (doctor's job)."""
    op_id = open_op(committed_repo, hours_ago=30)
    git(committed_repo, "add", "kitty-ops")
    git(committed_repo, "commit", "-qm", "orphan slipped in", "--no-verify")
    assert main([]) == 0
    assert capsys.readouterr().out == ""
    assert [path.name for path in list_orphan_ops(committed_repo)] == [f"{op_id}.jsonl"]


def test_a_damaged_stale_orphan_blocks_with_the_fix_that_works(committed_repo, capsys):
    op_id = open_op(committed_repo, hours_ago=30)
    with record(committed_repo, op_id).open("a") as handle:
        handle.write('{"event": "compl')  # a crash while writing the completed line
    assert main([]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"kitty-ops/{op_id}.jsonl: Op {op_id} (implementer: implement, started 30 h ago)"
        " is a stale orphan (open over 24h).",
        f"  its record is damaged (line 2: torn last line): repair kitty-ops/{op_id}.jsonl by hand,"
        f" then close it: kitty-ops complete {op_id} --outcome abandoned",
    ]


def test_a_completed_record_left_pending_is_named_as_a_warning(committed_repo, capsys):
    op_id = open_op(committed_repo, profile_id="reviewer", action="review")
    complete_invocation(committed_repo, op_id, commit=False)
    assert main([]) == 0
    out = capsys.readouterr().out
    assert f"warning: kitty-ops/{op_id}.jsonl: Op {op_id} (reviewer: review, started <1 min ago)" in out
    assert "is completed but not committed: kitty-ops commit --pending" in out


def committed_record(repo) -> str:
    op_id = open_op(repo)
    complete_invocation(repo, op_id)
    return f"kitty-ops/{op_id}.jsonl"


def test_a_staged_deletion_of_a_committed_record_blocks(committed_repo, capsys):
    path = committed_record(committed_repo)
    git(committed_repo, "rm", "-q", path)
    assert main([]) == 1  # validate, given no file by pre-commit, does not run
    assert capsys.readouterr().out == (
        f"{path}: deleted, but committed records never leave history (append-only);"
        f" keep it: git restore --staged --worktree {path}\n"
    )
    git(committed_repo, "restore", "--staged", "--worktree", path)  # the fix it names works
    assert main([]) == 0


def test_a_staged_rename_blocks_and_the_new_name_is_checked_as_staged(committed_repo, capsys):
    path = committed_record(committed_repo)
    open_id = open_op(committed_repo)
    git(committed_repo, "mv", path, "kitty-ops/old.jsonl")
    git(committed_repo, "add", f"kitty-ops/{open_id}.jsonl")
    assert main([]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (f"{path}: renamed to kitty-ops/old.jsonl, but a committed record keeps its name"
                      f" (append-only); move it back: git mv kitty-ops/old.jsonl {path}")
    assert out[1].startswith(f"kitty-ops/{open_id}.jsonl: Op {open_id} (")
    assert out[1].endswith("is staged but not completed.")
    git(committed_repo, "mv", "kitty-ops/old.jsonl", path)
    git(committed_repo, "restore", "--staged", f"kitty-ops/{open_id}.jsonl")
    assert main([]) == 0


def test_a_staged_deletion_of_the_lifecycle_blocks(committed_repo, capsys):
    op_id = start_invocation(committed_repo, "p", "a", mission_id="M1")["invocation_id"]
    complete_invocation(committed_repo, op_id)
    git(committed_repo, "rm", "-q", "kitty-ops/lifecycle.jsonl")
    assert main([]) == 1
    assert capsys.readouterr().out.startswith(
        "kitty-ops/lifecycle.jsonl: deleted, but committed records never leave history")
