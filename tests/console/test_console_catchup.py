"""`python -m bench.console_catchup --smoke`: a real console process that was off while the
relay took 2,000 entries resumes from seq 0 and is current: every entry stored once, in
order up to the relay's head, every conversation listed, every message in the summaries, and
every key pressed while it caught up answered. Speed is not checked here (docs/performance.md).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(150)
def test_console_catchup_smoke_stores_every_entry_once_and_lists_every_conversation(
    tmp_path: Path,
) -> None:
    out = tmp_path / "console_catchup.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.console_catchup", "--smoke", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=140,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    document = json.loads(out.read_text())
    assert document["benchmark"] == "console_catchup" and document["smoke"] is True
    (row,) = document["rows"]
    entries, conversations = row["entries"], row["conversations"]
    assert (entries, conversations) == (2000, 100)
    # Current: the console's own view and its cache file agree with the relay's head.
    assert row["last_seq"] == entries == row["stored_last_seq"] == row["stored_max_seq"]
    assert row["stored_entries"] == row["stored_distinct_seqs"] == entries  # each once
    assert row["stored_items"] == entries  # every buyer message became one history item
    # The list: every conversation once, and their summaries account for every message.
    assert row["listed"] == row["listed_distinct"] == conversations
    assert row["stored_conversations"] == conversations
    assert row["items_in_summaries"] == entries
    # Usable while catching up: every key written to the terminal was answered on screen.
    answered, pressed = row["keys_answered"].split("/")
    assert answered == pressed
    assert row["current_s"] > row["opened_s"] > 0
