"""An open-loop, rate-limited HTTP load generator on raw asyncio streams (wrk2 is not packaged).

Request i is due at `t0 + i / rate` whether or not earlier answers came back (open loop), and
its latency is counted from that due time, not from when it was written, so a stalled server
is not hidden by a stalled generator ("coordinated omission"). Requests go out over a pool
of keep-alive connections per URL, round-robin over the URLs; a request waits for a free
connection, and that wait counts in its latency too. The generator's own limit is measured
in the same run against the no-op endpoint (bench/intake.py): if it keeps up there, it is
not the bottleneck against the relay.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bench.common import percentile

# body(i, due): the bytes of request i, due at `due` on the time.time() clock.
Body = Callable[[int, float], bytes]


@dataclass(slots=True)
class LoadResult:
    sent: int = 0
    ok: int = 0
    errors: int = 0
    seconds: float = 0.0
    # Worst lateness of the generator itself: how long after its due time a request was
    # written (waiting for a free connection included).
    worst_dispatch_lag_ms: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def p(self, q: float) -> float:
        return percentile(self.latencies_ms, q)


class _Pool:
    def __init__(self, url: str, path: str, key: str, size: int) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.size = size
        self.idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.Queue()
        )
        self.all: list[asyncio.StreamWriter] = []
        self.head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Authorization: {key}\r\nContent-Type: application/json\r\n"
        ).encode()

    async def open(self) -> None:
        for _ in range(self.size):
            reader, writer = await asyncio.open_connection(self.host, self.port)
            self.all.append(writer)
            self.idle.put_nowait((reader, writer))

    async def reopen(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        self.all.append(writer)
        return reader, writer

    async def close(self) -> None:
        for writer in self.all:
            writer.close()
        for writer in self.all:
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes, body: bytes
) -> int:
    writer.write(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
    header = await reader.readuntil(b"\r\n\r\n")
    status = int(header[9:12])
    length = 0
    for line in header.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


async def open_loop(
    urls: list[str],
    *,
    rate: float,
    seconds: float,
    body: Body,
    key: str,
    path: str = "/events",
    connections: int = 64,
) -> LoadResult:
    """Send `rate * seconds` requests at `rate`/s; `body(i, due)` is called right before
    writing request i, with its due time on the time.time() clock."""
    pools = [_Pool(u, path, key, max(1, connections // len(urls))) for u in urls]
    for pool in pools:
        await pool.open()
    result = LoadResult()
    total = int(rate * seconds)
    tasks: set[asyncio.Task[None]] = set()

    async def one(i: int, due: float) -> None:
        pool = pools[i % len(pools)]
        reader, writer = await pool.idle.get()
        lag = time.perf_counter() - due
        result.worst_dispatch_lag_ms = max(result.worst_dispatch_lag_ms, lag * 1000)
        try:
            status = await _exchange(reader, writer, pool.head, body(i, wall + (due - start)))
        except (OSError, asyncio.IncompleteReadError, ValueError):
            result.errors += 1
            writer.close()
            try:
                reader, writer = await pool.reopen()
            except OSError:
                return
        else:
            if 200 <= status < 300:
                result.ok += 1
                result.latencies_ms.append((time.perf_counter() - due) * 1000)
            else:
                result.errors += 1
        pool.idle.put_nowait((reader, writer))

    start, wall = time.perf_counter(), time.time()
    i = 0
    while i < total:
        now = time.perf_counter()
        while i < total and start + i / rate <= now:
            task = asyncio.create_task(one(i, start + i / rate))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            result.sent += 1
            i += 1
        if i < total:
            await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
    if tasks:
        await asyncio.wait(tasks, timeout=30)
    result.seconds = time.perf_counter() - start
    for pool in pools:
        await pool.close()
    return result
