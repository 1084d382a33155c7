"""POST /events: samples stored and delivered in order; bad requests refused, delivered nowhere."""

from __future__ import annotations

import json

import httpx

from tests.fixtures.relay import RunningRelay
from tests.relay.helpers import SAMPLES, console, post_json, text_event

EVENT_SAMPLES = sorted(p for p in SAMPLES.glob("*.json") if not p.name.startswith("server-link"))


async def test_every_sample_reaches_a_console_in_order(
    relay: RunningRelay, http: httpx.AsyncClient
) -> None:
    """Every sample body is accepted (2xx) and a connected console gets each, in order, raw kept."""
    bodies = [json.loads(p.read_text(encoding="utf-8")) for p in EVENT_SAMPLES]
    assert len(bodies) >= 12
    async with console(relay.ws_url, relay.token) as client:
        await client.until("live")
        for body in bodies:
            answer = await post_json(
                http, relay.url + "/events", body, key=relay.identification_key
            )
            assert answer.status_code == 200, answer.text
        frames = await client.entries(len(bodies))
    seqs = [f["seq"] for f in frames]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert [f["entry"]["raw"] for f in frames] == bodies
    kinds = {p.name: f["entry"]["kind"] for p, f in zip(EVENT_SAMPLES, frames, strict=True)}
    assert kinds["event-new-message-text.json"] == "message"
    assert kinds["legacy-chat-message.json"] == "message"
    assert kinds["event-post-update.json"] == "post_update"
    assert kinds["event-user-access-revocation.json"] == "access_revocation"
    assert kinds["send-message-request.json"] == "unknown"  # not an event: kept raw, not refused
    text = next(
        f for p, f in zip(EVENT_SAMPLES, frames, strict=True) if p.name.endswith("text.json")
    )
    assert text["entry"]["data"]["text"] == "سلام، این خودرو هنوز موجود است؟"
    assert text["entry"]["conversation_id"] == "edbb9499-cccc-4d35-b21f-621fa95f2b3e"
    assert text["entry"]["data"]["sent_at"] == 1729429926140000
    legacy = next(
        f for p, f in zip(EVENT_SAMPLES, frames, strict=True) if p.name.startswith("legacy")
    )
    assert legacy["entry"]["conversation_id"].startswith("legacy-")


async def test_bad_requests_are_refused_and_reach_no_one(
    relay: RunningRelay, http: httpx.AsyncClient
) -> None:
    """Wrong key 401, oversized 413, garbage 400: nothing stored; the next entry is the good one."""
    url = relay.url + "/events"
    body = text_event("پیام درست")
    async with console(relay.ws_url, relay.token) as client:
        await client.until("live")
        wrong = await post_json(http, url, text_event(), key="not-the-key")
        missing = await http.post(url, json=text_event())
        huge = await post_json(http, url, text_event("ب" * 300_000), key=relay.identification_key)
        garbage = await post_json(http, url, b"{not json", key=relay.identification_key)
        array = await post_json(http, url, [1, 2], key=relay.identification_key)
        assert (wrong.status_code, missing.status_code) == (401, 401)
        assert huge.status_code == 413
        assert garbage.status_code == 400 and array.status_code == 400
        assert "error" in garbage.json()
        good = await post_json(http, url, body, key=relay.identification_key)
        assert good.status_code == 200
        (frame,) = await client.entries(1)
    assert frame["entry"]["raw"] == body
    assert frame["seq"] == good.json()["seq"] == 1


async def test_a_duplicate_delivery_is_stored_and_delivered_once(
    relay: RunningRelay, http: httpx.AsyncClient
) -> None:
    """The same message id delivered twice (even with keys reordered) yields one entry."""
    url = relay.url + "/events"
    body = text_event("تکراری")
    reordered = dict(reversed(list(body.items())))
    async with console(relay.ws_url, relay.token) as client:
        await client.until("live")
        first = await post_json(http, url, body, key=relay.identification_key)
        second = await post_json(http, url, reordered, key=relay.identification_key)
        update = json.loads((SAMPLES / "event-post-update.json").read_text(encoding="utf-8"))
        third = await post_json(http, url, update, key=relay.identification_key)
        fourth = await post_json(http, url, update, key=relay.identification_key)
        marker = await post_json(http, url, text_event("نشانه"), key=relay.identification_key)
        frames = await client.entries(3)
    assert first.json() == {"seq": 1, "duplicate": False}
    assert second.json() == {"seq": 1, "duplicate": True}
    assert third.json()["seq"] == fourth.json()["seq"] == 2 and fourth.json()["duplicate"]
    assert [f["seq"] for f in frames] == [1, 2, marker.json()["seq"]] == [1, 2, 3]
