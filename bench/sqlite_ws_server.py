"""The catch-up floor: a bare loop from a SQLite file to a websocket, nothing else.

On a console's `hello` it reads `entries` after `since` in batches of 500 (the relay's batch
size), opens each payload with the relay's key file (AES-GCM, as the relay does; `--plain`
for a store written with encryption off) and sends it as the relay's `entry` frame, then
`live`. No auth, no hub, no
HTTP framework: plain `websockets`, accepting permessage-deflate with `--compression` (as
the relay's uvicorn does when the console offers it, which kenar-tui's link does).

    python -m bench.sqlite_ws_server --db timeline.sqlite3 --port 0   # prints url=ws://...
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
from functools import partial
from pathlib import Path

from websockets.asyncio.server import ServerConnection, serve

from bench.prefill import relay_sealer
from kenar_core.sealing import Sealer

BATCH = 500


async def _drained(ws: ServerConnection) -> None:
    """Wait while more than 1 MiB waits in the socket's write buffer (bounded memory)."""
    while ws.transport.get_write_buffer_size() > 1 << 20:  # noqa: ASYNC110 - polling a buffer
        await asyncio.sleep(0.001)


async def handler(db: str, sealer: Sealer, ws: ServerConnection) -> None:
    since = int(json.loads(await ws.recv()).get("since", 0))
    conn = sqlite3.connect(db)
    try:
        while True:
            rows = conn.execute(
                "SELECT seq, payload FROM entries WHERE seq > ? ORDER BY seq LIMIT ?",
                (since, BATCH),
            ).fetchall()
            # The whole batch framed at once and written in one go: the least a websocket
            # server can do per entry (websockets' sans-I/O protocol under its connection).
            for seq, payload in rows:
                ws.protocol.send_text(
                    f'{{"type":"entry","seq":{seq},"entry":{sealer.open(payload).decode()}}}'.encode()
                )
            ws.transport.writelines(ws.protocol.data_to_send())
            await asyncio.sleep(0)
            await _drained(ws)
            if len(rows) < BATCH:
                break
            since = rows[-1][0]
    finally:
        conn.close()
    await ws.send(f'{{"type":"live","seq":{since}}}')
    await ws.wait_closed()


async def main_async(db: str, host: str, port: int, encrypted: bool, deflate: bool) -> None:
    sealer = relay_sealer(Path(db).parent, encrypted)
    async with serve(
        partial(handler, db, sealer),
        host,
        port,
        max_size=None,
        compression="deflate" if deflate else None,
    ) as server:
        bound = next(iter(server.sockets)).getsockname()[1]
        print(f"url=ws://{host}:{bound}", flush=True)
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--plain", action="store_true", help="the store is not encrypted")
    parser.add_argument("--compression", action="store_true", help="accept permessage-deflate")
    args = parser.parse_args()
    asyncio.run(main_async(args.db, args.host, args.port, not args.plain, args.compression))


if __name__ == "__main__":
    main()
