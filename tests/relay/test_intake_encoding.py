"""The stored JSON of an entry (relay.store.encode_payload) is what the stdlib wrote before.

Issue 20 moved the entry's encoding to orjson (the stdlib encoder was ~10% of intake's event
loop). Consoles read these bytes: for every string, integer, bool, null and nesting a webhook
can carry they must be the bytes `json.dumps(ensure_ascii=False, separators=(",", ":"))`
wrote, floats the same value, and what orjson refuses must still be stored (or refused) as
before.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relay.sqlite_store import SqliteStore
from relay.store import encode_payload

LOG = logging.getLogger("kenar_relay.test.intake_encoding")
SAMPLES = Path(__file__).resolve().parents[1] / "data" / "kenar" / "samples"


def stdlib(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# Every code point but the surrogates (which strict JSON parsing refuses before the store).
TEXT = st.text(st.characters(codec="utf-8"))
SCALARS = st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | TEXT
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(JSON)
def test_webhook_shaped_values_encode_to_the_stdlib_bytes(value: Any) -> None:
    payload, data = encode_payload({"raw": value})
    assert payload == stdlib({"raw": value})
    assert data == payload.encode()


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_keep_their_value(number: float) -> None:
    payload, _ = encode_payload({"n": number})
    assert json.loads(payload) == {"n": number}


def test_every_sample_body_encodes_to_the_stdlib_bytes() -> None:
    for path in sorted(SAMPLES.glob("*.json")):
        body = json.loads(path.read_text())
        assert encode_payload({"raw": body})[0] == stdlib({"raw": body}), path.name


def test_control_characters_and_separators_are_escaped_as_before() -> None:
    text = "".join(chr(c) for c in range(0x20)) + '"\\/\x7f\u2028\u2029\ufeff سلام 😀'
    assert encode_payload({"t": text})[0] == stdlib({"t": text})


def test_what_orjson_refuses_is_encoded_by_the_stdlib() -> None:
    huge = {"n": 2**70, "m": -(2**64)}
    assert encode_payload(huge)[0] == stdlib(huge)
    deep: Any = "x"
    for _ in range(300):
        deep = [deep]
    assert encode_payload({"d": deep})[0] == stdlib({"d": deep})


def test_an_unpaired_surrogate_still_raises_in_the_caller() -> None:
    with pytest.raises(UnicodeEncodeError):
        encode_payload({"t": "\ud800"})


async def test_the_store_keeps_a_64_bit_overflow_and_hands_back_the_same_value(
    tmp_path: Path,
) -> None:
    entry = {"kind": "unknown", "raw": {"n": 2**70, "t": "سلام", "f": 1e16}}
    async with SqliteStore(tmp_path / "t.sqlite3", logger=LOG) as store:
        await store.append(entry)
        stored = [e async for batch in store.read(0) for e in batch]
    assert stored[0].entry["raw"] == entry["raw"]
