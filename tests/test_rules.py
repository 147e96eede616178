"""`kitty_ops.format.rules`: the one definition of a valid line and record, rule by rule,
and the writer refusing at write time what the reader would call invalid."""
from __future__ import annotations

import json
import math
import re
import subprocess
import sys

import pytest

from kitty_ops.errors import InvalidInput
from kitty_ops.format import events, rules
from kitty_ops.format.scan import scan_record
from kitty_ops.record import InvocationRecord, parse_record

OP_ID = "01KTK4DFAS04MCX5GP1W2R6NEP"
AT = "2026-11-24T00:00:00+00:00"


def started(**fields) -> dict:
    return {"event": "started", "invocation_id": OP_ID, "profile_id": "p", "action": "a", "started_at": AT, **fields}


def line(obj) -> bytes:
    return json.dumps(obj).encode()


def problems(*lines: bytes) -> list[str]:
    return scan_record(b"".join(raw + b"\n" for raw in lines), OP_ID).problems


@pytest.mark.parametrize(
    "token",
    ["x\n\nSigned-off-by: Mallory <m@example.com>", "a\u200bb", "a b", "tab\there", "-rf", "", "a" * 65,
     "op(x)", "x]", "caf\u00e9", "nul\x00", "bell\x07", "\u202eevil"],
)
def test_a_hostile_token_is_refused_by_reader_models_schema_and_writer(token):
    assert rules.token_problem(token)
    assert problems(line(started(profile_id=token)))  # the fast reader
    assert parse_record(line(started(action=token)) + b"\n", OP_ID).problems  # the models
    assert not re.search(rules.TOKEN_PATTERN, token) or re.search(rules.TOKEN_OUTSIDE_PATTERN, token)  # the schema
    with pytest.raises(InvalidInput, match=r"^profile_id: "):
        events.started_event(OP_ID, token, "a", AT)


@pytest.mark.parametrize("token", ["implementer", "python-pedro", "a" * 64, "a.b:c/d@e+f=g~h", "x-"])
def test_one_word_of_printable_ascii_is_a_token(token):
    assert rules.token_problem(token) is None
    assert re.search(rules.TOKEN_PATTERN, token) and not re.search(rules.TOKEN_OUTSIDE_PATTERN, token)
    assert InvocationRecord.model_validate(started(profile_id=token)).profile_id == token


def test_the_schema_pattern_is_the_token_rule(tmp_path):
    from jsonschema import Draft202012Validator

    schema = Draft202012Validator(InvocationRecord.model_json_schema())
    for token in ("a\u200bb", "x\n", "x\n\nSigned-off-by: M", "-x", "é"):
        assert not schema.is_valid(started(profile_id=token)), token
    assert schema.is_valid(started(profile_id="python-pedro"))


@pytest.mark.parametrize(
    "text, problem",
    [
        ("{not json", "not valid JSON"),
        ('{"event": "started", "profile_id": "a", "profile_id": "b"}', "not valid JSON: duplicate key 'profile_id'"),
        ('{"event": "x", "n": NaN}', "not valid JSON: NaN is not JSON"),
        ('{"event": "x", "n": -Infinity}', "not valid JSON: -Infinity is not JSON"),
        ('{"event": "x", "n": 1e999}', "not valid JSON: 1e999 is out of range for a JSON number"),
        ("[1, 2]", "not a JSON object"),
        ('{"no": "event"}', "no event type"),
        ('{"event": 3}', "no event type"),
        ("[" * 1000 + "]" * 1000, f"nested more than {rules.MAX_DEPTH} levels deep"),
        ('{"event": "x", "deep": ' + "[" * 40 + "]" * 40 + "}", f"nested more than {rules.MAX_DEPTH} levels deep"),
        (
            '{"event": "x", "deep": ' + "[" * 100_000 + "]" * 100_000 + "}",
            f"nested more than {rules.MAX_DEPTH} levels deep",
        ),
    ],
    ids=["garbage", "duplicate-key", "nan", "infinity", "overflow", "array", "no-event", "event-not-text",
         "deep-1000", "deep-40", "deep-100000"],
)
def test_a_line_that_is_not_strict_json_is_invalid(text, problem):
    assert problems(line(started()), text.encode()) == [f"line 2: {problem}"]


def test_brackets_inside_strings_are_not_nesting():
    assert problems(line(started(request_text="[" * 1000 + "{" * 1000))) == []


def test_a_line_over_the_size_bound_is_invalid_when_read():
    huge = line(started(request_text="x" * rules.MAX_LINE_BYTES))
    assert problems(huge) == [f"line 1: longer than {rules.MAX_LINE_BYTES} bytes"]


def test_a_line_over_the_size_bound_is_refused_at_write_time():
    with pytest.raises(InvalidInput) as caught:
        events.started_event(OP_ID, "p", "a", AT, request_text="x" * rules.MAX_LINE_BYTES)
    assert "\n" not in str(caught.value)
    assert f"a line may be at most {rules.MAX_LINE_BYTES} bytes" in str(caught.value)
    assert events.started_event(OP_ID, "p", "a", AT, request_text="x" * (rules.MAX_LINE_BYTES - 300))


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, True, [0.5]])
def test_a_non_finite_or_non_number_confidence_is_refused_at_write_time(value):
    with pytest.raises(InvalidInput, match=r"^router_confidence: must be a string or a finite number$"):
        events.started_event(OP_ID, "p", "a", AT, router_confidence=value)


