"""Timeline entries that belong to no conversation: access revocations, payments, gaps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kenar_tui.store.cache import Cache


@dataclass(frozen=True, slots=True)
class NoticeRow:
    id: int
    seq: int | None
    kind: str
    at: int
    payload: dict[str, Any]


class Notices:
    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    def add(self, seq: int | None, kind: str, at: int, payload: dict[str, Any]) -> NoticeRow:
        with self.cache.transaction() as db:
            cursor = db.execute(
                "INSERT INTO notices (seq, kind, at, payload) VALUES (?, ?, ?, ?)",
                (seq, kind, at, self.cache.seal_json(payload)),
            )
        return NoticeRow(int(cursor.lastrowid or 0), seq, kind, at, payload)

    def recent(self, limit: int = 100) -> list[NoticeRow]:
        """The newest notices, oldest first."""
        rows = self.cache.db.execute(
            "SELECT id, seq, kind, at, payload FROM notices ORDER BY id DESC LIMIT ?", (limit,)
        ).fetchall()
        return [
            NoticeRow(int(r[0]), r[1], str(r[2]), int(r[3]), self.cache.open_json(r[4]))
            for r in reversed(rows)
        ]
