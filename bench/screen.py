"""Webhook → drawn on the operator's screen: a real console process in a terminal.

A relay (`kenar-relay serve`) and a real console (bench/screen_console.py: `open_console`,
the CLI's wiring, on a pty of 120x40 that this process reads and discards) run as separate
processes. The console has one conversation open, its history focused. The load generator
(open loop, bench/loadgen.py) posts webhooks spread over CONVERSATIONS conversations, one
in five into the open one, each carrying its due time (time.time() clock) in its message id.
The console's draw log (kenar_tui/draw_log.py) stamps each of those messages right after
Textual has written the frame showing it to the terminal; **draw** latency is that stamp
minus the due time. **floor**: a bare websocket client (bench/e2e_clients.py) on the same
relay in the same cell, timing each frame's arrival: what the console adds is the difference.

Key presses: every KEY_GAP_S this process writes an arrow key (up, down, ...) to the
console's terminal and notes the time; the console's history moves its cursor and the draw
log stamps the frame showing it. **key** latency is that stamp minus the write. Measured
once with no load (the floor) and during the burst.

    python -m bench.screen [--smoke] [--seconds S] [--rate 100] [--burst-rate 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import json
import os
import pty
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import CLIENT_TOKEN, IDENTIFICATION_KEY, base_parser, percentile, report
from bench.e2e import collect, start_clients
from bench.events import event
from bench.loadgen import open_loop
from bench.procs import ROOT, relay_process

CONVERSATIONS = 50
OPEN_EVERY = 5  # one event in five goes to the open conversation
SIZE = (120, 40)
KEY_GAP_S = 0.1
KEYS = ("\x1b[A", "\x1b[B")  # up, down: the history's cursor moves and is drawn
MARK = "e2e-"  # bench/e2e_clients.py reads the due time after it, the draw log keys on it


def cid(n: int) -> str:
    return f"00000000-0000-4000-9000-{n:012d}"


class Bodies:
    """Webhook bodies with the message id and the conversation id swapped in."""

    ID, CONV = "MESSAGE-ID-MARK", "00000000-0000-4000-9000-conversation"

    def __init__(self) -> None:
        text = json.dumps(
            event(self.ID, conversation_id=self.CONV), ensure_ascii=False, separators=(",", ":")
        )
        self.text = text

    def body(self, message_id: str, conversation_id: str) -> bytes:
        return self.text.replace(self.ID, message_id).replace(self.CONV, conversation_id).encode()


def conversation_of(i: int) -> str:
    """Event i's conversation: the open one (0) for one in OPEN_EVERY, else one of the rest."""
    return cid(0) if i % OPEN_EVERY == 0 else cid(1 + i % (CONVERSATIONS - 1))


async def post(
    url: str, rate: float, seconds: float, *, prefix: str = MARK, seed: bool = False
) -> int:
    """Webhooks at `rate` for `seconds`; `seed`: one per conversation, none marked."""
    bodies = Bodies()
    where = (lambda i: cid(i % CONVERSATIONS)) if seed else conversation_of
    result = await open_loop(
        [url],
        rate=rate,
        seconds=seconds,
        key=IDENTIFICATION_KEY,
        connections=32,
        body=lambda i, due: bodies.body(f"{prefix}{int(due * 1e9)}-{i}", where(i)),
    )
    if result.errors:
        raise RuntimeError(f"{result.errors} webhooks were refused")
    return result.ok


class Terminal:
    """A pty the console runs on: its output read and discarded, keys written with their time."""

    def __init__(self) -> None:
        self.master, self.slave = pty.openpty()
        winsize = struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0)
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, winsize)
        self.drained = 0
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.drained += len(chunk)

    def press(self, keys: str) -> int:
        sent = time.time_ns()
        os.write(self.master, keys.encode())
        return sent

    def close(self) -> None:
        os.close(self.master)


def spawn_console(
    terminal: Terminal, relay_url: str, data: Path, log: Path, opened: str, *extra: str
) -> subprocess.Popen[bytes]:
    """`bench.screen_console` on `terminal`'s pty, reporting marked messages into `log`."""
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "COLUMNS": str(SIZE[0]),
        "LINES": str(SIZE[1]),
        "KENAR_TUI_DRAW_LOG": str(log),
        "KENAR_TUI_DRAW_MARK": MARK,
    }
    argv = [sys.executable, "-m", "bench.screen_console", "--relay", relay_url]
    argv += ["--token", CLIENT_TOKEN, "--data-dir", str(data), "--open", opened, *extra]
    proc = subprocess.Popen(
        argv,
        cwd=ROOT,
        env=env,
        stdin=terminal.slave,
        stdout=terminal.slave,
        stderr=terminal.slave,
        start_new_session=True,
    )
    os.close(terminal.slave)
    return proc


