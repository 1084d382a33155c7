"""The plain chat-message path of intake (relay.entries._plain_message) builds exactly the
entry the protocol models build, and hands every shape it does not read to them.

Issue 20 took pydantic off the hot path for the everyday text message; a webhook must be
stored the same whichever path read it (same `data`, `raw`, dedupe key, event type, and the
same JSON bytes once encoded).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relay import entries
from relay.entries import NewEntry, entry_from_event

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "kenar" / "samples"


def through_models(body: dict[str, Any]) -> NewEntry:
    with mock.patch.object(entries, "_plain_message", return_value=None):
        return entry_from_event(body)


def encoded(new: NewEntry) -> tuple[str, str | None, str]:
    text = json.dumps(new.entry, ensure_ascii=False, separators=(",", ":"))
    return text, new.dedupe, new.event_type


def text_event(**message: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "m-1",
        "conversation": {"id": "c-1", "type": "POST", "post_token": "gZd7omnS"},
        "sender": {"side": "BUYER", "type": "HUMAN"},
        "type": "TEXT",
        "sent_at": 1729429926140000,
        "text": "سلام",
    }
    base.update(message)
    return {"type": "NEW_MESSAGE", "metadata": {"subscription": "post-x"}, "new_message": base}


def test_the_text_sample_takes_the_plain_path_and_matches_the_models() -> None:
    body = json.loads((SAMPLES / "event-new-message-text.json").read_text())
    assert entries._plain_message(body, body["type"]) is not None
    assert encoded(entry_from_event(body)) == encoded(through_models(body))


def test_every_sample_event_is_stored_as_the_models_store_it() -> None:
    for path in [*sorted(SAMPLES.glob("event-*.json")), SAMPLES / "legacy-chat-message.json"]:
        body = json.loads(path.read_text())
        assert encoded(entry_from_event(body)) == encoded(through_models(body)), path.name


def test_a_digit_string_sent_at_is_read_as_microseconds() -> None:
    body = text_event(sent_at="1729429926140000")
    assert entries._plain_message(body, "NEW_MESSAGE") is not None
    assert entry_from_event(body).entry["data"]["sent_at"] == 1729429926140000
    assert encoded(entry_from_event(body)) == encoded(through_models(body))


def test_a_sent_at_past_2_to_the_53_goes_to_the_models() -> None:
    """The models read sent_at through a float; past 2**53 the plain path would differ."""
    for sent_at, plain in ((2**53, True), (2**53 + 1, False)):
        body = text_event(sent_at=sent_at)
        assert (entries._plain_message(body, "NEW_MESSAGE") is not None) is plain
        assert encoded(entry_from_event(body)) == encoded(through_models(body))


def test_shapes_it_does_not_read_go_to_the_models() -> None:
    for body in (
        text_event(sender={"type": "SELLER"}),  # the migration guide's side-in-type
        text_event(sent_at=1729429926),  # seconds
        text_event(sent_at=" 1729429926140000"),
        text_event(sent_at="١٧٢٩٤٢٩٩٢٦١٤٠٠٠٠"),  # Arabic-Indic digits
        text_event(sent_at=True),
        text_event(text=None),
        text_event(conversation={"id": "", "type": "POST"}),
        text_event(image_data={"link": "https://x"}),
        {**text_event(), "meta_data": {}},
    ):
        assert entries._plain_message(body, body["type"]) is None
        assert encoded(entry_from_event(body)) == encoded(through_models(body))


STRINGS = st.sampled_from(["", "x", "POST", "BOT", "BUYER", "SELLER", "HUMAN", "TEXT", "۱۲"])
ODD: st.SearchStrategy[Any] = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**19), max_value=10**19)
    | st.sampled_from(["1729429926140000", "17294299261400001234", "-5", "1e15", " 1"])
    | st.just({})
)
# Mostly the everyday shape (so the plain path is taken), sometimes anything else.
KEEP = st.integers(0, 19).map(lambda n: n > 0)


def usually(likely: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.integers(0, 9).flatmap(lambda n: ODD if n == 0 else likely)


def maybe_without(parts: dict[str, Any], draw: Any) -> dict[str, Any]:
    return {k: v for k, v in parts.items() if draw(KEEP)}


@st.composite
def chat_events(draw: Any) -> dict[str, Any]:
    conversation = maybe_without(
        {"id": draw(usually(STRINGS)), "type": draw(STRINGS), "post_token": draw(usually(STRINGS))},
        draw,
    )
    sender = maybe_without({"side": draw(usually(STRINGS)), "type": draw(STRINGS)}, draw)
    sent_at = st.integers(min_value=10**14 - 5, max_value=10**17 + 5)
    message = maybe_without(
        {
            "id": draw(usually(STRINGS)),
            "conversation": draw(usually(st.just(conversation))),
            "sender": draw(usually(st.just(sender))),
            "type": draw(usually(STRINGS)),
            "text": draw(usually(STRINGS)),
        },
        draw,
    )
    # Always there, never null: a message without one is stamped with the moment it is read
    # (which differs between the two reads compared).
    message["sent_at"] = draw(usually(sent_at | sent_at.map(str)).filter(lambda v: v is not None))
    if not draw(KEEP):
        message["extra"] = draw(ODD)
    kind = draw(st.sampled_from(["NEW_MESSAGE", "NEW_CHATBOT_MESSAGE"]))
    field = "new_message" if kind == "NEW_MESSAGE" else "new_chatbot_message"
    body = {"type": kind, "metadata": draw(usually(st.just({"s": 1}))), field: message}
    body = {"type": kind, **maybe_without(body, draw)}
    if not draw(KEEP):
        body["x"] = draw(ODD)
    return body


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chat_events())
def test_any_chat_event_is_stored_as_the_models_store_it(body: dict[str, Any]) -> None:
    assert encoded(entry_from_event(body)) == encoded(through_models(body))
