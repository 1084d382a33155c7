"""What every benchmark shares: the run's metadata, percentiles, the table, the JSON file.

A result is a list of rows (dicts with the same keys); `report` prints them as a table and
writes `bench/results/<name>.json` with the machine, the date and the exact command beside.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"
IDENTIFICATION_KEY = "bench-identification-key-0123456789"
CLIENT_TOKEN = "bench-console-token-0123456789abcdef"
SAMPLE_TEXT = "سلام، این خودرو هنوز موجود است؟"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, Any]:
    load = os.getloadavg()
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "load_before": [round(x, 2) for x in load],
    }


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by nearest rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return float(ordered[rank])


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    if value is None:
        return "-"
    return str(value)


def table(rows: list[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    """A plain-text table; also valid Markdown, so docs/performance.md can take it as it is."""
    if not rows:
        return "(no rows)"
    cols = list(columns or rows[0].keys())
    cells = [[_cell(row.get(c)) for c in cols] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(cols)]
    line = "| " + " | ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)) + " |"
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = [
        "| " + " | ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)) + " |" for r in cells
    ]
    return "\n".join([line, rule, *body])


def base_parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks it runs")
    parser.add_argument(
        "--out", type=Path, default=None, help="the JSON file (default bench/results/<name>.json)"
    )
    return parser


def report(
    name: str,
    rows: list[dict[str, Any]],
    *,
    args: argparse.Namespace,
    notes: dict[str, Any] | None = None,
    started: float,
    columns: Sequence[str] | None = None,
) -> Path:
    """Print the table and write the JSON; returns the JSON file's path."""
    out: Path = args.out or RESULTS_DIR / f"{name}{'-smoke' if args.smoke else ''}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    about = machine()
    document: dict[str, Any] = {
        "benchmark": name,
        "smoke": bool(args.smoke),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": shlex.join(
            [Path(sys.executable).name, "-m", f"bench.{Path(sys.argv[0]).stem}", *sys.argv[1:]]
        ),
        "machine": about,
        "seconds": round(time.monotonic() - started, 1),
        "notes": notes or {},
        "rows": rows,
    }
    out.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    print(f"\n{name}: {document['date']}, {about['nproc']} cpus, {about['cpu']}")
    print(table(rows, columns))
    for key, value in (notes or {}).items():
        print(f"  {key}: {value}")
    print(f"  results: {out}")
    return out


def rss_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in KiB, from /proc."""
    found: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0])
    except (OSError, ValueError):
        pass
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far, from /proc/<pid>/stat."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks
