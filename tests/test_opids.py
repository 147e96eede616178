"""Finding an Op by a prefix of its id, and the Op-Id trailer of Op commits, in real repositories.

Two Ops started in the same millisecond share the first 10 characters of
their ids (and so the `[id8]` of their commit subjects)."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from kitty_ops.cli import cli
from kitty_ops.errors import InvalidInput, UnknownOp
from kitty_ops.format import events
from kitty_ops.lifecycle.executor import complete_invocation
from kitty_ops.queries.opids import resolve
from kitty_ops.store.writer import write_started

from .conftest import git

SAME_MILLISECOND = "01M8SSNCR5"
FIRST = SAME_MILLISECOND + "AAAAAAAAAAAAAAAA"
SECOND = SAME_MILLISECOND + "BBBBBBBBBBBBBBBB"


def kitty(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def twins(committed_repo):
    """Two open Ops started in the same millisecond."""
    at = datetime.now(timezone.utc).isoformat()
    for op_id in (FIRST, SECOND):
        write_started(committed_repo, events.started_event(op_id, "implementer", "implement", started_at=at))
    return committed_repo


def test_a_unique_prefix_of_eight_or_more_characters_finds_the_op(twins):
    assert resolve(twins, FIRST[:11]) == FIRST
    assert resolve(twins, SECOND[:12].lower()) == SECOND  # case does not matter
    assert resolve(twins, FIRST.lower()) == FIRST


def test_an_ambiguous_prefix_is_one_line_listing_the_candidates(twins):
    result = kitty("show", FIRST[:8])
    assert result.exit_code == 2
    assert result.stderr == f"kitty-ops: error: {FIRST[:8]} is ambiguous: {FIRST}, {SECOND}; give more characters\n"


@pytest.mark.parametrize("command", ["show", "complete", "commit", "log"])
def test_fewer_than_eight_characters_are_refused(twins, command):
    result = kitty(command, FIRST[:7])
    assert result.exit_code == 2
    assert result.stderr == f"kitty-ops: error: {FIRST[:7]}: give at least 8 characters of the Op id\n"


def test_a_prefix_that_matches_nothing_is_an_unknown_op(twins):
    result = kitty("show", "01ZZZZZZZZ")
    assert result.exit_code == 1
    assert result.stderr == "kitty-ops: error: 01ZZZZZZZZ: no Op id begins with 01ZZZZZZZZ (in kitty-ops/)\n"
    with pytest.raises(UnknownOp):
        resolve(twins, "01ZZZZZZZZ")
    with pytest.raises(InvalidInput):
        resolve(twins, "01M8SSNC-not-an-id")


def test_show_and_complete_take_a_prefix(twins):
    result = kitty("show", SECOND[:12].lower(), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["invocation_id"] == SECOND
    result = kitty("complete", FIRST[:12].lower(), "--outcome", "failed")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{FIRST} failed, committed ")
    assert json.loads(kitty("show", SECOND[:12], "--json").stdout)["status"] == "open"


def test_commit_takes_a_prefix(twins):
    complete_invocation(twins, SECOND, commit=False)
    result = kitty("commit", SECOND[:14])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{SECOND} committed ")


def test_op_commits_carry_the_full_id_in_a_trailer(twins):
    complete_invocation(twins, FIRST)
    complete_invocation(twins, SECOND)
    subjects = git(twins, "log", "--format=%s", "-2").splitlines()
    assert subjects == [f"op(implementer): implement [{SECOND[:8]}]", f"op(implementer): implement [{FIRST[:8]}]"]
    assert git(twins, "log", "-1", "--format=%B") == f"op(implementer): implement [{SECOND[:8]}]\n\nOp-Id: {SECOND}"
    found = git(twins, "log", f"--grep=Op-Id: {FIRST}", "--format=%s").splitlines()
    assert found == [f"op(implementer): implement [{FIRST[:8]}]"]


def test_interpret_trailers_finds_the_op_id(twins):
    import subprocess

    complete_invocation(twins, FIRST)
    message = git(twins, "log", "-1", "--format=%B")
    parsed = subprocess.run(["git", "interpret-trailers", "--parse"], input=message, capture_output=True, text=True)
    assert parsed.stdout == f"Op-Id: {FIRST}\n"


def test_log_joins_an_op_commit_to_its_op_by_the_trailer(twins):
    complete_invocation(twins, FIRST, commit=False)
    complete_invocation(twins, SECOND, commit=False)
    # One commit holds both records (made by hand): only the trailer says which Op it is.
    git(twins, "add", "kitty-ops")
    git(twins, "commit", "-qm", f"op(implementer): implement [{SECOND[:8]}]", "-m", f"Op-Id: {SECOND}", "--no-verify")
    [entry] = json.loads(kitty("log", "--json").stdout)
    assert entry["invocation_id"] == SECOND


def test_log_of_one_op_by_prefix(twins):
    complete_invocation(twins, FIRST)
    complete_invocation(twins, SECOND)
    result = kitty("log", SECOND[:12].lower(), "--json")
    assert result.exit_code == 0, result.output
    assert [entry["invocation_id"] for entry in json.loads(result.stdout)] == [SECOND]
    result = kitty("log", FIRST[:8])
    assert result.exit_code == 2 and "is ambiguous" in result.stderr


def test_log_finds_an_op_whose_record_is_not_in_the_work_tree(twins):
    complete_invocation(twins, FIRST)
    git(twins, "rm", "-q", "--cached", f"kitty-ops/{FIRST}.jsonl")
    (twins / "kitty-ops" / f"{FIRST}.jsonl").unlink()
    result = kitty("log", FIRST[:12], "--json")
    assert result.exit_code == 0, result.output
    assert [entry["invocation_id"] for entry in json.loads(result.stdout)] == [FIRST]
