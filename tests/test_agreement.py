"""The fast reader (`kitty_ops.format.scan`) and the pydantic models agree on every line:
the compatibility corpus, and generated hostile lines. The JSON Schema agrees with
the models on tokens. Bounded: a few seconds in all."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from kitty_ops.format import rules
from kitty_ops.format.scan import scan_record, split_lines
from kitty_ops.record import InvocationRecord, parse_event

from .conftest import COMPAT_CORPUS

OP_ID = "01KTK4DFAS04MCX5GP1W2R6NEP"
AT = "2026-11-24T00:00:00+00:00"
TEMPLATES = {
    "started": {"event": "started", "invocation_id": OP_ID, "profile_id": "p", "action": "a", "started_at": AT,
                "request_text": "r", "governance_context_available": True, "router_confidence": "0.5"},
    "completed": {"event": "completed", "invocation_id": OP_ID, "completed_at": AT, "outcome": "done",
                  "closed_by": "agent", "evidence_ref": "e"},
    "artifact_link": {"event": "artifact_link", "invocation_id": OP_ID, "at": AT, "kind": "k", "ref": "r"},
    "commit_link": {"event": "commit_link", "invocation_id": OP_ID, "at": AT, "sha": "s"},
    "unknown": {"event": "heartbeat", "invocation_id": OP_ID},
}
BOUNDED = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def scan_says_valid(raw: bytes) -> bool:
    """The fast reader's verdict on one line, apart from its place in a record."""
    scan = scan_record(raw + b"\n")
    return bool(scan.events) and not scan.bad_lines


def models_say_valid(raw: bytes) -> bool:
    """The models' verdict: the line decoded as strict JSON, then validated by pydantic."""
    obj, _ = rules.decode_line(raw)
    if obj is None:
        return False
    try:
        parse_event(obj)
    except ValidationError:
        return False
    return True


def assert_agree(raw: bytes) -> None:
    assert scan_says_valid(raw) == models_say_valid(raw), raw[:300]


CORPUS_LINES = [
    raw for path in sorted(COMPAT_CORPUS.glob("*.jsonl")) for raw in path.read_bytes().splitlines() if raw.strip()
]


def test_every_corpus_line_is_valid_to_both():
    records = [path for path in COMPAT_CORPUS.glob("01*.jsonl")]
    assert len(records) == 344
    for path in records:
        assert scan_record(path.read_bytes(), path.name[:-6]).problems == [], path.name
    for raw in CORPUS_LINES:
        if b'"event"' in raw:  # lifecycle.jsonl lines are not events
            assert scan_says_valid(raw) and models_say_valid(raw), raw[:200]


hostile_text = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=80)
hostile_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.integers(min_value=10**310, max_value=10**311),
    st.floats(allow_nan=True, allow_infinity=True), hostile_text,
    st.sampled_from([AT, "2026-11-24T00:00:00", "2026-11-24T00:00:00Z", "2026-11-24", "1700000000", OP_ID,
                     OP_ID.lower(), "done", "failed", "abandoned", "agent", "doctor_sweep", "a\u200bb", "-x",
                     "x\n\nSigned-off-by: M", "\x00", "\ud800", "", " ", "true"]),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


TRICKY = [None, True, False, 0, 1, -1, 10**400, 1.5, float("nan"), float("inf"), "", "x", "\x00", "\ud800", "a b",
          "2026-11-24T00:00:00", "2026-11-24", "2026-11-24T00:00:00Z", "2026-11-24 00:00:00+00:00", 1700000000,
          "1700000000", [], {}, "done", "agent", "doctor_sweep", "true", "1", OP_ID, OP_ID.lower(), "-x", "a\u200bb",
          "\u00e9", "<delete>"]
FIELDS = {kind: sorted({*template, *rules.EVENT_FIELDS.get(kind, {}), "event"}) for kind, template in TEMPLATES.items()}


