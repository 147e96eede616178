"""`kitty_ops.format.jsontext` reads and writes exactly what the `json` package does."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kitty_ops.format import jsontext, rules

VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


def _same(a: object, b: object) -> bool:
    return json.dumps(a, allow_nan=True) == json.dumps(b, allow_nan=True)  # NaN equals NaN here


@settings(max_examples=300, deadline=None)
@given(VALUES, st.booleans(), st.booleans(), st.sampled_from([(", ", ": "), (",", ":")]))
def test_dumps_is_json_dumps(value, allow_nan, sort_keys, separators):
    try:
        expected: object = json.dumps(value, allow_nan=allow_nan, sort_keys=sort_keys, separators=separators)
    except (ValueError, TypeError) as exc:
        expected = type(exc)
    try:
        got: object = jsontext.dumps(value, allow_nan=allow_nan, sort_keys=sort_keys, separators=separators)
    except (ValueError, TypeError) as exc:
        got = type(exc)
    assert got == expected


def _outcome(load, text):
    try:
        return "value", load(text)
    except ValueError as exc:  # JSONDecodeError and the rules' LineError
        return "error", str(exc)
    except RecursionError:
        return "error", "recursion"


PADDING = st.sampled_from(["", " ", "\n", " x", "\ufeff"])
TEXTS = (st.builds(json.dumps, VALUES) | st.text(alphabet=' \t\n\r{}[]":,.0123456789eE+-truefalsnNaIiy\\\ufeffé')
         | st.builds(lambda v, pad: pad + json.dumps(v) + pad, VALUES, PADDING))


@settings(max_examples=500, deadline=None)
@given(TEXTS, st.booleans())
def test_loads_is_json_loads_with_the_rules_hooks(text, as_bytes):
    raw = text.encode("utf-8", "surrogatepass") if as_bytes else text
    hooks = {"object_pairs_hook": rules._object, "parse_constant": rules._constant, "parse_float": rules._float}
    ours, theirs = _outcome(lambda t: jsontext.loads(t, **hooks), raw), _outcome(lambda t: json.loads(t, **hooks), raw)
    assert ours[0] == theirs[0]
    assert ours[1] == theirs[1] if ours[0] == "error" else _same(ours[1], theirs[1])


@pytest.mark.parametrize("raw", [b"\xff\xfe{\x00}\x00", b'{"a": 1}'.decode().encode("utf-16-be"), b"\xef\xbb\xbf{}",
                                 b'{"a": NaN}', b"[1, 2] [3]", b""])
def test_unusual_text_gets_the_package_s_answer(raw):
    ours, theirs = _outcome(jsontext.loads, raw), _outcome(json.loads, raw)
    assert ours[0] == theirs[0]
    assert ours[1] == theirs[1] if ours[0] == "error" else _same(ours[1], theirs[1])
