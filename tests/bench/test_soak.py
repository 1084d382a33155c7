"""The soak's short variant (`python -m bench.soak --short`): relay killed with -9 and restarted,
consoles coming and going, one that never reads; every acknowledged event in every console's
cache exactly once, memory flat, no ERROR line. The 10-minute figures are in docs/performance.md."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("store", ["sqlite", "redis"])
def test_short_soak_loses_nothing(store: str, tmp_path: Path) -> None:
    if store == "redis" and shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed (Debian package redis-server)")
    out = tmp_path / "soak.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.soak", "--short", "--store", store, "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert out.is_file(), done.stderr[-2000:]
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert figures["relay_kills"] >= 2
    assert figures["events_acknowledged"] > 0
    assert figures["console_connects"] > figures["consoles"]
    if store == "redis":
        assert figures["replica_kills"] >= 2
    assert figures["losses"] == 0 and figures["doubles"] == 0
    assert figures["error_lines"] == []
    assert figures["memory_lifetimes_measured"] >= 1
    assert figures["ok"] is True and done.returncode == 0, figures