def stop_console(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def console_process(
    relay_url: str, tmp: Path, log: Path, profile: Path | None = None
) -> Iterator[Terminal]:
    terminal = Terminal()
    ready = tmp / "console-ready"
    data = tmp / "console"
    data.mkdir()
    extra = ["--ready", str(ready)]
    if profile is not None:
        extra += ["--profile", str(profile)]
    proc = spawn_console(terminal, relay_url, data, log, cid(0), *extra)
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the console did not start; see {data / 'console.log'}")
            time.sleep(0.05)
        yield terminal
    finally:
        stop_console(proc)
        terminal.close()


def read_log(log: Path) -> tuple[dict[str, int], list[int]]:
    draws: dict[str, int] = {}
    keys: list[int] = []
    if log.exists():
        for line in log.read_text(encoding="ascii").splitlines():
            kind, *rest = line.split()
            if kind == "draw":
                draws[rest[0]] = int(rest[1])
            elif kind == "key":
                keys.append(int(rest[0]))
    return draws, keys


def press_keys(terminal: Terminal, stop: threading.Event, sent: list[int]) -> None:
    """Arrow keys every KEY_GAP_S until `stop`, noting when each was written."""
    k = 0
    while not stop.wait(KEY_GAP_S):
        sent.append(terminal.press(KEYS[k % 2]))
        k += 1


def key_latencies(sent: list[int], log: Path, before: int) -> tuple[list[float], int]:
    """Press i is answered by the (before + i)-th key stamp; waits up to 2 s for the last."""
    deadline = time.monotonic() + 2
    while True:
        _, stamps = read_log(log)
        answered = stamps[before : before + len(sent)]
        if len(answered) >= len(sent) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    return [(a - s) / 1e6 for s, a in zip(sent, answered, strict=False)], len(answered)


def cell(
    name: str,
    relay_url: str,
    terminal: Terminal,
    log: Path,
    rate: float,
    seconds: float,
    tmp: Path,
) -> dict[str, Any]:
    total = int(rate * seconds)
    expected = {i for i in range(total) if i % OPEN_EVERY == 0}
    floor = start_clients(
        [relay_url.replace("http", "ws", 1) + "/ws"], 1, total, 1, tmp, CLIENT_TOKEN, deflate=False
    )
    _, keys_before = read_log(log)
    stop, sent = threading.Event(), list[int]()
    presser = threading.Thread(target=press_keys, args=(terminal, stop, sent), daemon=True)
    presser.start()
    posted = asyncio.run(post(relay_url, rate, seconds))
    stop.set()
    presser.join()
    arrivals, received = collect(floor)
    deadline = time.monotonic() + 10
    while True:
        draws, _ = read_log(log)
        drawn = {int(m.rsplit("-", 1)[1]): t for m, t in draws.items() if m.startswith(MARK)}
        if expected <= set(drawn) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    latencies = [
        (t - int(m[len(MARK) :].split("-", 1)[0])) / 1e6
        for m, t in draws.items()
        if int(m.rsplit("-", 1)[1]) in expected
    ]
    keys, answered = key_latencies(sent, log, len(keys_before))
    return {
        "cell": name,
        "events_per_s": rate,
        "events": posted,
        "floor_p50_ms": percentile(arrivals, 50),
        "floor_p99_ms": percentile(arrivals, 99),
        "draw_p50_ms": percentile(latencies, 50),
        "draw_p99_ms": percentile(latencies, 99),
        "draw_max_ms": max(latencies, default=float("nan")),
        "drawn": len(expected & set(drawn)) / len(expected) if expected else 0.0,
        "floor_delivered": received / posted if posted else 0.0,
        "key_p50_ms": percentile(keys, 50),
        "key_p99_ms": percentile(keys, 99),
        "keys_answered": f"{answered}/{len(sent)}",
    }


def idle_keys(terminal: Terminal, log: Path, seconds: float) -> dict[str, Any]:
    _, before = read_log(log)
    stop, sent = threading.Event(), list[int]()
    presser = threading.Thread(target=press_keys, args=(terminal, stop, sent), daemon=True)
    presser.start()
    time.sleep(seconds)
    stop.set()
    presser.join()
    keys, answered = key_latencies(sent, log, len(before))
    nan = float("nan")
    return {
        "cell": "idle (key floor)",
        "events_per_s": 0.0,
        "events": 0,
        "floor_p50_ms": nan,
        "floor_p99_ms": nan,
        "draw_p50_ms": nan,
        "draw_p99_ms": nan,
        "draw_max_ms": nan,
        "drawn": nan,
        "floor_delivered": nan,
        "key_p50_ms": percentile(keys, 50),
        "key_p99_ms": percentile(keys, 99),
        "keys_answered": f"{answered}/{len(sent)}",
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=None, help="the steady cell's length")
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--burst-rate", type=float, default=1000.0)
    parser.add_argument("--burst-seconds", type=float, default=None)
    parser.add_argument(
        "--profile", type=Path, default=None, help="write the console's cProfile stats here"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    seconds = args.seconds or (2.0 if args.smoke else 30.0)
    burst_seconds = args.burst_seconds or (1.0 if args.smoke else 5.0)
    rows = []
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-screen-")))
        relay = stack.enter_context(relay_process(tmp / "relay"))
        # Every conversation exists before the console starts (its first screen lists them).
        asyncio.run(post(relay.url, 500.0, CONVERSATIONS / 500, prefix="seed-", seed=True))
        log = tmp / "draws.log"
        terminal = stack.enter_context(console_process(relay.url, tmp, log, args.profile))
        rows.append(idle_keys(terminal, log, 1.0 if args.smoke else 3.0))
        rows.append(cell("steady", relay.url, terminal, log, args.rate, seconds, tmp))
        rows.append(cell("burst", relay.url, terminal, log, args.burst_rate, burst_seconds, tmp))
    notes = {
        "terminal": f"{SIZE[0]}x{SIZE[1]} pty",
        "conversations": CONVERSATIONS,
        "open_conversation_share": f"1/{OPEN_EVERY}",
        "draw": "webhook due time -> frame holding the message written to the terminal, "
        "for every message of the open conversation",
        "floor": "webhook due time -> arrival at a bare websocket client on the same relay",
        "key": "arrow key written to the pty -> frame showing the moved cursor written",
    }
    report("screen", rows, args=args, notes=notes, started=started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
