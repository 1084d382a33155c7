"""Profile the relay under load with py-spy, and summarise where its time goes.

Starts a relay process (or takes `--pid`), applies a load, records it with
`py-spy record --format raw` (collapsed stacks, one sample per line with its count) and
prints the functions with the most samples: by self time (the frame on top of the stack)
and inclusive (anywhere on the stack). The raw file stays in bench/results/ for a flame graph.

    python -m bench.profile intake   [--seconds S] [--concurrency C]   # wrk on /events
    python -m bench.profile e2e      [--seconds S] [--consoles N] [--rate R]
    python -m bench.profile catchup  [--entries N]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import CLIENT_TOKEN, RESULTS_DIR
from bench.procs import ServerProcess, relay_process


def summarise(raw: Path, top: int = 25) -> str:
    """Self and inclusive sample shares per function from py-spy's collapsed stacks."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = [
            f.split(" (")[0] + " (" + f.split(" (")[1].split(":")[0].split("/")[-1]
            if " (" in f
            else f
            for f in stack.split(";")
        ]
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    lines = [f"{total} samples", "", "self%  function"]
    lines += [f"{100 * n / total:5.1f}  {name}" for name, n in own.most_common(top)]
    lines += ["", "incl%  function"]
    lines += [f"{100 * n / total:5.1f}  {name}" for name, n in inclusive.most_common(top)]
    return "\n".join(lines)


def record(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes]:
    spy = shutil.which("py-spy")
    if spy is None:
        raise RuntimeError("py-spy is not installed: pip install py-spy")
    argv = [
        spy,
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(round(seconds)),
        "--rate",
        "250",
        "--format",
        "raw",
        "--output",
        str(out),
        "--nonblocking",
        "--threads",
    ]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["intake", "e2e", "catchup"])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--consoles", type=int, default=10)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--entries", type=int, default=100_000)
    args = parser.parse_args(argv)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    raw = RESULTS_DIR / f"profile-{args.what}.txt"
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        data = Path(tmp)
        if args.what == "catchup":
            from bench.prefill import prefill

            prefill(data / "timeline.sqlite3", args.entries)
        with relay_process(data) as relay:
            _load(args, relay, raw)
    text = summarise(raw)
    (RESULTS_DIR / f"profile-{args.what}-summary.txt").write_text(text + "\n")
    print(text)
    return 0


def _load(args: argparse.Namespace, relay: ServerProcess, raw: Path) -> None:
    if args.what == "intake":
        from bench.wrkrun import run_wrk

        run_wrk([relay.url], connections=4, seconds=1)
        spy = record(relay.pid, args.seconds, raw)
        time.sleep(0.5)
        run_wrk([relay.url], connections=args.concurrency, seconds=args.seconds)
    elif args.what == "e2e":
        from bench.e2e import collect, post_webhooks, start_clients

        tmp = Path(tempfile.mkdtemp(prefix="bench-profile-e2e-"))
        ws = relay.url.replace("http", "ws", 1) + "/ws"
        clients = start_clients(
            [ws], args.consoles, int(args.rate * args.seconds), 2, tmp, CLIENT_TOKEN
        )
        spy = record(relay.pid, args.seconds, raw)
        asyncio.run(post_webhooks([relay.url], args.rate, args.seconds))
        collect(clients)
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        from bench.catchup import resume

        spy = record(relay.pid, args.seconds, raw)
        time.sleep(0.5)
        asyncio.run(resume(relay.url.replace("http", "ws", 1) + "/ws", CLIENT_TOKEN, args.entries))
    spy.wait(timeout=args.seconds + 30)


if __name__ == "__main__":
    sys.exit(main())