def changed(kind: str, changes) -> bytes:
    event = dict(TEMPLATES[kind])
    for name, value in changes:
        if value == "<delete>":
            event.pop(name, None)
        else:
            event[name] = value
    return json.dumps(event).encode()  # NaN and Infinity come out bare, as a careless writer would


def test_every_field_with_every_tricky_value():
    for kind, names in FIELDS.items():
        for name in names:
            for value in TRICKY:
                assert_agree(changed(kind, [(name, value)]))


@BOUNDED
@given(
    kind_and_changes=st.sampled_from(sorted(TEMPLATES)).flatmap(
        lambda kind: st.tuples(
            st.just(kind),
            st.lists(st.tuples(st.sampled_from(FIELDS[kind]), st.one_of(st.sampled_from(TRICKY), hostile_values)),
                     min_size=1, max_size=3),
        )
    )
)
@example(kind_and_changes=("artifact_link", [("event", ""), ("redacted", True)]))  # an unknown event's extra field
def test_events_with_hostile_fields(kind_and_changes):
    assert_agree(changed(*kind_and_changes))


@BOUNDED
@given(st.binary(max_size=300).map(lambda raw: raw.replace(b"\n", b" ")))
def test_random_bytes(raw):
    assert_agree(raw)


@settings(max_examples=30, deadline=None)
@given(depth=st.integers(min_value=1, max_value=3000), opener=st.sampled_from([b"[", b"{\"k\":"]))
def test_deep_nesting(depth, opener):
    closer = b"]" if opener == b"[" else b"}"
    raw = b'{"event": "x", "v": ' + opener * depth + b"0" + closer * depth + b"}"
    assert_agree(raw)
    assert scan_says_valid(raw) == (depth < rules.MAX_DEPTH)


@settings(max_examples=8, deadline=None)
@given(extra=st.integers(min_value=-64, max_value=64), kind=st.sampled_from(["started", "unknown"]))
def test_huge_strings_around_the_size_bound(extra, kind):
    event = dict(TEMPLATES[kind])
    base = len(json.dumps({**event, "request_text": ""}))
    event["request_text"] = "x" * (rules.MAX_LINE_BYTES - base + extra)
    raw = json.dumps(event).encode()
    assert_agree(raw)
    assert scan_says_valid(raw) == (len(raw) <= rules.MAX_LINE_BYTES)


@BOUNDED
@given(kind=st.sampled_from(sorted(TEMPLATES)), key=st.sampled_from(["event", "invocation_id", "profile_id", "x"]),
       value=st.sampled_from(['"a"', "1", "null", "NaN", "Infinity", "-Infinity", "1e400"]))
def test_duplicate_keys_and_non_finite_numbers(kind, key, value):
    body = json.dumps(TEMPLATES[kind])[:-1]
    raw = f'{body}, "{key}": {value}}}'.encode()
    assert_agree(raw)
    assert not scan_says_valid(raw) or (
        key not in TEMPLATES[kind] and value not in ("NaN", "Infinity", "-Infinity", "1e400")
    )


@pytest.fixture(scope="module")
def started_schema():
    from jsonschema import Draft202012Validator

    return Draft202012Validator(InvocationRecord.model_json_schema())


@BOUNDED
@given(token=st.one_of(hostile_text, st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=70)))
def test_the_schema_and_the_models_agree_on_tokens(started_schema, token):
    event = {**TEMPLATES["started"], "profile_id": token}
    assert started_schema.is_valid(event) == models_say_valid(json.dumps(event).encode()) == rules.is_token(token)


@BOUNDED
@given(
    data=st.binary(max_size=200).map(lambda raw: raw.replace(b"a", b"\n")),
    size=st.integers(min_value=1, max_value=50),
)
def test_reading_in_chunks_sees_the_lines_reading_whole_sees(data, size):
    chunks = [data[start:start + size] for start in range(0, len(data), size)]
    assert list(split_lines(chunks)) == list(split_lines([data]))
    whole = data.split(b"\n")
    assert [raw for _, raw, _ in split_lines([data])] == (whole if whole[-1] else whole[:-1])
