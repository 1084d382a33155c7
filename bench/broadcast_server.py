"""The end-to-end floor: a bare `websockets` broadcast server, no HTTP routes, no storage.

A connection whose first frame is `{"type":"publish"}` is the load generator: every later
frame it sends is broadcast as it is (`websockets.broadcast`) to every console. Any other
connection is a console: its first frame (the protocol's `hello`) is answered with
`welcome` and `live`, like the relay does, and then it only receives.

    python -m bench.broadcast_server --port 0     # prints url=ws://127.0.0.1:<port>
"""

from __future__ import annotations

import argparse
import asyncio
import json

from websockets.asyncio.server import ServerConnection, broadcast, serve

CONSOLES: set[ServerConnection] = set()


async def handler(ws: ServerConnection) -> None:
    first = json.loads(await ws.recv())
    if first.get("type") == "publish":
        async for frame in ws:
            broadcast(CONSOLES, frame)
        return
    await ws.send('{"type":"welcome","head":0,"oldest":0,"relay":"floor","operator":"bench"}')
    await ws.send('{"type":"live","seq":0}')
    CONSOLES.add(ws)
    try:
        await ws.wait_closed()
    finally:
        CONSOLES.discard(ws)


async def main_async(host: str, port: int, compression: bool) -> None:
    async with serve(
        handler, host, port, compression="deflate" if compression else None, max_size=None
    ) as server:
        bound = next(iter(server.sockets)).getsockname()[1]
        print(f"url=ws://{host}:{bound}", flush=True)
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--compression",
        action="store_true",
        help="accept permessage-deflate when offered (as the relay does)",
    )
    args = parser.parse_args()
    asyncio.run(main_async(args.host, args.port, args.compression))


if __name__ == "__main__":
    main()