def test_to_line_refuses_nan_anywhere():
    with pytest.raises(InvalidInput, match="NaN or infinite"):
        events.to_line({"event": "x", "invocation_id": OP_ID, "n": math.nan})


@pytest.mark.parametrize(
    "value, problem",
    [
        ("2026-11-24T00:00:00", "must be an ISO-8601 date and time with a UTC offset"),  # naive
        ("2026-11-24", "must be an ISO-8601 date and time with a UTC offset"),
        ("yesterday", "must be an ISO-8601 date and time with a UTC offset"),
        (1700000000, "must be an ISO-8601 date and time with a UTC offset"),
    ],
)
def test_timestamps_are_aware_iso_8601(value, problem):
    assert problems(line(started(started_at=value))) == [f"line 1: started_at: {problem}"]


@pytest.mark.parametrize("value", [AT, "2026-11-24T00:00:00Z", "2026-11-24T02:00:00.123456+02:00"])
def test_aware_timestamps_are_accepted(value):
    assert problems(line(started(started_at=value))) == []
    assert rules.parse_timestamp(value).tzinfo is not None


@pytest.mark.parametrize(
    "field, value, problem",
    [
        ("governance_context_available", "true", "must be true or false"),
        ("router_confidence", {"x": 1}, "must be a string or a finite number"),
        ("request_text", 42, "must be a string"),
        ("request_text", "nul \x00 inside", "must not contain a NUL character"),
        ("actor", "\ud800", "must be valid Unicode (no lone surrogates)"),
        ("invocation_id", OP_ID.lower(), "must be an Op id (a 26-character ULID)"),
        ("profile_id", None, "must not be null"),
    ],
)
def test_the_types_of_started_fields(field, value, problem):
    assert problems(line(started(**{field: value})))[0] == f"line 1: {field}: {problem}"


def test_optional_fields_may_be_null():
    assert problems(line(started(request_text=None, router_confidence=None, mission_id=None))) == []


def test_outcome_and_closed_by_are_choices():
    base = {"event": "completed", "invocation_id": OP_ID, "completed_at": AT}
    assert problems(line(started()), line({**base, "outcome": "won", "closed_by": "agent"})) == [
        "line 2: outcome: must be one of done, failed, abandoned"
    ]
    assert problems(line(started()), line({**base, "outcome": "done", "closed_by": "me"})) == [
        "line 2: closed_by: must be one of agent, doctor_sweep"
    ]
    assert problems(line(started()), line({**base, "outcome": None})) == []  # legacy: no closed_by
    assert problems(line(started()), line({**base, "outcome": None, "closed_by": "agent"})) == [
        "line 2: outcome: must not be null"
    ]


def test_event_order():
    done = line(
        {"event": "completed", "invocation_id": OP_ID, "completed_at": AT, "outcome": "done", "closed_by": "agent"}
    )
    assert problems(done, line(started())) == [
        "line 1: completed event before the started event", "line 2: started is not the first event"
    ]
    assert problems(line(started()), done, done) == ["line 3: a second completed event"]
    assert problems(line(started()), line(started())) == ["line 2: started is not the first event"]


def test_status_orphan_pending_and_stale_are_decided_once():
    open_scan = scan_record(line(started()) + b"\n", OP_ID)
    assert (rules.op_status(open_scan), rules.is_orphan(open_scan), rules.is_committable(open_scan)) == (
        "open", True, False
    )
    bad = scan_record(line(started(profile_id="a b")) + b"\n", OP_ID)
    assert rules.op_status(bad) == "invalid" and not rules.is_committable(bad)
    assert rules.is_stale(None) and rules.is_stale(24.1) and not rules.is_stale(23.9)
    assert rules.is_stale(2.0, threshold_hours=1)


def test_a_hostile_started_field_is_never_shown_as_the_profile():
    scan = scan_record(line(started(profile_id="x\n\nSigned-off-by: M")) + b"\n", OP_ID)
    assert scan.field("profile_id") == "?" and scan.field("action") == "a"


def test_the_hook_path_imports_only_the_light_standard_library():
    code = (
        "import sys, kitty_ops.format.rules, kitty_ops.format.scan, kitty_ops.format.safefs,"
        " kitty_ops.hooks.orphans, kitty_ops.hooks.validation;"
        "heavy = {'pydantic', 'click', 'subprocess', 'argparse'} & set(sys.modules); print(sorted(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_a_huge_line_in_a_file_is_skipped_while_reading_and_the_rest_is_read(tmp_path):
    from kitty_ops.format.scan import read_scan

    path = tmp_path / f"{OP_ID}.jsonl"
    done = {"event": "completed", "invocation_id": OP_ID, "completed_at": AT, "outcome": "done", "closed_by": "agent"}
    with path.open("wb") as handle:
        handle.write(line(started()) + b"\n")
        handle.write(b'{"event": "x", "v": "' + b"y" * (2 * rules.MAX_LINE_BYTES) + b'"}\n')
        handle.write(line(done) + b"\n")
    scan = read_scan(path, OP_ID)
    assert scan.problems == [f"line 2: longer than {rules.MAX_LINE_BYTES} bytes"]
    assert scan.completed == done
