"""The record store: where files go, how they are written, what is refused."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone

import pytest

from kitty_ops.errors import (
    AlreadyCompleted,
    InvalidInput,
    OpExists,
    UnknownOp,
    UnsafePath,
)
from kitty_ops.lifecycle.executor import complete_invocation, start_invocation
from kitty_ops.record import CompletedEvent, InvocationRecord
from kitty_ops.store import writer

from .conftest import git


def completed(op_id: str) -> CompletedEvent:
    return CompletedEvent(
        invocation_id=op_id, completed_at=datetime.now(timezone.utc), outcome="done", closed_by="agent"
    )


def test_events_dir_is_kitty_ops():
    assert writer.EVENTS_DIR == "kitty-ops"
    assert writer.INDEX_PATH == "kitty-ops/ops-index.jsonl"


def test_start_writes_the_record_and_the_index_under_kitty_ops_only(repo):
    record = start_invocation(repo, "implementer", "implement")
    assert (repo / "kitty-ops" / f"{record['invocation_id']}.jsonl").is_file()
    index_lines = (repo / "kitty-ops" / "ops-index.jsonl").read_text().splitlines()
    assert [json.loads(line)["invocation_id"] for line in index_lines] == [record["invocation_id"]]
    assert not (repo / "ops-index.jsonl").exists()
    assert sorted(path.name for path in repo.iterdir()) == [".git", "kitty-ops"]


def test_local_files_are_excluded_in_git_info_not_gitignore(repo):
    start_invocation(repo, "implementer", "implement")
    exclude = (repo / ".git" / "info" / "exclude").read_text().splitlines()
    assert "/kitty-ops/ops-index.jsonl" in exclude
    assert "/kitty-ops/propagation-errors.jsonl" in exclude
    assert "kitty-ops/" not in exclude and "/kitty-ops/" not in exclude
    assert not (repo / ".gitignore").exists()
    status = git(repo, "status", "--porcelain", "--untracked-files=all")
    assert "ops-index.jsonl" not in status
    assert "kitty-ops/.gitattributes" in status


def test_gitattributes_merge_union(repo):
    start_invocation(repo, "implementer", "implement")
    assert (repo / "kitty-ops" / ".gitattributes").read_text() == "*.jsonl merge=union\n"


def test_started_is_created_exclusively(repo):
    record = start_invocation(repo, "implementer", "implement")
    before = (repo / "kitty-ops" / f"{record['invocation_id']}.jsonl").read_bytes()
    with pytest.raises(OpExists):
        writer.write_started(repo, record)
    assert (repo / "kitty-ops" / f"{record['invocation_id']}.jsonl").read_bytes() == before


def test_completion_appends_and_never_rewrites(repo):
    record = start_invocation(repo, "implementer", "implement", request_text="do it")
    path = repo / "kitty-ops" / f"{record['invocation_id']}.jsonl"
    first_line = path.read_bytes()
    writer.write_completed(repo, completed(record["invocation_id"]))
    data = path.read_bytes()
    assert data.startswith(first_line)
    assert [json.loads(line)["event"] for line in data.splitlines()] == ["started", "completed"]


def test_second_completion_is_refused(repo):
    record = start_invocation(repo, "implementer", "implement")
    writer.write_completed(repo, completed(record["invocation_id"]))
    size = (repo / "kitty-ops" / f"{record['invocation_id']}.jsonl").stat().st_size
    with pytest.raises(AlreadyCompleted):
        writer.write_completed(repo, completed(record["invocation_id"]))
    assert (repo / "kitty-ops" / f"{record['invocation_id']}.jsonl").stat().st_size == size


def test_completing_an_unknown_op_is_refused(repo):
    with pytest.raises(UnknownOp):
        writer.write_completed(repo, completed("01KTK4DFAS04MCX5GP1W2R6NEP"))


def test_a_symlinked_record_is_refused(repo, tmp_path):
    outside = tmp_path / "outside.jsonl"
    record = start_invocation(repo, "implementer", "implement")
    path = repo / "kitty-ops" / f"{record['invocation_id']}.jsonl"
    outside.write_bytes(path.read_bytes())
    path.unlink()
    path.symlink_to(outside)
    before = outside.read_bytes()
    with pytest.raises(UnsafePath):
        complete_invocation(repo, record["invocation_id"], commit=False)
    assert outside.read_bytes() == before


def test_a_symlinked_events_dir_is_refused(repo, tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (repo / "kitty-ops").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(UnsafePath):
        start_invocation(repo, "implementer", "implement")
    assert list((tmp_path / "elsewhere").iterdir()) == []


@pytest.mark.parametrize("op_id", ["../../outside", "../README", "01KTK4DFAS04MCX5GP1W2R6NE/", "/etc/passwd"])
def test_path_traversal_ids_are_refused_before_touching_a_path(repo, op_id):
    with pytest.raises(InvalidInput):
        complete_invocation(repo, op_id, commit=False)
    with pytest.raises(InvalidInput):
        writer.safe_record_path(repo, op_id)


def test_a_torn_last_line_is_not_glued_to_the_completion(repo):
    record = start_invocation(repo, "implementer", "implement")
    path = repo / "kitty-ops" / f"{record['invocation_id']}.jsonl"
    with path.open("ab") as handle:
        handle.write(b'{"event": "artifact_li')
    writer.write_completed(repo, completed(record["invocation_id"]))
    assert json.loads(path.read_bytes().splitlines()[-1])["event"] == "completed"


def test_index_failure_never_fails_the_op(repo):
    (repo / "kitty-ops").mkdir()
    (repo / "kitty-ops" / "ops-index.jsonl").mkdir()  # cannot be appended to
    record = start_invocation(repo, "implementer", "implement")
    assert (repo / "kitty-ops" / f"{record['invocation_id']}.jsonl").is_file()


RACE = """
import sys, time
from datetime import datetime, timezone
from kitty_ops.store import writer
from kitty_ops.errors import AlreadyCompleted
from kitty_ops.record import CompletedEvent
repo, op_id, go = sys.argv[1:]
while time.time() < float(go):
    pass
