"""Each benchmark's `--smoke` size runs correctly: every event delivered, every entry applied,
no errors, and a well-formed table and JSON (the timings themselves are not checked)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.binaries import require_binary

ROOT = Path(__file__).resolve().parents[2]

# The columns each benchmark's rows must carry.
COLUMNS = {
    "intake": {"load", "noop_rps", "relay_rps", "relay_p99_ms", "ratio", "errors"},
    "e2e": {"consoles", "events_per_s", "floor_p99_ms", "relay_p99_ms", "relay_delivered"},
    "catchup": {"server", "entries_per_s", "seconds", "rss_peak_mib"},
    "growth": {"stored", "relay_rps", "ratio", "relay_rss_mib", "vs_smallest", "errors"},
    "send": {"concurrency", "client_sends_per_s", "client_connections", "sends"},
    "console": {"messages", "first_screen_ms", "switch_ms", "burst_1000_ms", "burst_applied"},
}
NEEDS_WRK = {"intake", "growth"}


def no_errors(document: dict[str, Any]) -> None:
    """Every request answered 2xx: wrk's socket errors and non-2xx count, and the fixed-rate
    generator's failures, are all zero."""
    assert [row["errors"] for row in document["rows"]] == [0] * len(document["rows"])


def every_event_delivered(document: dict[str, Any]) -> None:
    """Every webhook reached every console, through the relay and through the floor."""
    for row in document["rows"]:
        assert row["relay_delivered"] == 1.0, row
        assert row["floor_delivered"] == 1.0, row


def every_entry_streamed(document: dict[str, Any]) -> None:
    """Both servers streamed the whole prefilled timeline (the client stops only at the last
    entry and fails the run when the stream ends short)."""
    assert document["notes"]["entries"] == 5_000
    assert [row["server"] for row in document["rows"]] == ["floor (sqlite->websocket)", "relay"]
    assert all(row["seconds"] > 0 for row in document["rows"])


def every_send_made(document: dict[str, Any]) -> None:
    """Each level made all its sends (a failed send fails the run), over pooled connections."""
    for row in document["rows"]:
        assert row["sends"] == 50
        assert 1 <= row["client_connections"] <= row["concurrency"], row


def every_live_entry_applied(document: dict[str, Any]) -> None:
    """The 1,000-entry live burst was applied in full on top of every stored timeline."""
    burst = document["notes"]["burst"]
    assert burst == 1000
    assert [row["burst_applied"] for row in document["rows"]] == [burst] * len(document["rows"])
    assert all(row["largest_conv"] > 0 for row in document["rows"])


CORRECT: dict[str, Callable[[dict[str, Any]], None]] = {
    "intake": no_errors,
    "e2e": every_event_delivered,
    "catchup": every_entry_streamed,
    "growth": no_errors,
    "send": every_send_made,
    "console": every_live_entry_applied,
}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", sorted(COLUMNS))
def test_smoke_run_is_correct_and_writes_table_and_json(name: str, tmp_path: Path) -> None:
    """`python -m bench.<name> --smoke` loses nothing, errs nowhere, prints a table and JSON."""
    if name in NEEDS_WRK:
        require_binary("wrk")
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
    CORRECT[name](document)
