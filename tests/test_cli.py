"""The CLI, through click's CliRunner and through the installed console script."""
from __future__ import annotations

import json
import os
import subprocess

import pytest
from click.testing import CliRunner

from kitty_ops.cli import cli

from .conftest import git

OP_ID_LINE = 26


def run(*args: str, repo=None):
    runner = CliRunner()
    prefix = ["--repo", str(repo)] if repo else []
    command, rest = args[0], list(args[1:])
    return runner.invoke(cli, [command, *rest, *prefix])


def kitty_ops(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(["kitty-ops", *args], cwd=cwd, capture_output=True, text=True)


def assert_one_line_error(stderr: str, fragment: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("kitty-ops: error: ") and fragment in lines[0], stderr
    assert "Traceback" not in stderr


def test_start_prints_the_new_id_alone(repo):
    result = run("start", "--profile", "implementer", "--action", "implement")
    assert result.exit_code == 0
    op_id = result.stdout.strip()
    assert len(op_id) == OP_ID_LINE and result.stdout == op_id + "\n"
    assert (repo / "kitty-ops" / f"{op_id}.jsonl").is_file()


def test_start_json_prints_the_started_event(repo):
    result = run("start", "--profile", "p", "--action", "a", "--mission-id", "M1", "--json")
    event = json.loads(result.stdout)
    assert event["event"] == "started" and event["mission_id"] == "M1" and "wp_id" not in event


def test_complete_then_show_and_list(committed_repo):
    op_id = run("start", "--profile", "reviewer", "--action", "review").stdout.strip()
    result = run(
        "complete", op_id, "--outcome", "failed", "--evidence", "ci#12", "--artifact", "a.py", "--artifact", "b.py"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{op_id} failed, committed ")
    shown = json.loads(run("show", op_id, "--json").stdout)
    assert shown["status"] == "failed"
    assert shown["completed"]["evidence_ref"] == "ci#12"
    assert [link["ref"] for link in shown["links"]] == ["a.py", "b.py"]
    assert shown["commit"] == git(committed_repo, "rev-parse", "HEAD")
    listed = json.loads(run("list", "--json").stdout)
    assert [(op["invocation_id"], op["status"]) for op in listed] == [(op_id, "failed")]


def test_list_is_newest_first_and_limited(repo):
    ids = [run("start", "--profile", "p", "--action", f"a{n}").stdout.strip() for n in range(5)]
    listed = json.loads(run("list", "--limit", "3", "--json").stdout)
    assert [op["invocation_id"] for op in listed] == ids[::-1][:3]
    text = run("list", "--limit", "2").stdout.splitlines()
    assert len(text) == 3 and text[0].startswith("ID ")
    assert text[1].startswith(ids[-1]) and "open" in text[1] and "p: a4" in text[1]


def test_list_falls_back_to_the_files_without_an_index(repo):
    ids = [run("start", "--profile", "p", "--action", "a").stdout.strip() for _ in range(3)]
    (repo / "kitty-ops" / "ops-index.jsonl").unlink()
    listed = json.loads(run("list", "--json").stdout)
    assert [op["invocation_id"] for op in listed] == ids[::-1]


def test_list_sees_records_that_arrived_after_the_index(repo):
    first = run("start", "--profile", "p", "--action", "a").stdout.strip()
    index = (repo / "kitty-ops" / "ops-index.jsonl")
    saved = index.read_bytes()
    second = run("start", "--profile", "p", "--action", "b").stdout.strip()
    index.write_bytes(saved)  # as if the second record came with a `git pull`
    os.utime(index, ns=(0, 0))
    listed = json.loads(run("list", "--json").stdout)
    assert [op["invocation_id"] for op in listed] == [second, first]


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--profile", "p", "--action", "two\nlines"], "action"),
        (["--profile", "bad\x1b[31m", "--action", "a"], "profile_id"),
        (["--profile=-rf", "--action", "a"], "must not start with '-'"),
        (["--profile", "p", "--action", "x) [01ABCDEF]"], "action"),
    ],
)
def test_start_refuses_hostile_tokens_with_one_line(repo, args, fragment):
    result = run("start", *args)
    assert result.exit_code == 2
    assert_one_line_error(result.stderr, fragment)
    assert not (repo / "kitty-ops").exists() or not list((repo / "kitty-ops").glob("01*.jsonl"))


@pytest.mark.parametrize("command", ["complete", "show"])
def test_an_invalid_id_is_bad_input(repo, command):
    result = run(command, "../../etc/passwd")
    assert result.exit_code == 2
    assert_one_line_error(result.stderr, "is not an Op id")


@pytest.mark.parametrize("command", ["complete", "show"])
def test_an_unknown_id_is_a_problem(repo, command):
    result = run(command, "01KTK4DFAS04MCX5GP1W2R6NEP")
    assert result.exit_code == 1
    assert_one_line_error(result.stderr, "no such Op")


def test_completing_twice_is_a_problem(repo):
    op_id = run("start", "--profile", "p", "--action", "a").stdout.strip()
    assert run("complete", op_id, "--no-commit").exit_code == 0
    result = run("complete", op_id, "--no-commit")
    assert result.exit_code == 1
    assert_one_line_error(result.stderr, "already completed")


def test_a_missing_repo_directory_is_bad_input(tmp_path):
    result = run("list", repo=tmp_path / "nope")
    assert result.exit_code == 2
    assert_one_line_error(result.stderr, "no such directory")


def test_a_symlinked_record_is_bad_input(repo, tmp_path):
    op_id = run("start", "--profile", "p", "--action", "a").stdout.strip()
    path = repo / "kitty-ops" / f"{op_id}.jsonl"
    (tmp_path / "elsewhere.jsonl").write_bytes(path.read_bytes())
    path.unlink()
    path.symlink_to(tmp_path / "elsewhere.jsonl")
    result = run("complete", op_id)
    assert result.exit_code == 2
    assert_one_line_error(result.stderr, "symbolic link")


def test_an_unknown_option_is_one_line_with_a_hint(repo):
    result = run("list", "--bogus")
    assert result.exit_code == 2
    assert_one_line_error(result.stderr, "kitty-ops list --help")


def test_repo_option_points_at_another_repository(repo, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q")
    (other / "sub").mkdir()
    op_id = run("start", "--profile", "p", "--action", "a", repo=other / "sub").stdout.strip()
    assert (other / "kitty-ops" / f"{op_id}.jsonl").is_file()
    assert not (repo / "kitty-ops").exists()


def test_console_script_round_trip(committed_repo):
    started = kitty_ops("start", "--profile", "implementer", "--action", "implement", cwd=committed_repo)
    assert started.returncode == 0, started.stderr
    op_id = started.stdout.strip()
    completed = kitty_ops("complete", op_id, cwd=committed_repo)
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    assert git(committed_repo, "log", "-1", "--format=%s") == f"op(implementer): implement [{op_id[:8]}]"
    listed = kitty_ops("list", cwd=committed_repo)
    assert listed.stdout.splitlines()[1].startswith(op_id) and "done" in listed.stdout
    shown = kitty_ops("show", op_id, cwd=committed_repo)
    assert "completed: done (by agent)" in shown.stdout


def test_console_script_errors_are_one_line(repo):
    result = kitty_ops("complete", "nope", cwd=repo)
    assert result.returncode == 2
    assert_one_line_error(result.stderr, "is not an Op id")


def test_python_dash_m_runs_the_cli(repo):
    import sys

    result = subprocess.run([sys.executable, "-m", "kitty_ops", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and "kitty-ops" in result.stdout
