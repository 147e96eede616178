"""log, reindex, init, schema, list filters, the demo and output conventions:
through CliRunner and through the installed console script."""
from __future__ import annotations

import json
import subprocess

import pytest
from click.testing import CliRunner

from kitty_ops.cli import cli
from kitty_ops.lifecycle.executor import complete_invocation, start_invocation

from .conftest import COMPAT_CORPUS, git


def invoke(*args: str, env: dict | None = None):
    return CliRunner().invoke(cli, list(args), env=env)


def kitty_ops(*args: str, cwd, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(["kitty-ops", *args], cwd=cwd, capture_output=True, text=True, env=env)


def start(repo, profile="implementer", action="implement", **optional) -> str:
    return start_invocation(repo, profile, action, **optional)["invocation_id"]


def test_log_joins_op_commits_with_their_records(committed_repo):
    first = start(committed_repo, mission_id="M1")
    complete_invocation(committed_repo, first, "failed")
    (committed_repo / "user.txt").write_text("x\n")
    git(committed_repo, "add", "user.txt")
    git(committed_repo, "commit", "-qm", "user commit mentioning op(x): y [ABCDEFGH] in passing")
    second = start(committed_repo, profile="reviewer", action="review")
    complete_invocation(committed_repo, second)
    entries = json.loads(invoke("log", "--json").stdout)
    assert [(e["invocation_id"], e["profile_id"], e["action"], e["outcome"]) for e in entries] == [
        (second, "reviewer", "review", "done"),
        (first, "implementer", "implement", "failed"),
    ]
    assert entries[0]["commit"] == git(committed_repo, "rev-parse", "HEAD")
    assert entries[0]["duration_seconds"] >= 0
    assert [e["invocation_id"] for e in json.loads(invoke("log", "--json", "--mission-id", "M1").stdout)] == [first]
    assert [e["invocation_id"] for e in json.loads(invoke("log", "--json", "--profile", "reviewer").stdout)] == [second]
    assert json.loads(invoke("log", "--json", "--since", "2099-01-01").stdout) == []
    assert len(json.loads(invoke("log", "--json", "--since", "2000-01-01").stdout)) == 2
    text = kitty_ops("log", "--limit", "1", cwd=committed_repo).stdout.splitlines()
    assert len(text) == 1 and "done" in text[0] and text[0].endswith(f"op(reviewer): review [{second[:8]}]")


def test_log_outside_op_commits_says_so(committed_repo):
    result = invoke("log")
    assert result.exit_code == 0 and result.stdout == "no Op commits\n"


def test_reindex_rebuilds_the_index(corpus_repo):
    result = kitty_ops("reindex", cwd=corpus_repo)
    assert result.returncode == 0 and result.stdout == "indexed 344 Ops in kitty-ops/ops-index.jsonl\n"
    lines = (corpus_repo / "kitty-ops" / "ops-index.jsonl").read_text().splitlines()
    assert len(lines) == 344
    assert git(corpus_repo, "status", "--porcelain") == ""
    listed = json.loads(invoke("list", "--limit", "3", "--json").stdout)
    assert [op["invocation_id"] for op in listed] == sorted(p.name[:-6] for p in COMPAT_CORPUS.glob("01*"))[::-1][:3]


def test_init_prints_the_pre_commit_entry_and_sets_up_the_directory(committed_repo):
    result = invoke("init")
    assert result.exit_code == 0
    assert (committed_repo / "kitty-ops" / ".gitattributes").read_text() == "*.jsonl merge=union\n"
    assert "/kitty-ops/ops-index.jsonl" in (committed_repo / ".git" / "info" / "exclude").read_text()
    assert "- id: kitty-ops-orphans" in result.stdout and "- id: kitty-ops-validate" in result.stdout
    assert "- id: kitty-ops-audit" in result.stdout
    assert not (committed_repo / ".pre-commit-config.yaml").exists()


def test_init_write_creates_or_extends_the_pre_commit_config(committed_repo):
    config = committed_repo / ".pre-commit-config.yaml"
    config.write_text(
        "# my hooks\nrepos:\n  - repo: https://github.com/pre-commit/pre-commit-hooks\n    rev: v5.0.0\n"
        "    hooks:\n      - id: trailing-whitespace\n"
    )
    result = kitty_ops("init", "--write", cwd=committed_repo)
    assert result.returncode == 0, result.stderr
    text = config.read_text()
    assert text.startswith(
        "# my hooks\ndefault_install_hook_types: [pre-commit, prepare-commit-msg, pre-push]\n"
        "default_stages: [pre-commit]\nrepos:\n"
        "  - repo: https://github.com/pre-commit/pre-commit-hooks\n"
    )
    assert "  - repo: local\n" in text and "      - id: kitty-ops-orphans\n" in text
    import yaml  # pre-commit's dependency: the file must stay valid YAML

    assert yaml.safe_load(text)["default_install_hook_types"] == ["pre-commit", "prepare-commit-msg", "pre-push"]
    repos = yaml.safe_load(text)["repos"]
    assert [repo["repo"] for repo in repos] == ["https://github.com/pre-commit/pre-commit-hooks", "local"]
    assert "--hooks-from" in result.stdout  # the published form, for teammates with nothing installed
    again = kitty_ops("init", "--write", cwd=committed_repo)
    assert "already has kitty-ops hooks" in again.stdout and config.read_text() == text


def test_init_write_refuses_a_config_it_cannot_extend_safely(committed_repo):
    config = committed_repo / ".pre-commit-config.yaml"
    config.write_text("repos: []\ndefault_stages: [pre-commit]\n")
    result = invoke("init", "--write")
    assert result.exit_code == 1
    assert "add the entry by hand" in result.stderr
    assert config.read_text() == "repos: []\ndefault_stages: [pre-commit]\n"


def test_schema_validates_every_line_of_the_corpus():
    import jsonschema
    schemas = json.loads(invoke("schema").stdout)
    assert set(schemas) == {"started", "completed", "artifact_link", "commit_link"}
    checked = 0
    for path in COMPAT_CORPUS.glob("01*.jsonl"):
        for line in path.read_text().splitlines():
            event = json.loads(line)
            jsonschema.validate(event, schemas[event["event"]])
            checked += 1
    assert checked == 344 * 2 + 194 + 98


def test_schema_rejects_what_kitty_ops_refuses():
    import jsonschema
    started = json.loads(invoke("schema", "started").stdout)
    good = {"event": "started", "invocation_id": "01KTK4DFAS04MCX5GP1W2R6NEP", "profile_id": "p", "action": "a",
            "started_at": "2026-11-24T00:00:00+00:00"}
    jsonschema.validate(good, started)
    for bad in ({"action": "two\nlines"}, {"invocation_id": "../etc/passwd"}, {"profile_id": "-x"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**good, **bad}, started)


def test_list_filters(committed_repo):
    done = start(committed_repo, mission_id="M1", wp_id="WP01")
    complete_invocation(committed_repo, done, commit=False)
    failed = start(committed_repo, profile="reviewer", action="review", mission_id="M1")
    complete_invocation(committed_repo, failed, "failed", commit=False)
    still_open = start(committed_repo, mission_id="M2")

    def ids(*args):
        return [op["invocation_id"] for op in json.loads(invoke("list", "--json", *args).stdout)]

    assert ids() == [still_open, failed, done]
    assert ids("--open") == [still_open]
    assert ids("--outcome", "failed") == [failed]
    assert ids("--profile", "implementer") == [still_open, done]
    assert ids("--mission-id", "M1") == [failed, done]
    assert ids("--wp-id", "WP01") == [done]
    assert ids("--mission-id", "M1", "--outcome", "done") == [done]
    (committed_repo / "kitty-ops" / "ops-index.jsonl").unlink()
    assert ids("--mission-id", "M1") == [failed, done]
    conflict = invoke("list", "--open", "--outcome", "done")
    assert conflict.exit_code == 2 and "exclude each other" in conflict.stderr


def test_colour_only_on_a_terminal_and_never_with_no_color(committed_repo):
    start(committed_repo)
    piped = kitty_ops("list", cwd=committed_repo)
    assert "\x1b[" not in piped.stdout
    forced = CliRunner().invoke(cli, ["list"], color=True)
    assert "\x1b[36mopen" in forced.stdout
    no_color = CliRunner().invoke(cli, ["list"], color=True, env={"NO_COLOR": "1"})
    assert "\x1b[" not in no_color.stdout and "open" in no_color.stdout


@pytest.mark.parametrize(
    "command",
    [
        "list", "show", "log", "doctor ops", "validate", "schema", "reindex", "init", "demo", "start", "complete",
        "commit", "report",
    ],
)
def test_every_command_has_help_with_an_example(command):
    result = invoke(*command.split(), "--help")
    assert result.exit_code == 0
    assert "Example" in result.stdout


def test_the_demo_runs_end_to_end(tmp_path):
    result = subprocess.run(["kitty-ops", "demo"], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "1. A repository, with kitty-ops' pre-commit hook installed." in out
    assert "done, committed" in out
    assert "is staged but not completed." in out
    assert "closed: " in out and "reviewer: review" in out
    assert "op(implementer): implement [" in out and "op(reviewer): review [" in out
    assert out.rstrip().endswith("Done: every Op is in history, and the orphan could not sneak in.")
    scratch = out.splitlines()[0].rsplit(" ", 1)[-1]
    assert scratch.startswith("/") and not __import__("os").path.exists(scratch)


def test_the_demo_keeps_its_repository_when_asked(tmp_path):
    result = invoke("demo", "--keep")
    assert result.exit_code == 0, result.output
    kept = result.stdout.split("The repository is kept: ", 1)[1].splitlines()[0]
    assert "op(reviewer): review" in git(__import__("pathlib").Path(kept), "log", "--format=%s")
    __import__("shutil").rmtree(kept)


def test_reindex_through_clirunner_and_schema_through_the_console_script(committed_repo):
    op_id = start(committed_repo)
    (committed_repo / "kitty-ops" / "ops-index.jsonl").unlink()
    result = invoke("reindex")
    assert result.exit_code == 0 and result.stdout == "indexed 1 Ops in kitty-ops/ops-index.jsonl\n"
    assert json.loads((committed_repo / "kitty-ops" / "ops-index.jsonl").read_text())["invocation_id"] == op_id
    schema = kitty_ops("schema", "commit_link", cwd=committed_repo)
    assert schema.returncode == 0
    assert json.loads(schema.stdout)["required"] == ["event", "invocation_id", "at", "sha"]
    unknown = kitty_ops("schema", "nope", cwd=committed_repo)
    assert unknown.returncode == 2 and unknown.stderr.count("\n") == 1


def test_records_that_arrive_with_git_are_listed_after_a_start(committed_repo):
    from kitty_ops.lifecycle.executor import start_invocation

    first = start_invocation(committed_repo, "implementer", "implement")["invocation_id"]
    arrived = COMPAT_CORPUS / "01KTK4DFAS04MCX5GP1W2R6NEP.jsonl"  # as a pull would bring it
    (committed_repo / "kitty-ops" / arrived.name).write_bytes(arrived.read_bytes())
    index_time = (committed_repo / "kitty-ops" / "ops-index.jsonl").stat().st_mtime_ns
    later = index_time + 1_000_000_000  # the pull came after the index was written
    import os

    os.utime(committed_repo / "kitty-ops", ns=(later, later))
    second = start_invocation(committed_repo, "reviewer", "review")["invocation_id"]
    listed = [op["invocation_id"] for op in json.loads(invoke("list", "--json").stdout)]
    assert listed == [second, first, "01KTK4DFAS04MCX5GP1W2R6NEP"]
