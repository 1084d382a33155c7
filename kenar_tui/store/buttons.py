"""Captions of the server-link buttons we sent, so a button press reads «رزرو بازدید».

Divar hands an `open_server_link` button's `data` back to the start URL as `extra_data`;
equality of that object is the only link between a press and the button, so captions are
kept under a keyed hash of the canonical JSON of `data`, sealed like every other text.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from kenar_tui.store.cache import Cache

GRID_FIELDS = ("sender_buttons", "receiver_buttons", "buttons")


def server_link_buttons(body: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str]]:
    """(data, caption) for every server-link button in a send body's grids."""
    for field in GRID_FIELDS:
        grid = body.get(field)
        if not isinstance(grid, dict):
            continue
        for row in grid.get("rows") or []:
            for button in (row or {}).get("buttons") or []:
                action = (button or {}).get("action") or {}
                link = action.get("open_server_link")
                caption = button.get("caption")
                if isinstance(link, dict) and isinstance(caption, str):
                    data = link.get("data")
                    yield (data if isinstance(data, dict) else {}), caption


class ButtonCaptions:
    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    def _key(self, data: dict[str, Any]) -> str:
        canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return self.cache.sealer.keyed_hash(canonical)

    def remember(self, cid: str | None, body: dict[str, Any], at: int) -> int:
        """Record the captions of `body`'s server-link buttons; returns how many."""
        pairs = list(server_link_buttons(body))
        if not pairs:
            return 0
        with self.cache.transaction() as db:
            db.executemany(
                "INSERT INTO buttons (key, conversation_id, caption, at) VALUES (?, ?, ?, ?)",
                [
                    (self._key(data), cid, self.cache.seal_text(caption), at)
                    for data, caption in pairs
                ],
            )
        return len(pairs)

    def caption(self, cid: str | None, extra_data: Any) -> str | None:
        """The caption of the newest button we sent with this data, this conversation first."""
        if not isinstance(extra_data, dict):
            return None
        row = self.cache.db.execute(
            "SELECT caption FROM buttons WHERE key = ? "
            "ORDER BY (conversation_id IS ?) DESC, at DESC LIMIT 1",
            (self._key(extra_data), cid),
        ).fetchone()
        return self.cache.open_text(row[0]) if row else None
