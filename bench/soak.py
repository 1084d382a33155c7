"""Soak: the relay under steady load and faults, then a count of what every console kept.

    python -m bench.soak                      10 minutes, SQLite store (docs/performance.md)
    python -m bench.soak --store redis        the same on Redis, a Redis replica killed too
    python -m bench.soak --short              the CI size (tests/bench/test_soak.py)

What runs: a real `kenar-relay serve` child on a fixed loopback port; events posted at
`--rate` per second (each retried with the same message id until a 2xx, as Divar does);
`--consoles` consoles, each a real RelayLink feeding a real console Cache (SQLite,
synchronous=FULL), connecting and leaving at random and sending presence; one console that
sends `hello` and never reads; a kill -9 of the relay every `--kill-every` seconds (restarted
on the same port at once); with Redis, a kill -9 of the Redis replica as well.

At the end every console reconnects and catches up, then: every acknowledged event (answered
2xx) must be in every console's cache exactly once; relay memory after warm-up must stay flat
(per relay lifetime, RSS at the end minus RSS after warm-up, under `--rss-slack-mib`); the relay's
log must hold no ERROR line. Exit status 0 only when all three hold.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

from bench.common import CLIENT_TOKEN, IDENTIFICATION_KEY, rss_kib
from bench.procs import SHARED_KEYS, free_port
from kenar_core.lifecycle import stop_task
from kenar_core.protocol import HelloFrame
from kenar_tui.link.events import LinkEntry
from kenar_tui.link.relay_link import RelayLink
from kenar_tui.store.cache import Cache

ROOT = Path(__file__).resolve().parent.parent
# Seconds after a relay (re)start before its memory counts as that lifetime's baseline.
WARM_UP = {"seconds": 20.0}


@dataclass
class Figures:
    posted: int = 0
    acknowledged: dict[str, int] = field(default_factory=dict)  # message id -> seq
    answers_503: int = 0
    connection_errors: int = 0
    kills: int = 0
    replica_kills: int = 0
    connects: int = 0
    rss: list[tuple[int, int, int]] = field(default_factory=list)  # lifetime, base, end KiB


class Relay:
    """The relay child on a fixed port, restarted after each kill -9; stderr to one log file."""

    def __init__(self, data_dir: Path, port: int, log: Path, store: str | None) -> None:
        self.data_dir, self.port, self.log, self.store = data_dir, port, log, store
        self.proc: subprocess.Popen[bytes] | None = None
        self.started = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        argv = [sys.executable, "-m", "relay", "serve", "--port", str(self.port)]
        argv += ["--data-dir", str(self.data_dir), "--log-level", "info"]
        env = {
            **os.environ,
            "KENAR_RELAY_IDENTIFICATION_KEY": IDENTIFICATION_KEY,
            "KENAR_RELAY_CLIENT_TOKEN": CLIENT_TOKEN,
            "PYTHONUNBUFFERED": "1",
        }
        if self.store is not None:
            argv += ["--store", self.store]
            env.update(SHARED_KEYS)
        with self.log.open("ab") as err:
            self.proc = subprocess.Popen(
                argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err
            )
        self.started = time.monotonic()

    async def ready(self, http: httpx.AsyncClient) -> None:
        async with asyncio.timeout(30):
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(self.url + "/healthz")).status_code == 200:
                        return
                await asyncio.sleep(0.1)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=12)
            except subprocess.TimeoutExpired:
                self.kill()

    def rss(self) -> int:
        return rss_kib(self.proc.pid).get("VmRSS", 0) if self.proc is not None else 0


def message_event(message_id: str, n: int) -> dict[str, Any]:
    return {
        "type": "NEW_MESSAGE",
        "new_message": {
            "id": message_id,
            "conversation": {"id": f"conv-{n % 50}", "type": "POST", "post_token": "gZd7omnS"},
            "sender": {"side": "BUYER", "type": "HUMAN"},
            "type": "TEXT",
            "sent_at": 1729429926140000,
            "text": f"سلام {n}",
        },
    }


async def post_until_stored(
    http: httpx.AsyncClient, relay: Relay, figures: Figures, n: int, stop: asyncio.Event
) -> None:
    """One event, retried with the same id until a 2xx (Divar's retries), or the end."""
    message_id = str(uuid.uuid4())
    body = json.dumps(message_event(message_id, n)).encode()
    headers = {"Authorization": IDENTIFICATION_KEY, "Content-Type": "application/json"}
    figures.posted += 1
    while not stop.is_set():
        try:
            answer = await http.post(relay.url + "/events", content=body, headers=headers)
        except httpx.HTTPError:
            figures.connection_errors += 1
        else:
            if answer.status_code == 200:
                figures.acknowledged[message_id] = int(answer.json()["seq"])
                return
            figures.answers_503 += 1
        await asyncio.sleep(0.5)


async def load(
    http: httpx.AsyncClient, relay: Relay, figures: Figures, rate: float, until: float
) -> None:
    stop = asyncio.Event()
    tasks: set[asyncio.Task[None]] = set()
    n = 0
    started = time.monotonic()
    while time.monotonic() < until:
        n += 1
        task = asyncio.create_task(post_until_stored(http, relay, figures, n, stop))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
    # Let retries in flight finish (a restart takes seconds), then stop the rest.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(30):
            while tasks:
                await asyncio.wait(set(tasks))
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)


