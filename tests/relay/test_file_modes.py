"""Everything the relay creates is its owner's alone: the data dir 0700, every file in it 0600
(timeline, WAL, SHM, key file, tokens), whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fixtures.relay import RelayFactory
from tests.relay.helpers import named_token, post_json, text_event


@pytest.fixture
def loose_umask() -> Iterator[None]:
    old = os.umask(0o022)  # the usual default: would give 0755 folders, 0644 files
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_relay_data_dir_and_files_are_private(
    relay_factory: RelayFactory, tmp_path: Path, loose_umask: None
) -> None:
    data_dir = tmp_path / "fresh" / "relay-data"
    relay = await relay_factory(data_dir=data_dir)
    named_token("سارا", data_dir)
    async with httpx.AsyncClient(timeout=10, trust_env=False) as http:
        answer = await post_json(
            http, relay.url + "/events", text_event(), key=relay.identification_key
        )
    assert answer.status_code == 200
    names = {p.name for p in data_dir.iterdir()}
    assert {"timeline.sqlite3", "timeline.sqlite3-wal", "tokens.json"} <= names
    assert any("key" in name for name in names), names
    assert mode(data_dir) == 0o700
    loose = {p.name: oct(mode(p)) for p in data_dir.rglob("*") if p.is_file() and mode(p) != 0o600}
    assert loose == {}
