"""`python -m bench.screen --smoke`: a real console in a terminal draws every message of its
open conversation, answers every key press, and the table and JSON are well formed (the
timings themselves are not checked)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COLUMNS = {
    "cell",
    "events_per_s",
    "events",
    "floor_p99_ms",
    "draw_p50_ms",
    "draw_p99_ms",
    "drawn",
    "floor_delivered",
    "key_p99_ms",
    "keys_answered",
}


@pytest.mark.timeout(150)
def test_screen_smoke_draws_every_open_message_and_answers_every_key(tmp_path: Path) -> None:
    out = tmp_path / "screen.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.screen", "--smoke", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=140,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    header = next(line for line in done.stdout.splitlines() if line.startswith("| "))
    assert all(column in header for column in COLUMNS)
    document = json.loads(out.read_text())
    assert document["benchmark"] == "screen"
    assert document["smoke"] is True
    rows = {row["cell"]: row for row in document["rows"]}
    assert set(rows) == {"idle (key floor)", "steady", "burst"}
    assert all(set(row) >= COLUMNS for row in rows.values())
    steady, burst = rows["steady"], rows["burst"]
    # Every webhook reached the bare client, and every message of the open conversation was
    # drawn on the console's terminal at the steady rate (in a burst newer ones may push
    # older ones off the screen before a frame shows them, so only some are drawn there).
    assert steady["events"] == 200 and burst["events"] == 1000
    assert steady["floor_delivered"] == 1.0 and burst["floor_delivered"] == 1.0
    assert steady["drawn"] == 1.0
    assert 0 < burst["drawn"] <= 1.0
    # Every arrow key written to the terminal moved the history's cursor on screen.
    for row in rows.values():
        answered, pressed = row["keys_answered"].split("/")
        assert int(pressed) > 0 and answered == pressed, row
