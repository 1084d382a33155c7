"""The no-op endpoint: the relay's web server with nothing behind it, as the intake floor.

Exactly what it does per request: uvicorn, with the relay's settings (the same HTTP parser,
h11 or httptools when installed; one process; no access log; keep-alive 5 s; a listening
socket made with IPPROTO_TCP so TCP_NODELAY is set on accepted sockets) parses the
request and calls a bare ASGI app that reads the whole body (`receive()` until
`more_body` is false) and answers 200 with the 27-byte JSON `{"seq":0,"duplicate":false}`
(the relay's answer has the same shape). It does not check the Authorization header, parse
the JSON or store anything. `--starlette` puts Starlette's routing, `Request` and `Response`
in between (the floor of docs/performance.md before issue 20).

    python -m bench.noop_server --port 0 [--starlette]   # prints url=http://127.0.0.1:<port>
"""

from __future__ import annotations

import argparse
import asyncio
import socket
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

ANSWER = b'{"seq":0,"duplicate":false}'
_START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"application/json"), (b"content-length", b"27")],
}
_BODY = {"type": "http.response.body", "body": ANSWER}
_NOT_FOUND = {"type": "http.response.start", "status": 404, "headers": [(b"content-length", b"0")]}


async def bare_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A bare ASGI endpoint: POST /events reads the body and answers; anything else 404."""
    if scope["type"] != "http":
        return
    if scope["path"] != "/events" or scope["method"] != "POST":
        await send(_NOT_FOUND)
        await send({"type": "http.response.body", "body": b""})
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send(_START)
    await send(_BODY)


async def events(request: Request) -> Response:
    await request.body()
    return Response(ANSWER, media_type="application/json")


def build_starlette() -> Starlette:
    return Starlette(routes=[Route("/events", events, methods=["POST"])])


def bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


async def serve(host: str, port: int, *, starlette: bool = False) -> None:
    sock = bind(host, port)
    config = uvicorn.Config(
        build_starlette() if starlette else bare_app,
        lifespan="off",
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=False,
        timeout_keep_alive=5,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
            return
        await asyncio.sleep(0.01)
    print(f"url=http://{host}:{sock.getsockname()[1]}", flush=True)
    await task
    sock.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--starlette", action="store_true", help="the Starlette floor")
    args = parser.parse_args()
    asyncio.run(serve(args.host, args.port, starlette=args.starlette))


if __name__ == "__main__":
    main()