class SoakConsole:
    """A console: RelayLink into a Cache on disk, visiting and leaving at random."""

    def __init__(self, index: int, folder: Path, ws_url: str, token: str) -> None:
        self.index = index
        self.token = token
        self.cache = Cache(folder / f"console-{index}.sqlite3")
        self.ws_url = ws_url
        self.pending: list[LinkEntry] = []

    def flush(self) -> None:
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        with self.cache.transaction():
            for event in batch:
                self.cache.put_entry(event.seq, event.entry, datetime.now(UTC))
            self.cache.set_last_seq(max(self.cache.last_seq, batch[-1].seq))

    async def visit(self, seconds: float) -> None:
        link = RelayLink(
            self.ws_url,
            self.token,
            since=lambda: self.cache.last_seq,
            backoff_base=0.2,
            backoff_cap=2.0,
        )
        async with link:
            reader = asyncio.create_task(self._read(link))
            try:
                end = time.monotonic() + seconds
                while time.monotonic() < end:
                    await asyncio.sleep(min(1.0, max(0.0, end - time.monotonic())))
                    self.flush()
                    if link.online and random.random() < 0.3:
                        state = random.choice(("viewing", "replying", "idle"))
                        with contextlib.suppress(Exception):
                            await link.presence(f"conv-{random.randrange(50)}", state)
            finally:
                await stop_task(reader)
                self.flush()

    async def _read(self, link: RelayLink) -> None:
        async for event in link.events():
            if isinstance(event, LinkEntry):
                self.pending.append(event)

    async def churn(self, until: float, figures: Figures) -> None:
        while time.monotonic() < until:
            figures.connects += 1
            await self.visit(min(random.uniform(3, 25), max(0.5, until - time.monotonic())))
            await asyncio.sleep(random.uniform(0.2, 3))

    async def catch_up(self, head: int, within: float) -> None:
        """Connect until the cache holds everything up to `head`."""
        deadline = time.monotonic() + within
        while self.cache.last_seq < head and time.monotonic() < deadline:
            await self.visit(min(5.0, deadline - time.monotonic()))

    def message_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for (seq,) in self.cache.db.execute("SELECT seq FROM entries").fetchall():
            entry = self.cache.entry(int(seq)) or {}
            raw = entry.get("raw") or {}
            mid = (raw.get("new_message") or {}).get("id") if isinstance(raw, dict) else None
            if isinstance(mid, str):
                counts[mid] = counts.get(mid, 0) + 1
        return counts


