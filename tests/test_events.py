"""The light event builders write exactly what the pydantic models describe."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from pydantic import ValidationError

from kitty_ops.errors import InvalidInput
from kitty_ops.format import events
from kitty_ops.record import EVENT_MODELS, parse_event

OP_ID = "01KTK4DFAS04MCX5GP1W2R6NEP"
AT = datetime(2026, 11, 24, 12, 30, 1, 123456, tzinfo=timezone.utc).isoformat()

BUILT = [
    events.started_event(OP_ID, "implementer", "implement", AT),
    events.started_event(
        OP_ID, "architect-alphonso", "specify", AT, request_text="line one\nline two", actor="claude",
        mode_of_work="task_execution", governance_context_hash="257c5688abaca9ae",
        governance_context_available=True, router_confidence="canonical_verb", model_id="m",
        mission_id="01KWVD6Y5CC8ARAKD3JZAJEXBX", wp_id="WP01",
    ),
    events.started_event(OP_ID, "p", "a", AT, router_confidence=0.75, governance_context_available=False),
    events.completed_event(OP_ID, AT, "done", "agent"),
    events.completed_event(OP_ID, AT, "abandoned", "doctor_sweep", evidence_ref="swept"),
    events.artifact_link(OP_ID, AT, "src/app.py"),
    events.commit_link(OP_ID, AT, "0123abc"),
]


@pytest.mark.parametrize("event", BUILT, ids=lambda event: event["event"])
def test_each_built_event_is_what_its_model_writes(event):
    model = parse_event(event)
    assert type(model) is EVENT_MODELS[event["event"]]
    assert events.to_line(event) == model.to_line()
    assert json.loads(events.to_line(event)) == event


@pytest.mark.parametrize(
    "fields",
    [
        {"profile_id": "p", "action": "two\nlines"},
        {"profile_id": "-p", "action": "a"},
        {"profile_id": "p", "action": "x" * 65},
        {"profile_id": "p(x)", "action": "a"},
        {"profile_id": "p", "action": "a", "router_confidence": [1]},
        {"profile_id": 3, "action": "a"},
    ],
)
def test_what_the_builder_refuses_the_model_refuses_too(fields):
    with pytest.raises(InvalidInput):
        events.started_event(OP_ID, started_at=AT, **fields)
    with pytest.raises(ValidationError):
        parse_event({"event": "started", "invocation_id": OP_ID, "started_at": AT, **fields})


@pytest.mark.parametrize(
    "build",
    [
        lambda: events.completed_event(OP_ID, AT, "maybe", "agent"),
        lambda: events.completed_event(OP_ID, AT, "done", "someone"),
        lambda: events.completed_event("../x", AT, "done", "agent"),
        lambda: events.artifact_link(OP_ID.lower(), AT, "a"),
        lambda: events.started_event(OP_ID, "p", "a", AT, governance_context_available="yes"),
    ],
)
def test_the_builder_is_strict_about_what_it_writes(build):
    with pytest.raises(InvalidInput):
        build()


def test_unknown_started_fields_are_a_programming_error():
    with pytest.raises(TypeError):
        events.started_event(OP_ID, "p", "a", AT, colour="blue")
