"""The catch-up floor: a bare loop from a SQLite file to a websocket, nothing else.

On a console's `hello` it reads `entries` after `since` in batches of 500 (the relay's batch
size) and sends each row as the relay's `entry` frame, then `live`. No auth, no hub, no
HTTP framework: plain `websockets` with its defaults (permessage-deflate offered, like
the relay's uvicorn).

    python -m bench.sqlite_ws_server --db timeline.sqlite3 --port 0   # prints url=ws://...
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
from functools import partial

from websockets.asyncio.server import ServerConnection, serve

BATCH = 500


async def handler(db: str, ws: ServerConnection) -> None:
    since = int(json.loads(await ws.recv()).get("since", 0))
    conn = sqlite3.connect(db)
    try:
        while True:
            rows = conn.execute(
                "SELECT seq, payload FROM entries WHERE seq > ? ORDER BY seq LIMIT ?",
                (since, BATCH),
            ).fetchall()
            for seq, payload in rows:
                await ws.send(f'{{"type":"entry","seq":{seq},"entry":{payload.decode()}}}')
            if len(rows) < BATCH:
                break
            since = rows[-1][0]
    finally:
        conn.close()
    await ws.send(f'{{"type":"live","seq":{since}}}')
    await ws.wait_closed()


async def main_async(db: str, host: str, port: int) -> None:
    async with serve(partial(handler, db), host, port, max_size=None) as server:
        bound = next(iter(server.sockets)).getsockname()[1]
        print(f"url=ws://{host}:{bound}", flush=True)
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(main_async(args.db, args.host, args.port))


if __name__ == "__main__":
    main()
