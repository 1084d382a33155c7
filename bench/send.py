"""The Kenar client's send path against the sandbox: sends/s at concurrency 1 and 16, and how
many TCP connections the sandbox accepted for them.

`KenarClient.send_message` (pydantic body, headers, retry policy, response parsing) is
measured beside a floor in the same run: a bare `httpx.AsyncClient.post` of the same bytes
with the same headers to the same sandbox. The sandbox runs in this process (one event loop
for both sides), so the absolute numbers include its own validation and recording; the
ratio is what compares. Connections are counted at the sandbox's uvicorn: its set of open
connections is swapped for one that counts every connection added to it.

    python -m bench.send [--smoke] [--sends N]
"""

from __future__ import annotations

import asyncio
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench.common import SAMPLE_TEXT, base_parser, ratio, report
from kenar_api.bodies import SendMessageBody
from kenar_api.client import SEND_MESSAGE_PATH, KenarClient
from kenar_api.headers import auth_headers
from kenar_tui.sandbox import Sandbox

POST_TOKEN = "gZd7omnS"
REPLY = "بله، هنوز موجود است. برای بازدید چه ساعتی مناسب است؟"


class CountingSet(set[Any]):
    """uvicorn's `server_state.connections`, counting every connection ever added."""

    opened = 0

    def add(self, item: Any) -> None:
        CountingSet.opened += 1
        super().add(item)


def count_connections(sandbox: Sandbox) -> None:
    server = getattr(sandbox, "_server", None)
    state = getattr(server, "server_state", None)
    if state is None:
        raise RuntimeError("cannot reach the sandbox's uvicorn server state to count connections")
    state.connections = CountingSet(state.connections)


async def bare_post(
    bare: httpx.AsyncClient, url: str, wire: dict[str, Any], headers: dict[str, str]
) -> None:
    (await bare.post(url, json=wire, headers=headers)).raise_for_status()


async def drive(concurrency: int, sends: int, one: Any) -> float:
    """Seconds to make `sends` calls of `one()` from `concurrency` workers."""
    left = [sends]

    async def worker() -> None:
        while left[0] > 0:
            left[0] -= 1
            await one()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - start


async def run(levels: list[int], sends: int) -> list[dict[str, Any]]:
    rows = []
    async with Sandbox(seed=8) as sandbox:
        count_connections(sandbox)
        control = sandbox.control
        token = (await control.issue_token([f"CHAT_POST_CONVERSATIONS_MESSAGE_SEND.{POST_TOKEN}"]))[
            "access_token"
        ]
        opened = await control.inject_message(post_token=POST_TOKEN, text=SAMPLE_TEXT)
        conversation = opened["conversation_id"]
        body = SendMessageBody(message=REPLY)
        for c in levels:
            # A fresh client per level, so its pool starts empty and its connections show.
            before = CountingSet.opened
            async with KenarClient(
                sandbox.api_key, api_base=sandbox.base_url, oauth_base=sandbox.base_url
            ) as kenar:
                seconds = await drive(
                    c, sends, lambda: kenar.send_message(conversation, body, access_token=token)
                )
            client_conns = CountingSet.opened - before
            before = CountingSet.opened
            url = sandbox.base_url + SEND_MESSAGE_PATH.format(id=conversation)
            headers = auth_headers(sandbox.api_key, token)
            wire = body.wire()
            async with httpx.AsyncClient(
                limits=httpx.Limits(max_connections=10, max_keepalive_connections=10)
            ) as bare:
                bare_seconds = await drive(c, sends, partial(bare_post, bare, url, wire, headers))
            rows.append(
                {
                    "concurrency": c,
                    "client_sends_per_s": sends / seconds,
                    "bare_httpx_per_s": sends / bare_seconds,
                    "ratio": ratio(sends / seconds, sends / bare_seconds),
                    "client_connections": client_conns,
                    "bare_connections": CountingSet.opened - before,
                    "sends": sends,
                }
            )
        await control.clear()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=None)
    args = parser.parse_args(argv)
    started = time.monotonic()
    sends = args.sends or (50 if args.smoke else 2000)
    rows = asyncio.run(run([1, 16], sends))
    notes = {
        "connections": "TCP connections the sandbox accepted during the level; the client's "
        "pool allows 10, so 1 at concurrency 1 and <= 10 at 16 means reuse",
    }
    report("send", rows, args=args, notes=notes, started=started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
