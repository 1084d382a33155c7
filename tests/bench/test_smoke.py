"""Each benchmark's `--smoke` size runs and writes a well-formed table and JSON (not timing)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# The columns each benchmark's rows must carry (the numbers themselves are not checked).
COLUMNS = {
    "intake": {"load", "noop_rps", "relay_rps", "relay_p99_ms", "ratio"},
    "e2e": {"consoles", "events_per_s", "floor_p99_ms", "relay_p99_ms", "relay_delivered"},
    "catchup": {"server", "entries_per_s", "rss_peak_mib"},
    "growth": {"stored", "relay_rps", "ratio", "relay_rss_mib", "vs_smallest"},
    "send": {"concurrency", "client_sends_per_s", "client_connections"},
    "console": {"messages", "first_screen_ms", "switch_ms", "burst_1000_ms", "peak_rss_mib"},
}
NEEDS_WRK = {"intake", "growth"}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", sorted(COLUMNS))
def test_smoke_run_writes_table_and_json(name: str, tmp_path: Path) -> None:
    """`python -m bench.<name> --smoke` prints a table and writes its rows as JSON."""
    if name in NEEDS_WRK and shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (Debian package wrk)")
    out = tmp_path / f"{name}.json"
    done = subprocess.run(
        [sys.executable, "-m", f"bench.{name}", "--smoke", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    header = next(line for line in done.stdout.splitlines() if line.startswith("| "))
    assert all(column in header for column in COLUMNS[name])
    document = json.loads(out.read_text())
    assert document["benchmark"] == name
    assert document["smoke"] is True
    assert document["machine"]["nproc"] >= 1
    rows = document["rows"]
    assert rows and all(COLUMNS[name] <= set(row) for row in rows)
    assert all(set(row) == set(rows[0]) for row in rows)
