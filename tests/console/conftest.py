"""Fixtures for the console tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

# --- the Textual layer: a fixed clock and a cache filled from sample entries -----------------

FIXED_NOW = datetime(2026, 11, 25, 10, 30, tzinfo=UTC)  # 14:00 in Tehran

CAR, FLAT = "gZd7omnS", "Apt85Vnk"
CAR_TITLE, FLAT_TITLE = "پژو ۲۰۶ تیپ ۵ مدل ۱۳۹۸", "آپارتمان ۸۵ متری ونک"
CID_CAR_1 = "edbb9499-cccc-4d35-b21f-621fa95f2b3e"
CID_CAR_2 = "c2f1a7d0-5b1e-4f43-9a0e-7d2b1c9e4a10"
CID_FLAT = "9f0c3e21-77aa-4b6e-8d1f-2a3b4c5d6e7f"


def message_entry(
    cid: str, post: str, *, minutes_ago: float, side: str = "BUYER", type: str = "TEXT", **data: Any
) -> dict[str, Any]:
    """A relay timeline entry for one Kenar message (docs/protocol.md)."""
    at = FIXED_NOW - timedelta(minutes=minutes_ago)
    micros = int(at.timestamp() * 1_000_000)
    message = {
        "id": f"msg-{cid[:4]}-{micros}",
        "conversation": {"id": cid, "type": "POST", "post_token": post},
        "sender": {"side": side, "type": "HUMAN"},
        "type": type,
        "sent_at": micros,
        **data,
    }
    return {
        "kind": "message",
        "received_at": at.isoformat(),
        "conversation_id": cid,
        "post_token": post,
        "event_type": "NEW_MESSAGE",
        "data": message,
        "raw": {"type": "NEW_MESSAGE", "new_message": message},
    }


def post_update_entry(post: str, title: str, *, minutes_ago: float) -> dict[str, Any]:
    at = FIXED_NOW - timedelta(minutes=minutes_ago)
    data = {"type": "PUBLISH", "post": {"token": post, "data": {"title": title}}}
    return {
        "kind": "post_update",
        "received_at": at.isoformat(),
        "post_token": post,
        "event_type": "POST_UPDATE",
        "data": data,
        "raw": {"type": "POST_UPDATE", "post_update": data},
    }


def sample_entries() -> list[dict[str, Any]]:
    """Two posts, three conversations, every message type, in Persian."""
    car_1 = [
        message_entry(CID_CAR_1, CAR, minutes_ago=95, text="سلام، ماشین هنوز موجوده؟"),
        message_entry(CID_CAR_1, CAR, minutes_ago=90, side="SELLER", text="سلام، بله موجوده."),
        message_entry(
            CID_CAR_1,
            CAR,
            minutes_ago=40,
            type="IMAGE",
            image_data={
                "link": "https://example.com/car.jpg",
                "size_bytes": 245760,
                "width_px": 1280,
                "height_px": 960,
            },
        ),
        message_entry(
            CID_CAR_1,
            CAR,
            minutes_ago=39,
            type="LOCATION",
            location_data={"latitude": 35.757, "longitude": 51.41},
        ),
        message_entry(
            CID_CAR_1,
            CAR,
            minutes_ago=38,
            type="CONTACT",
            contact_data={"name": "رضا", "phone": "+989123456789"},
        ),
        message_entry(
            CID_CAR_1,
            CAR,
            minutes_ago=37,
            type="VOICE",
            voice_data={
                "link": "https://example.com/v.ogg",
                "size_bytes": 51200,
                "duration_seconds": 42,
            },
        ),
        message_entry(
            CID_CAR_1,
            CAR,
            minutes_ago=36,
            type="FILE",
            file_data={
                "link": "https://example.com/f.pdf",
                "name": "سند.pdf",
                "size_bytes": 1048576,
            },
        ),
        message_entry(
            CID_CAR_1,
            CAR,
            minutes_ago=35,
            type="VIDEO",
            video_data={"link": "https://example.com/v.mp4", "size_bytes": 3145728},
        ),
        message_entry(CID_CAR_1, CAR, minutes_ago=34, type="STICKER", sticker_data={"id": "x"}),
        message_entry(CID_CAR_1, CAR, minutes_ago=12, text="قیمت نهایی چنده؟ معاوضه هم می‌کنید؟"),
    ]
    car_2 = [message_entry(CID_CAR_2, CAR, minutes_ago=5, text="تصادفی نداره؟ کارکردش چقدره؟")]
    flat = [
        message_entry(
            CID_FLAT, FLAT, minutes_ago=60, text="سلام وقت بخیر، امکان بازدید فردا ساعت ۵ هست؟"
        ),
        message_entry(CID_FLAT, FLAT, minutes_ago=55, side="SELLER", text="بله، تشریف بیارید."),
    ]
    titles = [
        post_update_entry(CAR, CAR_TITLE, minutes_ago=120),
        post_update_entry(FLAT, FLAT_TITLE, minutes_ago=120),
    ]
    entries = titles + car_1 + car_2 + flat
    return sorted(entries, key=lambda e: e["received_at"])


@pytest.fixture
def console_inbox(tmp_path: Path) -> Iterator[Any]:
    """An Inbox on a real cache in tmp, filled with `sample_entries()` at a fixed clock."""
    from kenar_tui.inbox import Inbox
    from kenar_tui.store.cache import Cache

    with Cache(tmp_path / "console-cache.sqlite3") as cache:
        inbox = Inbox(cache, operator="سارا", now=lambda: FIXED_NOW)
        for seq, entry in enumerate(sample_entries(), start=1):
            inbox.apply(seq, entry)
        yield inbox
