"""The Op record models and the tolerant reader."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from pydantic import ValidationError

from kitty_ops.format.ulid import is_ulid, new_ulid
from kitty_ops.record import (
    MINIMAL_VIABLE_TRAIL_POLICY,
    CompletedEvent,
    InvocationRecord,
    parse_record,
)

OP_ID = "01KTK4DFAS04MCX5GP1W2R6NEP"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)
STARTED = (
    '{"event": "started", "invocation_id": "01KTK4DFAS04MCX5GP1W2R6NEP", "profile_id": "architect",'
    ' "action": "specify", "started_at": "2026-06-08T08:08:36.010145+00:00"}\n'
)
LEGACY_COMPLETED = (
    '{"event": "completed", "invocation_id": "01KTK4DFAS04MCX5GP1W2R6NEP", "profile_id": "architect",'
    ' "action": "", "request_text": "", "governance_context_hash": "", "governance_context_available": true,'
    ' "actor": "unknown", "router_confidence": null, "started_at": "",'
    ' "completed_at": "2026-06-08T08:08:36.010902+00:00", "outcome": "done", "evidence_ref": null,'
    ' "mode_of_work": null, "mission_id": null, "wp_id": null}\n'
)
V2_COMPLETED = (
    '{"event": "completed", "invocation_id": "01KTK4DFAS04MCX5GP1W2R6NEP",'
    ' "completed_at": "2026-06-08T08:10:00+00:00", "outcome": "failed", "closed_by": "agent"}\n'
)


def started(**extra) -> InvocationRecord:
    return InvocationRecord(
        invocation_id=OP_ID, profile_id="implementer", action="implement", started_at=NOW, **extra
    )


def test_new_fields_mission_and_wp_default_to_none():
    record = started()
    assert record.mission_id is None and record.wp_id is None
    assert started(mission_id="M1", wp_id="WP01").wp_id == "WP01"


def test_none_fields_are_left_out_of_the_json_line():
    line = json.loads(started().to_line())
    assert "mission_id" not in line and "wp_id" not in line and "request_text" not in line
    assert json.loads(started(mission_id="M1").to_line())["mission_id"] == "M1"


def test_the_line_is_one_line_with_utc_timestamps_as_written_by_spec_kitty():
    line = started(request_text="two\nlines").to_line()
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line)["started_at"] == "2026-11-24T12:00:00+00:00"


def test_models_are_frozen():
    with pytest.raises(ValidationError):
        started().action = "other"


@pytest.mark.parametrize(
    "action",
    ["two\nlines", "tab\there", "-x", "", "has space", "op(x)", "a" * 65, "bell\x07", "nul\x00"],
)
def test_hostile_actions_are_refused(action):
    with pytest.raises(ValidationError):
        InvocationRecord(invocation_id=OP_ID, profile_id="p", action=action, started_at=NOW)


@pytest.mark.parametrize("op_id", ["../../etc/passwd", OP_ID.lower(), OP_ID + "0", "8" + OP_ID[1:], "I" * 26])
def test_ids_that_are_not_exact_ulids_are_refused(op_id):
    assert not is_ulid(op_id)
    with pytest.raises(ValidationError):
        InvocationRecord(invocation_id=op_id, profile_id="p", action="a", started_at=NOW)


def test_new_ulids_are_valid_unique_and_time_ordered():
    ids = [new_ulid() for _ in range(200)]
    assert all(is_ulid(op_id) for op_id in ids)
    assert len(set(ids)) == 200
    assert new_ulid()[:10] >= ids[0][:10]


def test_legacy_completed_line_parses_with_started_fields_from_the_started_line():
    record = parse_record((STARTED + LEGACY_COMPLETED).encode(), OP_ID)
    assert record.is_valid, record.problems
    assert record.started.action == "specify"
    assert record.completed.outcome == "done"
    assert record.completed.is_legacy


def test_v2_completed_line_parses():
    record = parse_record((STARTED + V2_COMPLETED).encode(), OP_ID)
    assert record.is_valid
    assert record.completed.closed_by == "agent" and record.completed.outcome == "failed"


def test_unknown_event_types_are_kept_and_ignored():
    unknown = '{"event": "future_thing", "invocation_id": "' + OP_ID + '", "x": 1}\n'
    record = parse_record((STARTED + V2_COMPLETED + unknown).encode(), OP_ID)
    assert record.is_valid
    assert [event.event for event in record.unknown] == ["future_thing"]


@pytest.mark.parametrize(
    "tail, problem",
    [
        ("not json at all\n", "line 2: not valid JSON"),
        ('{"event": "completed", "invocation_id": "01KTK4', "line 2: torn last line"),
        ("[1, 2]\n", "line 2: not a JSON object"),
        ('{"event": "completed", "invocation_id": "' + OP_ID + '", "completed_at": "x", "outcome": "done"}\n',
         "line 2: completed_at"),
    ],
)
def test_garbage_is_reported_not_raised(tail, problem):
    record = parse_record((STARTED + tail).encode(), OP_ID)
    assert not record.is_valid
    assert any(p.startswith(problem) for p in record.problems), record.problems
    assert record.started.action == "specify"


def test_a_record_whose_ids_do_not_match_its_name_is_invalid():
    record = parse_record(STARTED.encode(), "01KTK4MF47RVY2WCXGFGX5AHT6")
    assert any("does not match the file name" in p for p in record.problems)


def test_completed_event_refuses_an_unknown_outcome():
    with pytest.raises(ValidationError):
        CompletedEvent(invocation_id=OP_ID, completed_at=NOW, outcome="maybe", closed_by="agent")


def test_trail_policy_storage_path():
    assert MINIMAL_VIABLE_TRAIL_POLICY.tier_1.storage_path == "kitty-ops/{invocation_id}.jsonl"


def test_legacy_completed_line_with_null_outcome_parses_and_v2_does_not():
    legacy = LEGACY_COMPLETED.replace('"outcome": "done"', '"outcome": null')
    record = parse_record((STARTED + legacy).encode(), OP_ID)
    assert record.is_valid, record.problems
    assert record.completed.outcome is None and record.completed.is_legacy
    v2 = V2_COMPLETED.replace('"outcome": "failed"', '"outcome": null')
    assert not parse_record((STARTED + v2).encode(), OP_ID).is_valid


def test_ulids_made_in_one_millisecond_still_sort_in_order():
    ids = [new_ulid() for _ in range(2000)]
    assert ids == sorted(ids)
