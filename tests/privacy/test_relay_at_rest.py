"""The relay at rest: encrypted by default, keys checked at start, rotation, retention, purge."""

from __future__ import annotations

import asyncio
import io
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from kenar_core.cipher import AesGcmSealer
from kenar_core.errors import ConfigError, SealingError
from kenar_core.keyfile import KEY_FILE_NAME, KeyFile, KeyRing
from relay.cli import main as relay_main
from tests.fixtures.relay import RelayFactory, RunningRelay
from tests.privacy.samples import PERSIAN_MESSAGES, PHONES, needles
from tests.relay.helpers import SAMPLES, console, post_json, text_event

NAMES = ("رضا محمدی", "سارا کریمی")
USER_ID = "6GqmD76dle5NpJySqnBX8seTpt6uVtzqaNTNJU1ettI="


def _sample(name: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((SAMPLES / name).read_text(encoding="utf-8"))
    return value


def personal_webhooks() -> list[tuple[str, dict[str, Any]]]:
    """(path, body): every sample shape carrying the Persian test messages, phones and names."""
    bodies: list[tuple[str, dict[str, Any]]] = []
    for index, text in enumerate(PERSIAN_MESSAGES):
        event = _sample("event-new-message-text.json")
        event["new_message"]["id"] = f"text-{index}"
        event["new_message"]["text"] = text
        bodies.append(("/events", event))
        legacy = _sample("legacy-chat-message.json")
        legacy["payload"]["id"] = f"legacy-{index}"
        legacy["payload"]["data"]["text"] = text
        bodies.append(("/events", legacy))
    for index, phone in enumerate(PHONES):
        contact = _sample("event-new-message-contact.json")
        contact["new_message"]["id"] = f"contact-{index}"
        contact["new_message"]["contact_data"] = {"name": NAMES[index % 2], "phone": phone}
        bodies.append(("/events", contact))
    bodies.append(("/server-link", _sample("server-link-v2.json")))
    return bodies


def raw_bytes(data_dir: Path) -> bytes:
    """The timeline's SQLite file and its write-ahead log, as bytes on disk."""
    found = b""
    for suffix in ("", "-wal"):
        path = data_dir / f"timeline.sqlite3{suffix}"
        if path.exists():
            found += path.read_bytes()
    return found


def leaks(blob: bytes) -> list[bytes]:
    extra = [name.encode() for name in NAMES] + [USER_ID.encode()]
    return [needle for needle in [*needles(), *extra] if needle in blob]


async def deliver(http: httpx.AsyncClient, relay: RunningRelay) -> int:
    count = 0
    for path, body in personal_webhooks():
        answer = await post_json(http, relay.url + path, body, key=relay.identification_key)
        assert answer.status_code == 200, answer.text
        count += 1
    return count


def columns(data_dir: Path) -> list[str]:
    db = sqlite3.connect(data_dir / "timeline.sqlite3")
    try:
        return [str(row[1]) for row in db.execute("PRAGMA table_info(entries)")]
    finally:
        db.close()


async def test_the_store_holds_no_personal_data_in_plain_bytes(
    relay: RunningRelay, http: httpx.AsyncClient
) -> None:
    """After real webhooks neither timeline.sqlite3 nor its WAL holds a message, phone or name."""
    await deliver(http, relay)
    async with console(relay.ws_url, relay.token) as client:
        frames = await client.entries(len(personal_webhooks()))
    texts = json.dumps([f["entry"] for f in frames], ensure_ascii=False)
    assert all(text in texts for text in PERSIAN_MESSAGES)  # consoles still get everything
    blob = raw_bytes(relay.data_dir)
    assert len(blob) > 4096
    assert leaks(blob) == []
    assert columns(relay.data_dir) == ["seq", "received_at", "dedupe", "payload"]
    key_file = relay.data_dir / KEY_FILE_NAME
    assert key_file.stat().st_mode & 0o777 == 0o600


async def test_with_no_encryption_the_same_traffic_is_readable_on_disk(
    relay_factory: RelayFactory, http: httpx.AsyncClient
) -> None:
    """--no-encryption (benchmarks) stores plain JSON: the raw-byte check above is meaningful."""
    relay = await relay_factory(encryption=False)
    await deliver(http, relay)
    assert leaks(raw_bytes(relay.data_dir)) != []
    assert not (relay.data_dir / KEY_FILE_NAME).exists()


async def test_a_wrong_key_file_is_refused_at_start_with_a_sentence(
    relay_factory: RelayFactory, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    """A relay started with another key file says which key the entries need, and stops."""
    data = tmp_path / "relay-data"
    relay = await relay_factory(data_dir=data)
    await deliver(http, relay)
    await relay.server.aclose()
    KeyFile(data / KEY_FILE_NAME).save(KeyRing.generate())
    with pytest.raises(SealingError) as caught:
        await relay_factory(data_dir=data)
    message = str(caught.value)
    assert "sealed with key" in message and "restore" in message


async def test_a_lost_key_file_is_refused_rather_than_read_as_garbage(
    relay_factory: RelayFactory, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    """Deleting the key file does not make the old entries readable garbage: start fails."""
    data = tmp_path / "relay-data"
    relay = await relay_factory(data_dir=data)
    await deliver(http, relay)
    await relay.server.aclose()
    (data / KEY_FILE_NAME).unlink()
    with pytest.raises(SealingError, match="not among the keys held"):
        await relay_factory(data_dir=data)


async def test_encryption_off_over_an_encrypted_store_is_refused(
    relay_factory: RelayFactory, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    """Starting with --no-encryption on encrypted entries fails and says to turn it back on."""
    data = tmp_path / "relay-data"
    relay = await relay_factory(data_dir=data)
    await deliver(http, relay)
    await relay.server.aclose()
    with pytest.raises(SealingError, match="without --no-encryption"):
        await relay_factory(data_dir=data, encryption=False)


async def test_switching_encryption_on_keeps_older_plain_entries_readable(
    relay_factory: RelayFactory, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    """A relay that ran unencrypted starts encrypted: old entries stream, new ones are sealed."""
    data = tmp_path / "relay-data"
    relay = await relay_factory(data_dir=data, encryption=False)
    await post_json(
        http, relay.url + "/events", text_event(PERSIAN_MESSAGES[0]), key=relay.identification_key
    )
    await relay.server.aclose()
    again = await relay_factory(data_dir=data, identification_key=relay.identification_key)
    await post_json(
        http, again.url + "/events", text_event(PERSIAN_MESSAGES[1]), key=again.identification_key
    )
    async with console(again.ws_url, again.token) as client:
        frames = await client.entries(2)
    assert [f["entry"]["data"]["text"] for f in frames] == list(PERSIAN_MESSAGES[:2])
    assert PERSIAN_MESSAGES[1].encode() not in raw_bytes(data)


async def test_the_environment_key_must_open_what_is_stored(
    relay_factory: RelayFactory,
    http: httpx.AsyncClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A wrong KENAR_RELAY_ENCRYPTION_KEY is reported at start, naming the key needed."""
    monkeypatch.setenv("KENAR_RELAY_ENCRYPTION_KEY", "A" * 43 + "=")
    data = tmp_path / "relay-data"
    relay = await relay_factory(data_dir=data)
    await deliver(http, relay)
    await relay.server.aclose()
    (data / KEY_FILE_NAME).unlink(missing_ok=True)
    monkeypatch.setenv("KENAR_RELAY_ENCRYPTION_KEY", "B" * 43 + "=")
    with pytest.raises(SealingError, match="sealed with key"):
        await relay_factory(data_dir=data)


async def test_rotation_keeps_old_entries_readable_and_seals_new_ones_with_the_new_key(
    relay_factory: RelayFactory,
    http: httpx.AsyncClient,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`kenar-relay keys rotate`: old entries still stream, new ones use the new key."""
    data = tmp_path / "relay-data"
    relay = await relay_factory(data_dir=data)
    first = await post_json(
        http, relay.url + "/events", text_event(PERSIAN_MESSAGES[0]), key=relay.identification_key
    )
    await relay.server.aclose()
    old_id = KeyFile(data / KEY_FILE_NAME).load().current_id
    assert relay_main(["keys", "rotate", "--data-dir", str(data)]) == 0
    assert "older key(s) kept" in capsys.readouterr().err
    ring = KeyFile(data / KEY_FILE_NAME).load()
    assert ring.current_id != old_id and old_id in ring.keys
    again = await relay_factory(data_dir=data, identification_key=relay.identification_key)
    second = await post_json(
        http, again.url + "/events", text_event(PERSIAN_MESSAGES[1]), key=again.identification_key
    )
    async with console(again.ws_url, again.token) as client:
        frames = await client.entries(2)
    assert [f["seq"] for f in frames] == [first.json()["seq"], second.json()["seq"]]
    assert [f["entry"]["data"]["text"] for f in frames] == list(PERSIAN_MESSAGES[:2])
    sealer = AesGcmSealer(ring)
    db = sqlite3.connect(data / "timeline.sqlite3")
    try:
        blobs = [bytes(r[0]) for r in db.execute("SELECT payload FROM entries ORDER BY seq")]
    finally:
        db.close()
    assert [sealer.key_id_of(b) for b in blobs] == [old_id, ring.current_id]


async def test_dedupe_still_holds_across_a_rotation(
    relay_factory: RelayFactory, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    """A message Divar retries after a key rotation is still stored once (the index key stays)."""
    data = tmp_path / "relay-data"
    relay = await relay_factory(data_dir=data)
    body = text_event(PERSIAN_MESSAGES[2], message_id="retried-id")
    first = await post_json(http, relay.url + "/events", body, key=relay.identification_key)
    await relay.server.aclose()
    KeyFile(data / KEY_FILE_NAME).rotate()
    again = await relay_factory(data_dir=data, identification_key=relay.identification_key)
    retry = await post_json(http, again.url + "/events", body, key=again.identification_key)
    assert retry.json() == {**first.json(), "duplicate": True}


async def test_entries_past_retention_are_deleted_and_resuming_gets_a_gap(
    relay_factory: RelayFactory, http: httpx.AsyncClient
) -> None:
    """With the clock moved past 72 h, old entries leave the file; resuming from them gets gap."""
    now = [datetime(2026, 11, 25, 9, 0, tzinfo=UTC)]
    relay = await relay_factory(server_kwargs={"clock": lambda: now[0]})
    for text in PERSIAN_MESSAGES[:3]:
        await post_json(http, relay.url + "/events", text_event(text), key=relay.identification_key)
    now[0] += timedelta(hours=71)
    assert await relay.server.purge_now() == 0
    await post_json(
        http, relay.url + "/events", text_event(PERSIAN_MESSAGES[3]), key=relay.identification_key
    )
    now[0] += timedelta(hours=2)  # the first three are 73 h old, the last one 2 h
    assert await relay.server.purge_now() == 3
    assert await relay.server.store.oldest() == 4
    async with console(relay.ws_url, relay.token, since=0) as client:
        gap = await client.frame()
        (kept,) = await client.entries(1)
    assert gap == {"type": "gap", "since": 0, "oldest": 4}
    assert kept["seq"] == 4 and kept["entry"]["data"]["text"] == PERSIAN_MESSAGES[3]


async def test_entries_every_console_acknowledged_are_purged_when_asked(
    relay_factory: RelayFactory, http: httpx.AsyncClient
) -> None:
    """purge_acknowledged: entries go once every registered console acked them, not before."""
    relay = await relay_factory(purge_acknowledged=True)
    for text in PERSIAN_MESSAGES:
        await post_json(http, relay.url + "/events", text_event(text), key=relay.identification_key)
    assert await relay.server.purge_now() == 0  # nobody acknowledged anything yet
    async with console(relay.ws_url, relay.token) as client:
        frames = await client.entries(4)
        await client.send(type="ack", seq=frames[1]["seq"])
        assert relay.server.ctx is not None
        acks = relay.server.ctx.acks
        async with asyncio.timeout(10):
            # A condition waited on with a timeout (the ack has no reply frame to wait for).
            while acks.acked(relay.server.config.client_token_name) < 2:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
    assert await relay.server.purge_now() == 2
    assert await relay.server.store.oldest() == 3


async def test_purge_command_deletes_everything_while_the_relay_is_stopped(
    relay_factory: RelayFactory,
    http: httpx.AsyncClient,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`kenar-relay purge --yes` empties the store; seqs continue after a restart (a gap)."""
    data = tmp_path / "relay-data"
    relay = await relay_factory(data_dir=data)
    count = await deliver(http, relay)
    await relay.server.aclose()
    assert await asyncio.to_thread(relay_main, ["purge", "--yes", "--data-dir", str(data)]) == 0
    assert f"deleted {count} entries" in capsys.readouterr().err
    again = await relay_factory(data_dir=data, identification_key=relay.identification_key)
    assert await again.server.store.oldest() == 0
    fresh = await post_json(
        http, again.url + "/events", text_event("تازه"), key=again.identification_key
    )
    assert fresh.json()["seq"] == count + 1


def test_purge_without_yes_on_no_terminal_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --yes and without a terminal to ask on, nothing is deleted and it says why."""
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    assert relay_main(["purge", "--data-dir", str(tmp_path)]) == 2
    assert "add --yes" in capsys.readouterr().err


async def test_a_redis_store_needs_shared_keys(
    relay_factory: RelayFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replicas on Redis must share keys: without them in the environment the relay says so."""
    monkeypatch.delenv("KENAR_RELAY_ENCRYPTION_KEY", raising=False)
    with pytest.raises(ConfigError, match="same keys"):
        await relay_factory(store="redis://127.0.0.1:1/0")


def test_keys_rotate_refuses_when_the_key_comes_from_the_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With KENAR_RELAY_ENCRYPTION_KEY set, `keys rotate` explains how to rotate there."""
    monkeypatch.setenv("KENAR_RELAY_ENCRYPTION_KEY", "A" * 43 + "=")
    assert relay_main(["keys", "rotate", "--data-dir", str(tmp_path)]) == 2
    assert "KENAR_RELAY_PREVIOUS_ENCRYPTION_KEYS" in capsys.readouterr().err


def test_serve_has_a_no_encryption_switch() -> None:
    """`kenar-relay serve --no-encryption` exists (for the intake benchmarks)."""
    from relay.cli import _flags, build_parser

    args = build_parser().parse_args(["serve", "--no-encryption"])
    assert _flags(args)["encryption"] is False
    assert _flags(build_parser().parse_args(["serve"]))["encryption"] is None
