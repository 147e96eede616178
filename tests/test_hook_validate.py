"""kitty-ops-validate (`main([...])`) and `kitty-ops validate`, in real repositories."""
from __future__ import annotations

import json
import subprocess

import pytest
from click.testing import CliRunner

from kitty_ops.cli import cli
from kitty_ops.hooks.validate import main
from kitty_ops.lifecycle.executor import complete_invocation, start_invocation

from .conftest import git, open_op, record

OTHER_ID = "01KTK4DFAS04MCX5GP1W2R6NEP"


def staged(repo, op_id: str, content: str) -> str:
    path = record(repo, op_id)
    path.write_text(content)
    git(repo, "add", str(path))
    return f"kitty-ops/{op_id}.jsonl"


def line(**fields) -> str:
    return json.dumps(fields) + "\n"


def started(op_id: str) -> str:
    return line(
        event="started", invocation_id=op_id, profile_id="p", action="a", started_at="2026-11-24T00:00:00+00:00"
    )


def completed(op_id: str) -> str:
    return line(
        event="completed",
        invocation_id=op_id,
        completed_at="2026-11-24T01:00:00+00:00",
        outcome="done",
        closed_by="agent",
    )


def test_a_well_formed_record_passes(committed_repo, capsys):
    op_id = open_op(committed_repo)
    path = staged(committed_repo, op_id, started(op_id) + completed(op_id))
    assert main([path]) == 0
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    "content, problem",
    [
        (lambda i: started(i) + "{not json\n", "line 2: not valid JSON"),
        (lambda i: started(OTHER_ID), f"line 1: invocation_id '{OTHER_ID}' does not match the file name"),
        (lambda i: completed(i) + started(i), "line 1: completed event before the started event"),
        (lambda i: started(i) + completed(i) + completed(i), "line 3: a second completed event"),
        (lambda i: line(event="artifact_link", invocation_id=i, at="x", kind="a", ref="r") + started(i),
         "line 2: started is not the first event"),
    ],
    ids=["bad-json", "name-mismatch", "first-not-started", "two-completed", "event-before-started"],
)
def test_malformed_staged_records_block(committed_repo, capsys, content, problem):
    op_id = open_op(committed_repo)
    path = staged(committed_repo, op_id, content(op_id))
    assert main([path]) == 1
    out = capsys.readouterr().out
    assert f"{path}: {problem}" in out
    assert "git restore --staged" in out


def test_the_staged_version_is_checked_not_the_work_tree(committed_repo):
    op_id = open_op(committed_repo)
    path = staged(committed_repo, op_id, started(op_id) + "garbage\n")
    record(committed_repo, op_id).write_text(started(op_id))  # fixed in the work tree only
    assert main([path]) == 1


def test_rewriting_a_committed_line_blocks(committed_repo, capsys):
    op_id = start_invocation(committed_repo, "p", "a")["invocation_id"]
    complete_invocation(committed_repo, op_id)
    path = record(committed_repo, op_id)
    path.write_text(path.read_text().replace('"outcome": "done"', '"outcome": "failed"'))
    git(committed_repo, "add", str(path))
    assert main([f"kitty-ops/{op_id}.jsonl"]) == 1
    assert "changes lines already committed" in capsys.readouterr().out


def test_appending_to_a_committed_record_passes(committed_repo):
    op_id = start_invocation(committed_repo, "p", "a")["invocation_id"]
    complete_invocation(committed_repo, op_id)
    path = record(committed_repo, op_id)
    with path.open("a") as handle:
        handle.write(line(event="commit_link", invocation_id=op_id, at="2026-11-24T02:00:00+00:00", sha="abc"))
    git(committed_repo, "add", str(path))
    assert main([f"kitty-ops/{op_id}.jsonl"]) == 0


