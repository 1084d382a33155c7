"""Filling a relay's SQLite store fast, for the catch-up and growth benchmarks.

The schema comes from `SqliteStore` itself (opened and closed once); the rows are then
written in bulk with executemany, in the exact form the store writes them (the entry JSON
the relay makes from the sample webhook, with `received_at`, sealed with the relay's own key
file and deduplicated by its keyed hash, or plain when encryption is off), so the relay
started on the file afterwards sees an ordinary timeline.
`synchronous=OFF` for the fill only: it is a fixture, and the relay reopens with FULL.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from bench.events import event
from kenar_api.messages import to_micros
from kenar_core.cipher import AesGcmSealer
from kenar_core.keyfile import relay_keyring
from kenar_core.sealing import PlainSealer, Sealer
from relay.entries import entry_from_event
from relay.sqlite_store import SqliteStore

CHUNK = 50_000


async def _create(path: Path, sealer: Sealer) -> None:
    async with SqliteStore(path, logger=logging.getLogger("bench.prefill"), sealer=sealer):
        pass


def relay_sealer(data_dir: Path, encrypted: bool) -> Sealer:
    """The sealer a relay started on `data_dir` uses: AES-GCM under its key file (made now if
    absent, exactly as the relay makes it), or plain with encryption off."""
    if not encrypted:
        return PlainSealer()
    ring = relay_keyring(data_dir, environ={}, logger=logging.getLogger("bench.prefill"))
    return AesGcmSealer(ring)


def prefill(
    path: Path,
    count: int,
    *,
    conversations: int = 2000,
    prefix: str = "fill",
    encrypted: bool = True,
) -> None:
    """Append `count` message entries over `conversations` conversations to the store at
    `path`, sealed as a relay on `path.parent` with `encrypted` on or off would seal them."""
    sealer = relay_sealer(path.parent, encrypted)
    asyncio.run(_create(path, sealer))
    moment = datetime.now(UTC)
    at_us = to_micros(moment)
    received = moment.isoformat().replace("+00:00", "Z")
    id_mark, conv_mark = "MESSAGE-ID-MARK", "00000000-0000-0000-0000-CONVERSATION"
    new = entry_from_event(event(id_mark, conversation_id=conv_mark))
    payload = json.dumps(
        {**new.entry, "received_at": received}, ensure_ascii=False, separators=(",", ":")
    )
    dedupe = new.dedupe or ""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        done = 0
        while done < count:
            rows = []
            for i in range(done, min(count, done + CHUNK)):
                mid = f"{prefix}-{i}"
                conv = f"00000000-0000-0000-0000-{i % conversations:012d}"
                text = payload.replace(id_mark, mid).replace(conv_mark, conv)
                key = sealer.keyed_hash(dedupe.replace(id_mark, mid).replace(conv_mark, conv))
                rows.append((at_us, key, sealer.seal(text.encode())))
            conn.execute("BEGIN")
            conn.executemany(
                "INSERT INTO entries(received_at, dedupe, payload) VALUES (?, ?, ?)", rows
            )
            conn.execute("COMMIT")
            done += len(rows)
    finally:
        conn.close()