event = CompletedEvent(invocation_id=op_id, completed_at=datetime.now(timezone.utc), outcome="done", closed_by="agent")
try:
    writer.write_completed(repo, event)
    print("won")
except AlreadyCompleted:
    print("refused")
"""


def test_concurrent_completion_of_one_op_yields_one_completed_line(repo):
    import time

    record = start_invocation(repo, "implementer", "implement")
    go = str(time.time() + 1.5)
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACE, str(repo), record["invocation_id"], go], stdout=subprocess.PIPE, text=True
        )
        for _ in range(6)
    ]
    results = sorted(racer.communicate()[0].strip() for racer in racers)
    assert results == ["refused"] * 5 + ["won"]
    lines = (repo / "kitty-ops" / f"{record['invocation_id']}.jsonl").read_text().splitlines()
    assert [json.loads(line)["event"] for line in lines] == ["started", "completed"]


def test_records_are_written_outside_git_too(tmp_path):
    record = start_invocation(tmp_path, "implementer", "implement")
    result = complete_invocation(tmp_path, record["invocation_id"])
    assert result.commit is None and "not in a git repository" in result.pending_reason
    assert (tmp_path / "kitty-ops" / f"{record['invocation_id']}.jsonl").read_text().count("\n") == 2


def test_lifecycle_lines_only_for_ops_with_a_mission_made_by_the_op_commit(repo):
    plain = start_invocation(repo, "implementer", "implement")
    complete_invocation(repo, plain["invocation_id"])
    assert not (repo / "kitty-ops" / "lifecycle.jsonl").exists()
    mission = start_invocation(repo, "implementer", "implement", mission_id="M1", wp_id="WP01", actor="claude")
    assert not (repo / "kitty-ops" / "lifecycle.jsonl").exists()  # nothing dirty while the Op runs
    complete_invocation(repo, mission["invocation_id"], "abandoned")
    text = (repo / "kitty-ops" / "lifecycle.jsonl").read_text()
    assert git(repo, "show", "HEAD:kitty-ops/lifecycle.jsonl") + "\n" == text
    assert git(repo, "status", "--porcelain") == ""
    lines = [json.loads(line) for line in text.splitlines()]
    assert [(line["phase"], line["reason"]) for line in lines] == [("started", None), ("failed", "abandoned")]
    assert lines[0]["at"] == mission["started_at"]
    assert {line["invocation_id"] for line in lines} == {mission['invocation_id']}
    assert lines[0]["agent"] == "claude" and lines[0]["wp_id"] == "WP01" and lines[0]["mission_id"] == "M1"
    assert set(lines[0]) == {
        "canonical_action_id", "at", "agent", "mission_id", "wp_id", "reason", "invocation_id", "phase"
    }


def test_invocation_record_round_trips_through_the_file(repo):
    record = start_invocation(repo, "implementer", "implement", mission_id="M1", model_id="m")
    line = (repo / "kitty-ops" / f"{record['invocation_id']}.jsonl").read_bytes()
    assert InvocationRecord.model_validate_json(line).model_dump(mode="json", exclude_none=True) == record
