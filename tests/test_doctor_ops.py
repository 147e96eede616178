"""`kitty-ops doctor ops` and the library functions behind it, in real repositories."""
from __future__ import annotations

import json
import subprocess

from click.testing import CliRunner

from kitty_ops.cli import cli
from kitty_ops.doctor import ops as doctor_ops
from kitty_ops.doctor.ops import (
    close_stale,
    doctor_report,
    find_pending,
    list_orphan_ops,
)
from kitty_ops.lifecycle.executor import complete_invocation, start_invocation

from .conftest import git, hand_written_op, open_op, record

ENTRY_KEYS = {"invocation_id", "path", "profile_id", "action", "started_at", "age_hours"}


def doctor(*args: str):
    return CliRunner().invoke(cli, ["doctor", "ops", *args])


def test_orphans_are_records_without_completed_and_never_the_other_files(committed_repo):
    orphan = open_op(committed_repo, mission_id="M1")
    done = start_invocation(committed_repo, "p", "a", mission_id="M1")["invocation_id"]
    complete_invocation(committed_repo, done)
    (committed_repo / "kitty-ops" / "propagation-errors.jsonl").write_text('{"invocation_id": "x"}\n')
    from kitty_ops.store import index

    index.rebuild(committed_repo)  # `start` leaves alone an index that is behind the records
    assert (committed_repo / "kitty-ops" / "ops-index.jsonl").exists()
    assert (committed_repo / "kitty-ops" / "lifecycle.jsonl").exists()
    assert list_orphan_ops(committed_repo) == [record(committed_repo, orphan)]


def test_pending_is_completed_but_not_committed(committed_repo):
    committed = open_op(committed_repo)
    complete_invocation(committed_repo, committed)
    pending = open_op(committed_repo)
    complete_invocation(committed_repo, pending, commit=False)
    open_op(committed_repo)
    assert [entry["invocation_id"] for entry in find_pending(committed_repo)] == [pending]


def test_a_committed_record_with_new_lines_is_pending_again(committed_repo):
    op_id = open_op(committed_repo)
    complete_invocation(committed_repo, op_id)
    assert find_pending(committed_repo) == []
    with record(committed_repo, op_id).open("a") as handle:
        link = {"event": "commit_link", "invocation_id": op_id, "at": "2026-11-24T00:00:00+00:00", "sha": "abc"}
        handle.write(json.dumps(link) + "\n")
    assert [entry["invocation_id"] for entry in find_pending(committed_repo)] == [op_id]


def test_invalid_records_are_listed_with_the_reason(committed_repo):
    op_id = open_op(committed_repo)
    record(committed_repo, op_id).write_text("garbage\n")
    report = doctor_report(committed_repo)
    assert report["invalid"] == [{"path": f"kitty-ops/{op_id}.jsonl", "error": "line 1: not valid JSON"}]
    assert report["orphans"] == []


