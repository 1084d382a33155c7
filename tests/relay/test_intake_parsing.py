"""A webhook body is read to the same value, or refused with the same sentence, as before.

Issue 20 reads bodies with orjson first (the stdlib decoder was ~8% of intake's event loop)
and falls back to the stdlib for whatever orjson refuses or would read differently (integers
past 64 bits). The oracle here is the stdlib reading relay.limits.parse_json did before.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from relay.errors import BadRequest
from relay.limits import depth_over, parse_json

MAX_DEPTH = 32


def _no_constants(name: str) -> Any:
    raise ValueError(name)


def stdlib_reading(body: bytes) -> Any:
    """What parse_json answered before orjson: a value, or BadRequest's sentence."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "the body is not valid UTF-8"
    try:
        value = json.loads(text, parse_constant=_no_constants)
    except RecursionError:
        return f"the JSON is nested more than {MAX_DEPTH} levels deep"
    except ValueError:
        return "the body is not valid JSON"
    if depth_over(value, MAX_DEPTH):
        return f"the JSON is nested more than {MAX_DEPTH} levels deep"
    try:
        json.dumps(value, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return "the JSON contains an unpaired surrogate escape (not valid Unicode)"
    return ("value", value)


def reading(body: bytes) -> Any:
    try:
        return ("value", parse_json(body, max_depth=MAX_DEPTH))
    except BadRequest as exc:
        return exc.message


def same(a: Any, b: Any) -> bool:
    """Equal and of the same types all the way down (1 and 1.0 differ)."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True) and a == b


NUMBERS = (
    st.integers(-(2**80), 2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([0.0, -0.0, 1e308, 5e-324, 2**63, -(2**63) - 1, 2**64, 10**19])
)
VALUES = st.recursive(
    st.none() | st.booleans() | NUMBERS | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(VALUES, st.booleans())
def test_json_values_read_the_same(value: Any, ascii_only: bool) -> None:
    body = json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    expected = stdlib_reading(body)
    got = reading(body)
    assert same(got, expected), (body, got, expected)


@settings(max_examples=400, deadline=None)
@given(VALUES, st.data())
def test_damaged_bodies_are_refused_or_read_as_before(value: Any, data: st.DataObject) -> None:
    body = bytearray(json.dumps(value).encode())
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(body)))
        body[at:at] = data.draw(st.binary(min_size=1, max_size=3))
    expected = stdlib_reading(bytes(body))
    got = reading(bytes(body))
    assert same(got, expected), (bytes(body), got, expected)


def test_edge_bodies_keep_their_answers() -> None:
    for body in (
        b"NaN",
        b"Infinity",
        b"-Infinity",
        b"1e400",
        b"2.5E+308",
        b'{"n": 18446744073709551616}',
        b'{"n": -9223372036854775809}',
        b'{"t": "\\ud800"}',
        b'{"t": "\\ud83d\\ude00"}',
        b"\xef\xbb\xbf{}",
        b'{"a": 1, "a": 2}',
        b"[" * 40 + b"]" * 40,
        b"[" * 5000 + b"]" * 5000,
        b'{"t": "\xff"}',
        b"",
    ):
        assert same(reading(body), stdlib_reading(body)), body