def create_token(data_dir: Path, name: str) -> str:
    """A console token of its own for `name` (`kenar-relay token create`), as teammates have."""
    done = subprocess.run(
        [sys.executable, "-m", "relay", "token", "create", name, "--data-dir", str(data_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.split()[0]


async def never_reads(ws_url: str, token: str, until: float) -> None:
    """A console that says hello from 0 and never reads a frame; reconnects when cut off."""
    while time.monotonic() < until:
        with contextlib.suppress(Exception):
            async with connect(
                ws_url,
                additional_headers={"Authorization": f"Bearer {token}"},
                max_queue=1,
            ) as ws:
                await ws.send(HelloFrame(since=0).json_text())
                await asyncio.wait_for(ws.wait_closed(), timeout=max(0.1, until - time.monotonic()))
        await asyncio.sleep(1.0)


async def faults(relay: Relay, replica: Any, figures: Figures, every: float, until: float) -> None:
    while time.monotonic() + every < until:
        await asyncio.sleep(every)
        figures.rss.append((figures.kills, *_rss_window(relay)))
        relay.kill()
        figures.kills += 1
        relay.start()
        if replica is not None:
            replica.kill()
            figures.replica_kills += 1
            replica.start()


_baselines: dict[int, int] = {}


async def sample_memory(relay: Relay, until: float) -> None:
    while time.monotonic() < until:
        await asyncio.sleep(1.0)
        pid = relay.proc.pid if relay.proc is not None else 0
        if pid and pid not in _baselines and time.monotonic() - relay.started >= WARM_UP["seconds"]:
            _baselines[pid] = relay.rss()


def _rss_window(relay: Relay) -> tuple[int, int]:
    pid = relay.proc.pid if relay.proc is not None else 0
    return _baselines.get(pid, 0), relay.rss()


class RedisPair:
    """A redis-server primary (AOF, appendfsync always) and one replica of it."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit("redis-server is not installed (Debian package redis-server)")
        self.binary = binary
        self.folder = folder
        self.primary_port, self.replica_port = free_port(), free_port()
        self.primary: subprocess.Popen[bytes] | None = None
        self.replica_proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.primary_port}/0"

    def _run(self, port: int, name: str, *extra: str) -> subprocess.Popen[bytes]:
        folder = self.folder / name
        folder.mkdir(exist_ok=True)
        argv = [self.binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder)]
        argv += ["--save", "", "--appendonly", "yes", "--appendfsync", "always", *extra]
        return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def __enter__(self) -> RedisPair:
        self.primary = self._run(self.primary_port, "primary")
        self.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            done = subprocess.run(
                ["redis-cli", "-p", str(self.primary_port), "ping"],
                capture_output=True,
                check=False,
            )
            if b"PONG" in done.stdout:
                return self
            time.sleep(0.1)
        raise SystemExit("redis-server did not start")

    def start(self) -> None:
        replica_of = ("--replicaof", "127.0.0.1", str(self.primary_port))
        self.replica_proc = self._run(self.replica_port, "replica", *replica_of)

    def kill(self) -> None:
        if self.replica_proc is not None and self.replica_proc.poll() is None:
            self.replica_proc.send_signal(signal.SIGKILL)
            self.replica_proc.wait()

    def __exit__(self, *exc: object) -> None:
        self.kill()
        if self.primary is not None:
            self.primary.terminate()
            self.primary.wait()


async def soak(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    figures = Figures()
    port = free_port()
    log = folder / "relay.log"
    with contextlib.ExitStack() as stack:
        replica = stack.enter_context(RedisPair(folder)) if args.store == "redis" else None
        relay = Relay(folder / "relay-data", port, log, replica.url if replica else None)
        tokens = [create_token(relay.data_dir, f"operator-{i}") for i in range(args.consoles + 1)]
        relay.start()
        stack.callback(relay.stop)
        limits = httpx.Limits(max_connections=200)
        async with httpx.AsyncClient(timeout=10.0, trust_env=False, limits=limits) as http:
            await relay.ready(http)
            until = time.monotonic() + args.seconds
            ws_url = f"ws://127.0.0.1:{port}/ws"
            consoles = [SoakConsole(i, folder, ws_url, tokens[i]) for i in range(args.consoles)]
            jobs = [
                load(http, relay, figures, args.rate, until),
                faults(relay, replica, figures, args.kill_every, until),
                sample_memory(relay, until),
                never_reads(ws_url, tokens[-1], until),
                *(console.churn(until, figures) for console in consoles),
            ]
            await asyncio.gather(*jobs)
            figures.rss.append((figures.kills, *_rss_window(relay)))
            await relay.ready(http)
            head = max(figures.acknowledged.values(), default=0)
            await asyncio.gather(*(console.catch_up(head, 120) for console in consoles))
        losses = doubles = 0
        for console in consoles:
            counts = console.message_counts()
            losses += sum(1 for mid in figures.acknowledged if counts.get(mid, 0) == 0)
            doubles += sum(1 for mid in figures.acknowledged if counts.get(mid, 0) > 1)
            console.cache.close()
    errors = [line for line in log.read_text(errors="replace").splitlines() if " ERROR " in line]
    lifetimes = [(base, end) for _, base, end in figures.rss if base]
    growth = max((end - base for base, end in lifetimes), default=0)
    return {
        "store": args.store,
        "seconds": args.seconds,
        "rate": args.rate,
        "events_posted": figures.posted,
        "events_acknowledged": len(figures.acknowledged),
        "consoles": args.consoles + 1,
        "console_connects": figures.connects,
        "relay_kills": figures.kills,
        "replica_kills": figures.replica_kills,
        "answers_503": figures.answers_503,
        "connection_errors": figures.connection_errors,
        "losses": losses,
        "doubles": doubles,
        "rss_start_mib": round(lifetimes[0][0] / 1024, 1) if lifetimes else 0,
        "rss_end_mib": round(lifetimes[-1][1] / 1024, 1) if lifetimes else 0,
        "rss_growth_max_mib": round(growth / 1024, 1),
        "rss_lifetimes_mib": [[round(b / 1024, 1), round(e / 1024, 1)] for b, e in lifetimes],
        "error_lines": errors[:5],
        "memory_lifetimes_measured": len(lifetimes),
        "ok": losses == 0
        and doubles == 0
        and not errors
        and bool(lifetimes)
        and growth <= args.rss_slack_mib * 1024,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=("sqlite", "redis"), default="sqlite")
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--consoles", type=int, default=20)
    parser.add_argument("--kill-every", type=float, default=120)
    parser.add_argument("--rss-slack-mib", type=float, default=40)
    parser.add_argument("--short", action="store_true", help="the CI size: 30 s, 5 consoles")
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    if args.short:
        args.seconds, args.rate, args.consoles, args.kill_every = 30, 40, 5, 12
        WARM_UP["seconds"] = 5.0
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="kenar-soak-") as tmp:
        figures = asyncio.run(soak(args, Path(tmp)))
    text = json.dumps(figures, indent=2, ensure_ascii=False)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0 if figures["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