def test_json_shape_and_exit_code_when_problems_exist(committed_repo):
    orphan = open_op(committed_repo, hours_ago=30, profile_id="reviewer", action="review")
    pending = open_op(committed_repo)
    complete_invocation(committed_repo, pending, commit=False)
    bad = open_op(committed_repo)
    record(committed_repo, bad).write_text('{"event": "started"')
    result = doctor("--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert set(report) == {"in_progress", "orphans", "pending", "invalid", "stale_locks"}
    [orphan_entry] = report["orphans"]
    assert set(orphan_entry) >= ENTRY_KEYS
    assert (orphan_entry["invocation_id"], orphan_entry["profile_id"], orphan_entry["action"]) == (
        orphan,
        "reviewer",
        "review",
    )
    assert 29.9 < orphan_entry["age_hours"] < 30.1 and orphan_entry["stale"] is True
    [pending_entry] = report["pending"]
    assert set(pending_entry) >= ENTRY_KEYS and pending_entry["invocation_id"] == pending
    assert report["invalid"] == [{"path": f"kitty-ops/{bad}.jsonl", "error": "line 1: torn last line"}]


def test_human_output_is_a_table_with_the_next_command_of_each_op(committed_repo):
    stale = open_op(committed_repo, hours_ago=30, profile_id="reviewer", action="review")
    fresh = open_op(committed_repo, hours_ago=0.5, profile_id="architect-alphonso", action="specify")
    pending = open_op(committed_repo)
    complete_invocation(committed_repo, pending, commit=False)
    result = doctor()
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[:4] == [
        "Orphans (started, never completed): 2",
        "  ID                             AGE  PROFILE             ACTION   OWNER    STATE     NEXT",
        f"  {stale}    30 h  reviewer            review   unknown  stale     "
        f"kitty-ops complete {stale} --outcome abandoned",
        f"  {fresh}  30 min  architect-alphonso  specify  unknown  running?  "
        f"kitty-ops complete {fresh} --outcome abandoned",
    ]
    assert lines[4] == "  close every stale one: kitty-ops doctor ops --close-stale --threshold-hours 24"
    assert lines[5] == "Pending (completed, not committed): 1"
    cells = lines[7].split()  # its age (`<1 min`, two words) is left out: it depends on how fast the test runs
    assert cells[:1] + cells[3:] == [pending, "implementer", "implement", "kitty-ops", "commit", pending]
    assert lines[8] == "  commit them all: kitty-ops commit --pending"


def test_no_sweep_is_suggested_when_no_orphan_is_stale(committed_repo):
    open_op(committed_repo, hours_ago=1)
    result = doctor("--threshold-hours", "2")
    assert result.exit_code == 1
    assert "running?" in result.stdout and "--close-stale" not in result.stdout
    assert "stale" in doctor("--threshold-hours", "0.5").stdout.split()


def test_invalid_records_are_printed_with_the_reason(committed_repo):
    op_id = open_op(committed_repo)
    record(committed_repo, op_id).write_text("garbage\n")
    result = doctor()
    assert result.exit_code == 1
    assert result.stdout.splitlines()[:2] == [
        "Invalid records: 1",
        f"  kitty-ops/{op_id}.jsonl: line 1: not valid JSON",
    ]


def test_clean_repositories_exit_zero(corpus_repo):
    result = doctor()
    assert result.exit_code == 0
    assert result.stdout == "All Op records are complete, committed and valid.\n"
    assert json.loads(doctor("--json").stdout) == {"in_progress": [], "orphans": [], "pending": [], "invalid": [],
                                                  "stale_locks": []}


def test_close_stale_closes_and_commits_stale_orphans_and_leaves_fresh_ones(committed_repo):
    stale = open_op(committed_repo, hours_ago=48, profile_id="reviewer", action="review")
    unreadable = hand_written_op(committed_repo, started_at="not a time")  # invalid: left for a person
    fresh = open_op(committed_repo, hours_ago=1)
    result = doctor("--close-stale", "--threshold-hours", "24")
    assert result.exit_code == 1  # the stale one is closed, a fresh one is in progress, the invalid one remains
    assert f"closed: {stale} reviewer: review, open 2 d, committed " in result.stdout
    assert unreadable not in result.stdout.split("Orphans")[0]
    assert f"kitty-ops/{unreadable}.jsonl: line 1: started_at: must be an ISO-8601" in result.stdout
    subjects = git(committed_repo, "log", "--format=%s", "--grep=^op(").splitlines()
    assert subjects == [f"op(reviewer): review [{stale[:8]}]"]
    closing = json.loads(record(committed_repo, stale).read_text().splitlines()[1])
    assert (closing["outcome"], closing["closed_by"]) == ("abandoned", "doctor_sweep")
    assert [entry["invocation_id"] for entry in doctor_report(committed_repo)["orphans"]] == [fresh]


def test_close_stale_with_threshold_zero_closes_everything_open(committed_repo):
    open_op(committed_repo)
    result = subprocess.run(["kitty-ops", "doctor", "ops", "--close-stale", "--threshold-hours", "0"],
                            cwd=committed_repo, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "All Op records are complete, committed and valid."


def test_one_bad_file_never_stops_the_sweep(committed_repo, tmp_path):
    linked = open_op(committed_repo, hours_ago=30)  # the older id: the sweep meets it first
    healthy = open_op(committed_repo, hours_ago=30)
    target = tmp_path / "elsewhere.jsonl"
    record(committed_repo, linked).rename(target)
    record(committed_repo, linked).symlink_to(target)  # kitty-ops never writes through a link
    before = target.read_bytes()
    result = doctor("--close-stale")
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"closed: {healthy} implementer: implement, open 30 h, committed ")
    assert git(committed_repo, "log", "-1", "--format=%s") == f"op(implementer): implement [{healthy[:8]}]"
    assert result.exit_code == 1  # the linked record is never read: it is listed as invalid
    assert f"  kitty-ops/{linked}.jsonl: is a symbolic link; kitty-ops does not read or write through links" in lines
    assert doctor_report(committed_repo)["orphans"] == []
    assert target.read_bytes() == before


def test_a_concurrent_close_is_reported_as_already_closed(committed_repo, monkeypatch):
    op_id = open_op(committed_repo, hours_ago=30, profile_id="reviewer", action="review")
    real_report = doctor_ops.doctor_report
    calls = []

    def report_then_another_process_closes(*args, **kwargs):
        report = real_report(*args, **kwargs)
        if not calls:  # the sweep's listing: another process completes the Op right after it
            done = subprocess.run(
                ["kitty-ops", "complete", op_id, "--repo", str(committed_repo)], capture_output=True, text=True
            )
            assert done.returncode == 0, done.stderr
        calls.append(report)
        return report

    monkeypatch.setattr(doctor_ops, "doctor_report", report_then_another_process_closes)
    result = doctor("--close-stale")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        f"already closed: {op_id} reviewer: review, open 30 h (completed by another process meanwhile)"
    )
    events = [json.loads(line) for line in record(committed_repo, op_id).read_text().splitlines()]
    assert [(event["event"], event.get("closed_by")) for event in events] == [
        ("started", None),
        ("completed", "agent"),
    ]
    assert git(committed_repo, "log", "-1", "--format=%s") == f"op(reviewer): review [{op_id[:8]}]"


