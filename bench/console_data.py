"""The messages the console benchmark stores: who writes, in which conversation, and the
Persian phrase planted for search (bench/console.py fills a cache with them)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bench.events import event

CONVERSATIONS = 2000
# A Persian phrase planted in one message of every PLANT_EVERY, written with Persian ی and ک,
# a zero-width non-joiner and Persian digits; the search looks for it spelt the Arabic way,
# without the joiner and with Latin digits (the folding the console's search does).
PLANTED = "کیف چرمی قهوه\u200cای مدل ۱۴۰۲"
PLANTED_QUERY = "كيف چرمي قهوهاي مدل 1402"
PLANT_EVERY = 20_011
PLANT_AT = 7
BURST = 1000  # live entries in the burst


def cid_of(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def conversations_of(total: int) -> int:
    return min(CONVERSATIONS, max(2, total // 2))


def conversation_of(i: int, total: int) -> int:
    """Message `i`'s conversation: 0 holds the first tenth; the rest go in tiers so the
    sizes differ: 20 big ones, 200 medium, the others round-robin, and the last 100 get only
    one message in a thousand (a few each)."""
    conversations = conversations_of(total)
    largest = max(1, total // 10)
    if i < largest:
        return 0
    others = conversations - 1
    j = i - largest
    small = min(100, others // 4)
    if small and j % 1000 == 999:
        return conversations - small + (j // 1000) % small
    if j % 4 == 0:
        return 1 + (j // 4) % min(20, others)
    if j % 4 == 1:
        return 1 + (j // 4) % min(200, others)
    return 1 + (j // 2) % max(others - small, 1)


def sample_conversations(total: int) -> list[int]:
    """Conversations of different sizes to switch among: the largest, a big, a medium,
    a round-robin and a small one."""
    conversations = conversations_of(total)
    picks = [0, 1, 150, conversations // 2, conversations - 1]
    return sorted({min(max(p, 0), conversations - 1) for p in picks})


def entries(
    count: int,
    start_seq: int,
    *,
    now: datetime,
    prefix: str,
    offset: int = 0,
    total: int = 0,
    plant: bool = True,
) -> list[tuple[int, Any]]:
    """Entries `offset`..`offset+count` of a store of `total` (default `count`) messages:
    conversation 0 gets the first tenth, the rest go round-robin over the others."""
    from relay.entries import entry_from_event

    total = total or count
    pairs = []
    for i in range(offset, offset + count):
        cid = cid_of(conversation_of(i, total))
        body = event(f"{prefix}-{i}", conversation_id=cid)
        at = now - timedelta(seconds=total - i)
        body["new_message"]["sent_at"] = int(at.timestamp() * 1_000_000)
        if i % 3 == 2:
            body["new_message"]["sender"]["side"] = "SELLER"
            body["new_message"]["text"] = "بله، هنوز موجود است."
        # Numbered, so a screen shows which conversation's messages it holds.
        body["new_message"]["text"] += f" ({prefix} {i})"
        if plant and i % PLANT_EVERY == PLANT_AT:
            body["new_message"]["text"] = f"{PLANTED} شماره {i}"
        entry = entry_from_event(body).entry
        entry["received_at"] = at.isoformat().replace("+00:00", "Z")
        pairs.append((start_seq + i - offset, entry))
    return pairs


def planted_count(size: int) -> int:
    """How many of a fill's `size` messages carry the planted phrase."""
    return len(range(PLANT_AT, size, PLANT_EVERY))
