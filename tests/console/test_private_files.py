"""The console's cache (with its WAL/SHM), its log files and its folders are private (0600/0700),
the cache commits with synchronous=FULL before anything is acknowledged, and logs go to a
rotating file by default with redacted tracebacks."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kenar_tui.logs import PrivateRotatingFileHandler, console_logging, default_log_file
from kenar_tui.store.cache import Cache


@pytest.fixture
def loose_umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture
def clean_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        for handler in root.handlers:
            if handler not in handlers:
                root.removeHandler(handler)
                handler.close()
        root.setLevel(level)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_cache_folder_and_files_are_private_and_fully_synced(
    tmp_path: Path, loose_umask: None
) -> None:
    folder = tmp_path / "new" / "kenar-tui"
    with Cache(folder / "cache.sqlite3") as cache:
        cache.put_entry(1, {"kind": "message", "conversation_id": "c"}, datetime.now(UTC))
        cache.set_last_seq(1)
        # 2 = FULL: the WAL is fsynced at each commit, so the acked last_seq survives power loss.
        assert cache.db.execute("PRAGMA synchronous").fetchone()[0] == 2
        files = sorted(p.name for p in folder.iterdir())
        assert {"cache.sqlite3", "cache.sqlite3-wal", "cache.sqlite3-shm"} <= set(files)
        loose = {p.name: oct(mode(p)) for p in folder.iterdir() if mode(p) != 0o600}
    assert mode(folder) == 0o700
    assert loose == {}


def test_logs_go_to_a_private_rotating_file_by_default(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    loose_umask: None,
    clean_root_logger: None,
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    handler = console_logging(None)
    path = default_log_file()
    assert path.is_relative_to(tmp_path / "state")
    log = logging.getLogger("kenar_tui.test")
    log.debug("not at INFO")
    try:
        raise ValueError("the buyer 09121234567 sent something odd")
    except ValueError:
        log.exception("applying an entry failed")
    handler.flush()
    text = path.read_text(encoding="utf-8")
    assert "applying an entry failed" in text and "Traceback" in text
    assert "09121234567" not in text  # the traceback is redacted too
    assert "not at INFO" not in text
    assert isinstance(handler, PrivateRotatingFileHandler)
    handler.doRollover()
    log.warning("after the roll-over")
    handler.flush()
    assert mode(path.parent) == 0o700
    logs = sorted(path.parent.iterdir())
    assert len(logs) == 2 and all(mode(p) == 0o600 for p in logs)


def test_log_file_flag_overrides_the_default(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    loose_umask: None,
    clean_root_logger: None,
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    chosen = tmp_path / "debug.log"
    handler = console_logging(chosen)
    logging.getLogger("kenar_tui.test").debug("debug line")
    handler.flush()
    assert "debug line" in chosen.read_text(encoding="utf-8")
    assert mode(chosen) == 0o600
    assert not default_log_file().exists()
