"""The outbox's rows: a reply is written here before it is sent, so a restart resumes it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kenar_tui.store.cache import Cache

_COLUMNS = (
    "ref, conversation_id, post_token, conversation_type, body, state, reason, attempts,"
    " next_attempt_at, created_at, updated_at, relay_state, relay_seq"
)


@dataclass(frozen=True, slots=True)
class OutboxRow:
    ref: str
    conversation_id: str
    post_token: str | None
    conversation_type: str
    body: dict[str, Any]
    state: str  # sending | retrying | sent | failed | unknown (may have been delivered)
    reason: str | None
    attempts: int
    next_attempt_at: int | None
    created_at: int
    updated_at: int
    relay_state: str | None  # None (not yet sent) | pending | posted
    relay_seq: int | None


class OutboxRows:
    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    def insert(self, row: OutboxRow) -> None:
        with self.cache.transaction() as db:
            db.execute(
                f"INSERT INTO outbox ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    row.ref,
                    row.conversation_id,
                    row.post_token,
                    row.conversation_type,
                    self.cache.seal_json(row.body),
                    row.state,
                    self.cache.seal_optional(row.reason),
                    row.attempts,
                    row.next_attempt_at,
                    row.created_at,
                    row.updated_at,
                    row.relay_state,
                    row.relay_seq,
                ),
            )

    def update(self, ref: str, **fields: Any) -> None:
        allowed = {
            "state",
            "reason",
            "attempts",
            "next_attempt_at",
            "updated_at",
            "relay_state",
            "relay_seq",
        }
        if not fields or set(fields) - allowed:
            raise ValueError(f"outbox rows can update only {sorted(allowed)}")
        if "reason" in fields:  # Kenar's refusal may quote the message: sealed like it
            fields["reason"] = self.cache.seal_optional(fields["reason"])
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with self.cache.transaction() as db:
            db.execute(f"UPDATE outbox SET {assignments} WHERE ref = ?", (*fields.values(), ref))

    def set_body(self, ref: str, body: dict[str, Any], at: int) -> None:
        """Replace a reply's body (a media reply gains its media_token once uploaded)."""
        with self.cache.transaction() as db:
            db.execute(
                "UPDATE outbox SET body = ?, updated_at = ? WHERE ref = ?",
                (self.cache.seal_json(body), at, ref),
            )

    def confirm_delivered(self, ref: str, at: int) -> bool:
        """Divar's echo of an "unknown" reply arrived: it was delivered, so it is "sent".

        The echo is on the shared timeline already, so the reply is not posted there again
        (relay_state "skipped"). True when a row changed.
        """
        with self.cache.transaction() as db:
            changed = db.execute(
                "UPDATE outbox SET state = 'sent', reason = NULL, next_attempt_at = NULL, "
                "relay_state = 'skipped', updated_at = ? WHERE ref = ? AND state = 'unknown'",
                (at, ref),
            ).rowcount
        return bool(changed)

    def get(self, ref: str) -> OutboxRow | None:
        row = self.cache.db.execute(
            f"SELECT {_COLUMNS} FROM outbox WHERE ref = ?", (ref,)
        ).fetchone()
        return self._row(row) if row else None

    def many(self, refs: list[str]) -> dict[str, OutboxRow]:
        if not refs:
            return {}
        marks = ",".join("?" * len(refs))
        rows = self.cache.db.execute(
            f"SELECT {_COLUMNS} FROM outbox WHERE ref IN ({marks})", refs
        ).fetchall()
        return {str(r[0]): self._row(r) for r in rows}

    def unfinished(self) -> list[OutboxRow]:
        """Rows still to send, or sent but not yet on the relay's timeline, oldest first."""
        rows = self.cache.db.execute(
            f"SELECT {_COLUMNS} FROM outbox WHERE state IN ('sending', 'retrying') "
            "OR (state = 'sent' AND relay_state = 'pending') ORDER BY created_at"
        ).fetchall()
        return [self._row(r) for r in rows]

    def by_state(self, *states: str) -> list[OutboxRow]:
        marks = ",".join("?" * len(states))
        rows = self.cache.db.execute(
            f"SELECT {_COLUMNS} FROM outbox WHERE state IN ({marks}) ORDER BY created_at", states
        ).fetchall()
        return [self._row(r) for r in rows]

    def _row(self, row: tuple[Any, ...]) -> OutboxRow:
        return OutboxRow(
            ref=str(row[0]),
            conversation_id=str(row[1]),
            post_token=row[2],
            conversation_type=str(row[3]),
            body=self.cache.open_json(row[4]),
            state=str(row[5]),
            reason=self.cache.open_optional(row[6]),
            attempts=int(row[7]),
            next_attempt_at=row[8],
            created_at=int(row[9]),
            updated_at=int(row[10]),
            relay_state=row[11],
            relay_seq=row[12],
        )