def test_doctor_outside_git_lists_orphans(tmp_path):
    op_id = open_op(tmp_path)
    result = CliRunner().invoke(cli, ["doctor", "ops", "--json", "--repo", str(tmp_path)])
    assert result.exit_code == 1
    assert [entry["invocation_id"] for entry in json.loads(result.stdout)["orphans"]] == [op_id]


def test_bad_usage_is_one_line_and_exit_two(committed_repo, tmp_path):
    for args, fragment in [
        (["--threshold-hours", "-1"], "Invalid value for '--threshold-hours'"),
        (["--repo", str(tmp_path / "missing")], f"--repo {tmp_path / 'missing'}: no such directory"),
    ]:
        result = subprocess.run(
            ["kitty-ops", "doctor", "ops", *args], cwd=committed_repo, capture_output=True, text=True
        )
        assert result.returncode == 2
        assert result.stdout == ""
        [line] = result.stderr.splitlines()
        assert line.startswith("kitty-ops: error: ") and fragment in line


def test_close_stale_returns_one_result_per_stale_orphan(committed_repo):
    stale = open_op(committed_repo, hours_ago=30)
    open_op(committed_repo, hours_ago=1)
    [result] = close_stale(committed_repo, threshold_hours=24)
    assert (result["invocation_id"], result["result"], result["stale_because"]) == (stale, "closed", "open 30 h")
    assert result["commit"] == git(committed_repo, "rev-parse", "HEAD") and result["detail"] is None
    assert close_stale(committed_repo, threshold_hours=24) == []


def test_the_configured_threshold_is_the_doctors_and_the_sweeps(committed_repo):
    """One threshold: `git config kitty-ops.maxAgeHours` decides what doctor, the sweep and the hook call stale."""
    from kitty_ops.hooks.orphans import main as orphans_hook

    op_id = open_op(committed_repo, hours_ago=20)
    assert "No stale orphans to close." in doctor("--close-stale").stdout  # 20h < the default 24h
    git(committed_repo, "config", "kitty-ops.maxAgeHours", "12")
    assert orphans_hook([]) == 1
    assert "  close every stale one: kitty-ops doctor ops --close-stale --threshold-hours 12" in doctor().stdout
    # the flag wins
    assert doctor("--close-stale", "--threshold-hours", "48").stdout.startswith("No stale orphans to close.")
    result = doctor("--close-stale")
    assert f"closed: {op_id} implementer: implement, open 20 h" in result.stdout
    assert orphans_hook([]) == 0


def test_close_stale_called_directly_reads_the_configured_threshold(committed_repo):
    open_op(committed_repo, hours_ago=20)
    assert close_stale(committed_repo) == []
    git(committed_repo, "config", "kitty-ops.maxAgeHours", "12")
    assert [entry["result"] for entry in close_stale(committed_repo)] == ["closed"]


def test_a_bad_configured_threshold_is_bad_input(committed_repo):
    git(committed_repo, "config", "kitty-ops.maxAgeHours", "-3")
    result = doctor()
    assert result.exit_code == 2
    assert result.stderr == "kitty-ops: error: git config kitty-ops.maxAgeHours: '-3' is not a number of hours (>= 0)\n"