def test_lifecycle_is_append_only_too(committed_repo, capsys):
    op_id = start_invocation(committed_repo, "p", "a", mission_id="M1")["invocation_id"]
    complete_invocation(committed_repo, op_id)
    lifecycle = committed_repo / "kitty-ops" / "lifecycle.jsonl"
    lifecycle.write_text(lifecycle.read_text().splitlines()[0] + "\n")
    git(committed_repo, "add", str(lifecycle))
    assert main(["kitty-ops/lifecycle.jsonl"]) == 1
    assert "kitty-ops/lifecycle.jsonl: changes lines already committed" in capsys.readouterr().out


def test_other_files_are_not_checked(committed_repo):
    notes = committed_repo / "kitty-ops" / "notes.jsonl"
    notes.parent.mkdir()
    notes.write_text("free-form\n")
    git(committed_repo, "add", str(notes))
    assert main(["kitty-ops/notes.jsonl", "README.md"]) == 0


def test_the_corpus_passes_the_hook(corpus_repo):
    paths = git(corpus_repo, "ls-files", "kitty-ops").splitlines()
    assert len(paths) == 345
    assert main(paths) == 0


def test_cli_validate_checks_the_whole_directory(corpus_repo):
    result = CliRunner().invoke(cli, ["validate"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "345 files checked, 0 invalid"


def test_cli_validate_reports_invalid_records_as_json(corpus_repo):
    bad = corpus_repo / "kitty-ops" / "01KTK4DFAS04MCX5GP1W2R6NEP.jsonl"
    bad.write_text(bad.read_text().replace('"done"', '"done-ish"'))
    result = CliRunner().invoke(cli, ["validate", "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["checked"] == 345
    assert [entry["path"] for entry in report["invalid"]] == ["kitty-ops/01KTK4DFAS04MCX5GP1W2R6NEP.jsonl"]
    error = report["invalid"][0]["error"]
    assert "line 2: outcome: must be one of done, failed, abandoned" in error
    assert "changes lines already committed" in error


def test_cli_validate_named_paths_through_the_console_script(corpus_repo):
    result = subprocess.run(
        ["kitty-ops", "validate", "kitty-ops/01KTK4DFAS04MCX5GP1W2R6NEP.jsonl"],
        cwd=corpus_repo,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0
    assert result.stdout == "1 files checked, 0 invalid\n"


def test_console_script_of_the_hook(committed_repo):
    op_id = open_op(committed_repo)
    path = staged(committed_repo, op_id, "{}\n")
    result = subprocess.run(["kitty-ops-validate", path], cwd=committed_repo, capture_output=True, text=True)
    assert result.returncode == 1
    assert f"{path}: line 1: no event type" in result.stdout


@pytest.mark.parametrize("name", ["ops-index.jsonl", "propagation-errors.jsonl"])
def test_a_staged_local_file_blocks(committed_repo, capsys, name):
    start_invocation(committed_repo, "p", "a")  # writes the index and excludes it
    local = committed_repo / "kitty-ops" / name
    local.write_text('{"invocation_id": "x"}\n')
    git(committed_repo, "add", "--force", str(local))  # info/exclude keeps it out unless forced
    assert main([f"kitty-ops/{name}"]) == 1
    assert capsys.readouterr().out.splitlines()[0] == (
        f"kitty-ops/{name}: staged, but it is local to each clone (a cache or a log) and must stay out of git:"
        f" git rm --cached kitty-ops/{name}"
    )


def test_an_unstaged_local_file_passes(committed_repo):
    start_invocation(committed_repo, "p", "a")
    assert main(["kitty-ops/ops-index.jsonl"]) == 0


def test_cli_validate_flags_a_committed_index(committed_repo):
    start_invocation(committed_repo, "p", "a")
    git(committed_repo, "add", "--force", "kitty-ops/ops-index.jsonl")
    git(committed_repo, "commit", "-qm", "oops", "--no-verify")
    result = CliRunner().invoke(cli, ["validate"])
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == (
        "kitty-ops/ops-index.jsonl: committed in HEAD, but it is local to each clone (a cache or a log)"
        " and must stay out of git: git rm --cached kitty-ops/ops-index.jsonl"
    )
    git(committed_repo, "rm", "-q", "--cached", "kitty-ops/ops-index.jsonl")
    git(committed_repo, "commit", "-qm", "local again")
    assert CliRunner().invoke(cli, ["validate"]).exit_code == 0


def test_cli_validate_paths_are_relative_to_the_current_directory(corpus_repo, monkeypatch):
    (corpus_repo / "docs").mkdir()
    monkeypatch.chdir(corpus_repo / "docs")
    result = CliRunner().invoke(cli, ["validate", "../kitty-ops/01KTK4DFAS04MCX5GP1W2R6NEP.jsonl"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "1 files checked, 0 invalid\n"


def test_cli_validate_refuses_a_path_outside_the_repository(corpus_repo, tmp_path):
    result = subprocess.run(
        ["kitty-ops", "validate", str(tmp_path / "elsewhere.jsonl")], cwd=corpus_repo, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert result.stderr == (
        f"kitty-ops: error: {tmp_path / 'elsewhere.jsonl'}: not a file in the repository {corpus_repo}\n"
    )


def committed(repo) -> str:
    op_id = start_invocation(repo, "p", "a")["invocation_id"]
    complete_invocation(repo, op_id)
    return f"kitty-ops/{op_id}.jsonl"


def test_a_staged_deletion_of_a_committed_record_blocks(committed_repo, capsys):
    path = committed(committed_repo)
    git(committed_repo, "rm", "-q", path)
    assert main([]) == 1  # pre-commit passes no deleted file: the hook asks git
    assert capsys.readouterr().out == (
        f"{path}: deleted, but committed records never leave history (append-only);"
        f" keep it: git restore --staged --worktree {path}\n"
    )
    git(committed_repo, "restore", "--staged", "--worktree", path)  # the fix it names works
    assert main([]) == 0 and (committed_repo / path).is_file()


def test_a_staged_rename_of_a_committed_record_blocks(committed_repo, capsys):
    path = committed(committed_repo)
    git(committed_repo, "mv", path, "kitty-ops/old.jsonl")
    assert main(["kitty-ops/old.jsonl"]) == 1
    out = capsys.readouterr().out
    assert f"{path}: renamed to kitty-ops/old.jsonl, but a committed record keeps its name (append-only);" \
           f" move it back: git mv kitty-ops/old.jsonl {path}\n" in out
    git(committed_repo, "mv", "kitty-ops/old.jsonl", path)
    assert main([]) == 0


def test_a_staged_deletion_of_the_lifecycle_blocks(committed_repo, capsys):
    start = start_invocation(committed_repo, "p", "a", mission_id="M1")["invocation_id"]
    complete_invocation(committed_repo, start)
    git(committed_repo, "rm", "-q", "kitty-ops/lifecycle.jsonl")
    assert main([]) == 1
    assert capsys.readouterr().out.startswith(
        "kitty-ops/lifecycle.jsonl: deleted, but committed records never leave history"
    )


def test_deleting_other_files_passes(committed_repo):
    committed(committed_repo)
    git(committed_repo, "rm", "-q", "kitty-ops/.gitattributes")
    assert main([]) == 0


def test_the_fix_names_the_real_path(committed_repo, capsys):
    op_id = open_op(committed_repo)
    path = staged(committed_repo, op_id, "garbage\n")
    assert main([path]) == 1
    out = capsys.readouterr().out
    assert f"  fix the record, or unstage it: git restore --staged {path}\n" in out and "<path>" not in out


def test_before_the_first_commit_the_fix_is_git_rm_cached(repo, capsys):
    op_id = open_op(repo)
    path = staged(repo, op_id, "garbage\n")
    assert main([path]) == 1
    assert f"  fix the record, or unstage it: git rm --cached {path}\n" in capsys.readouterr().out
    git(repo, "rm", "-q", "--cached", path)  # the fix it names works
    assert main([]) == 0
