"""The buyers' script: what buyers do, step by step, as a pure function of a seed.

`buyer_script(seed, n)` gives the same steps for the same seed every time, with no clock
involved, so two runs can be compared directly. The simulator plays it at a rate.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from kenar_tui.sandbox.catalogue import (
    CITY_CENTRES,
    CONTACT_NAMES,
    FILE_NAMES,
    FOLLOW_UPS,
    POSTS,
    CataloguePost,
)

NEW_CONVERSATION_SHARE = 0.25
CHATBOT_SHARE = 0.05
PRESS_SHARE = 0.06
# Text dominates real chats; media and the rest are occasional.
TYPE_WEIGHTS = {
    "TEXT": 72,
    "IMAGE": 8,
    "VOICE": 6,
    "FILE": 4,
    "LOCATION": 4,
    "VIDEO": 3,
    "CONTACT": 3,
}
CHATBOT_TEXTS = ("/start", "سلام", "قیمت روز چنده؟", "ساعت کاری‌تون چیه؟", "ممنون")
MEDIA_HOST = "https://example.com/sandbox"


@dataclass(frozen=True, slots=True)
class BuyerStep:
    """One thing a buyer does. `conversation` numbers the script's conversations from 0."""

    index: int
    conversation: int
    post_token: str | None
    action: str  # "message" or "press"
    message_type: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    chatbot: bool = False
    new_conversation: bool = False


def message_data(kind: str, rng: random.Random, post: CataloguePost | None) -> dict[str, Any]:
    """The payload field of a buyer message of type `kind`."""
    n = rng.randrange(1_000_000)
    if kind == "IMAGE":
        w, h = rng.choice(((1920, 1080), (1080, 1920), (1280, 960)))
        return {
            "image_data": {
                "link": f"{MEDIA_HOST}/images/{n}.jpg",
                "size_bytes": rng.randrange(80_000, 900_000),
                "height_px": h,
                "width_px": w,
            }
        }
    if kind == "FILE":
        return {
            "file_data": {
                "link": f"{MEDIA_HOST}/files/{n}",
                "name": rng.choice(FILE_NAMES),
                "size_bytes": rng.randrange(20_000, 4_000_000),
            }
        }
    if kind == "VOICE":
        return {
            "voice_data": {
                "link": f"{MEDIA_HOST}/voice/{n}.ogg",
                "size_bytes": rng.randrange(20_000, 600_000),
            }
        }
    if kind == "VIDEO":
        return {
            "video_data": {
                "link": f"{MEDIA_HOST}/videos/{n}.mp4",
                "thumbnail_link": f"{MEDIA_HOST}/videos/{n}.jpg",
                "size_bytes": rng.randrange(1_000_000, 30_000_000),
            }
        }
    if kind == "LOCATION":
        lat, lon = CITY_CENTRES.get(post.city if post else "tehran", CITY_CENTRES["tehran"])
        return {
            "location_data": {
                "latitude": round(lat + rng.uniform(-0.05, 0.05), 6),
                "longitude": round(lon + rng.uniform(-0.05, 0.05), 6),
            }
        }
    if kind == "CONTACT":
        return {
            "contact_data": {
                "name": rng.choice(CONTACT_NAMES),
                "phone": f"+98912{rng.randrange(10**7):07d}",
            }
        }
    texts = (post.questions + FOLLOW_UPS) if post else CHATBOT_TEXTS
    return {"text": rng.choice(texts)}


def iter_buyer_script(seed: int) -> Iterator[BuyerStep]:
    """The endless script for a seed."""
    rng = random.Random(f"buyers:{seed}")
    conversations: list[tuple[CataloguePost | None, bool]] = []
    kinds = list(TYPE_WEIGHTS)
    weights = list(TYPE_WEIGHTS.values())
    index = 0
    while True:
        if not conversations or rng.random() < NEW_CONVERSATION_SHARE:
            chatbot = rng.random() < CHATBOT_SHARE
            post = None if chatbot else rng.choice(POSTS)
            conversations.append((post, chatbot))
            number = len(conversations) - 1
            text = rng.choice(CHATBOT_TEXTS) if post is None else rng.choice(post.openers)
            yield BuyerStep(
                index,
                number,
                post.token if post else None,
                "message",
                "TEXT",
                {"text": text},
                chatbot=chatbot,
                new_conversation=True,
            )
        else:
            # Recent conversations are the lively ones.
            recent = max(1, len(conversations) - 12)
            number = rng.randrange(recent - 1, len(conversations))
            post, chatbot = conversations[number]
            token = post.token if post else None
            if not chatbot and rng.random() < PRESS_SHARE:
                # The text is what the buyer writes instead when there is nothing to press.
                fallback = {"text": rng.choice(FOLLOW_UPS)}
                yield BuyerStep(index, number, token, "press", data=fallback, chatbot=chatbot)
            else:
                kind = "TEXT" if chatbot else rng.choices(kinds, weights)[0]
                data = message_data(kind, rng, post)
                yield BuyerStep(index, number, token, "message", kind, data, chatbot=chatbot)
        index += 1


def buyer_script(seed: int, steps: int) -> list[BuyerStep]:
    """The first `steps` steps of the script for `seed`; pure and repeatable."""
    return list(islice(iter_buyer_script(seed), steps))
