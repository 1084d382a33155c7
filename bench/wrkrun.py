"""Running wrk (closed loop: each connection sends its next request when the answer came).

One wrk thread: on 2 cores wrk in C with one thread outruns any Python server by an order
of magnitude, and a second thread would only take CPU from the server being measured.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from bench.common import IDENTIFICATION_KEY

SCRIPT = Path(__file__).resolve().parent / "wrk" / "events.lua"


@dataclass(frozen=True, slots=True)
class WrkResult:
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise RuntimeError("wrk is not installed (Debian: apt-get install wrk)")
    return found


def start_wrk(url: str, *, connections: int, seconds: float) -> subprocess.Popen[str]:
    """Start wrk against `url` + /events; collect it with `finish_wrk`."""
    argv = [
        wrk_binary(),
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(SCRIPT),
        url.rstrip("/") + "/events",
        "--",
        IDENTIFICATION_KEY,
        uuid.uuid4().hex[:12],
    ]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish_wrk(proc: subprocess.Popen[str]) -> WrkResult:
    out, err = proc.communicate(timeout=120)
    for line in reversed(out.splitlines()):
        if line.startswith("{"):
            data = json.loads(line)
            errors = sum(v for k, v in data.items() if k.startswith("errors_"))
            return WrkResult(
                requests=data["requests"],
                seconds=data["duration_us"] / 1e6,
                errors=errors,
                p50_ms=data["p50_us"] / 1000,
                p99_ms=data["p99_us"] / 1000,
            )
    raise RuntimeError(f"wrk printed no summary: {err.strip() or out.strip()}")


def run_wrk(urls: list[str], *, connections: int, seconds: float) -> WrkResult:
    """wrk against every URL at once (one process each, `connections` split between them);
    requests summed, p50 the requests-weighted mean of theirs, p99 the worst of theirs."""
    per = max(1, connections // len(urls))
    procs = [start_wrk(u, connections=per, seconds=seconds) for u in urls]
    results = [finish_wrk(p) for p in procs]
    total = sum(r.requests for r in results)
    return WrkResult(
        requests=total,
        seconds=max(r.seconds for r in results),
        errors=sum(r.errors for r in results),
        p50_ms=sum(r.p50_ms * r.requests for r in results) / total if total else 0.0,
        p99_ms=max(r.p99_ms for r in results),
    )
