"""The console's cache at rest: sealed with the keyring's key, blind search, retention, purge."""

from __future__ import annotations

import asyncio
import io
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kenar_api import Action, Button, ButtonGrid, SendMessageBody
from kenar_api.client import KenarClient
from kenar_core.cipher import AesGcmSealer
from kenar_core.errors import SealingError
from kenar_core.keyfile import KeyRing
from kenar_core.sealing import PlainSealer
from kenar_tui.cli import main
from kenar_tui.credentials import SERVICE, CredentialStore
from kenar_tui.inbox import Inbox
from kenar_tui.keyring_memory import MemoryKeyring
from kenar_tui.outbox import Outbox
from kenar_tui.privacy.keys import KEYRING_ENTRY, console_keyring, rotate_console_keyring
from kenar_tui.privacy.retention import Purger, RetentionPolicy
from kenar_tui.sandbox import Sandbox
from kenar_tui.store import Cache
from kenar_tui.store.opening import open_cache
from kenar_tui.store.retention import retention_policy, start_retention
from tests.console.conftest import CAR, CAR_TITLE, FIXED_NOW, message_entry, post_update_entry
from tests.console.test_outbox import Credentials, issue, settle
from tests.privacy.samples import PERSIAN_MESSAGES, PHONES, needles

NAMES = ("رضا محمدی", "سارا کریمی")
CAPTION = "رزرو بازدید حضوری"
REPLY = "بله موجوده، فردا عصر تشریف بیارید"
DRAFT = "پیش‌نویس پاسخ به خریدار"


def personal_entries() -> list[dict[str, Any]]:
    """Timeline entries of the sample shapes carrying every Persian test message and phone."""
    entries = [post_update_entry(CAR, CAR_TITLE, minutes_ago=200)]
    for index, text in enumerate(PERSIAN_MESSAGES):
        entries.append(message_entry(f"conv-{index}", CAR, minutes_ago=100 - index, text=text))
    for index, phone in enumerate(PHONES):
        entries.append(
            message_entry(
                f"conv-{index}",
                CAR,
                minutes_ago=50 - index,
                type="CONTACT",
                contact_data={"name": NAMES[index % 2], "phone": phone},
            )
        )
    return entries


def raw_bytes(path: Path) -> bytes:
    found = b""
    for suffix in ("", "-wal"):
        part = Path(f"{path}{suffix}")
        if part.exists():
            found += part.read_bytes()
    return found


def leaks(blob: bytes) -> list[bytes]:
    extra = [n.encode() for n in (*NAMES, CAPTION, REPLY, DRAFT, CAR_TITLE)]
    return [needle for needle in [*needles(), *extra] if needle in blob]


def sealer() -> AesGcmSealer:
    return AesGcmSealer(KeyRing.generate())


@pytest.fixture
async def kenar(sandbox: Sandbox) -> AsyncIterator[KenarClient]:
    async with KenarClient(
        sandbox.api_key, api_base=sandbox.base_url, oauth_base=sandbox.base_url, retries=0
    ) as client:
        yield client


async def test_the_cache_files_hold_no_personal_data_in_plain_bytes(
    sandbox: Sandbox, kenar: KenarClient, tmp_path: Path
) -> None:
    """Entries, a reply with a button, a draft: neither cache.sqlite3 nor its WAL shows them."""
    path = tmp_path / "cache.sqlite3"
    conversation = await sandbox.control.open_conversation(CAR)
    cid = conversation["id"]
    credentials = Credentials(
        sandbox.api_key, await issue(sandbox, f"CHAT_POST_CONVERSATIONS_MESSAGE_SEND.{CAR}")
    )
    grid = ButtonGrid.of(
        [[Button(action=Action.server({"slot": "10"}), icon="CALENDAR_TEXT", caption=CAPTION)]]
    )
    with Cache(path, sealer=sealer()) as cache:
        inbox = Inbox(cache, operator="سارا", now=lambda: FIXED_NOW)
        for seq, entry in enumerate(personal_entries(), start=1):
            inbox.apply(seq, entry)
        async with Outbox(cache, kenar=kenar, credentials=credentials) as outbox:
            ref = await outbox.submit(
                cid, CAR, "POST", SendMessageBody(message=REPLY, receiver_buttons=grid)
            )
            assert (await settle(outbox, ref)).state == "sent"
        inbox.set_draft(cid, DRAFT)
        # Everything reads back, and search still finds text (index and short scan).
        assert [h.cid for h in inbox.search("شماره")] == ["conv-3"]
        assert len(inbox.search("آدرس دقیق")) == 1
        assert {h.cid for h in inbox.search("۲۰")} == {"conv-1"}
        assert inbox.conversation("conv-0").post_title == CAR_TITLE  # type: ignore[union-attr]
        assert inbox.draft(cid) == DRAFT
        assert inbox.history(cid, 0, 5)[0].text == REPLY
        assert leaks(raw_bytes(path)) == []
    assert leaks(raw_bytes(path)) == []


def test_only_ordering_columns_stay_in_the_clear(tmp_path: Path) -> None:
    """Captions, titles and search text are sealed blobs; ids and seqs are plain."""
    path = tmp_path / "cache.sqlite3"
    with Cache(path, sealer=sealer()) as cache:
        inbox = Inbox(cache, now=lambda: FIXED_NOW)
        for seq, entry in enumerate(personal_entries(), start=1):
            inbox.apply(seq, entry)
        db = cache.db
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "search" not in tables and "search_terms" in tables
        (title,) = db.execute("SELECT title FROM posts").fetchone()
        assert isinstance(title, bytes)
        terms = " ".join(r[0] for r in db.execute("SELECT terms FROM search_terms"))
        assert terms and all(t.startswith("t") and len(t) == 13 for t in terms.split())
        folded = [r[0] for r in db.execute("SELECT folded FROM items WHERE folded IS NOT NULL")]
        assert folded and all(isinstance(f, bytes) for f in folded)


def test_a_cache_opened_with_another_keyring_key_is_a_clear_error(tmp_path: Path) -> None:
    """Another keyring's key does not open the cache: SealingError saying what to do."""
    path = tmp_path / "cache.sqlite3"
    with open_cache(path, CredentialStore(MemoryKeyring())) as cache:
        Inbox(cache, now=lambda: FIXED_NOW).apply(1, personal_entries()[1])
    with pytest.raises(SealingError) as caught:
        open_cache(path, CredentialStore(MemoryKeyring()))
    assert "kenar-tui purge" in str(caught.value) and "cache-encryption-keys" in str(caught.value)
    with pytest.raises(SealingError, match="without its key"):
        Cache(path)


def test_the_app_keeps_the_cache_key_beside_its_credentials(tmp_path: Path) -> None:
    """open_cache stores the key ring in the credentials' keyring (the demo's: in memory)."""
    backend = MemoryKeyring()
    with open_cache(tmp_path / "cache.sqlite3", CredentialStore(backend)) as cache:
        assert isinstance(cache.sealer, AesGcmSealer)
        assert cache.sealer.current_key_id == console_keyring(backend).current_id
    assert backend.get_password(SERVICE, KEYRING_ENTRY) is not None


def test_rotation_keeps_old_entries_readable(tmp_path: Path) -> None:
    """After the keyring's key is rotated, old rows open and new rows use the new key."""
    backend = MemoryKeyring()
    path = tmp_path / "cache.sqlite3"
    entries = personal_entries()
    with open_cache(path, CredentialStore(backend)) as cache:
        Inbox(cache, now=lambda: FIXED_NOW).apply(1, entries[1])
    old = console_keyring(backend).current_id
    new = rotate_console_keyring(backend).current_id
    with open_cache(path, CredentialStore(backend)) as cache:
        inbox = Inbox(cache, now=lambda: FIXED_NOW)
        inbox.apply(2, entries[2])
        assert [i.text for i in inbox.history("conv-0", 0, 5)] == [PERSIAN_MESSAGES[0]]
        assert [i.text for i in inbox.history("conv-1", 0, 5)] == [PERSIAN_MESSAGES[1]]
        assert isinstance(cache.sealer, AesGcmSealer)
        ids = [
            cache.sealer.key_id_of(r[0]) for r in cache.db.execute("SELECT payload FROM entries")
        ]
    assert ids == [old, new]


def test_an_unencrypted_cache_is_sealed_in_place_on_first_keyed_open(tmp_path: Path) -> None:
    """A cache written without a key is encrypted and re-indexed when opened with one."""
    path = tmp_path / "cache.sqlite3"
    with Cache(path, sealer=PlainSealer()) as cache:
        inbox = Inbox(cache, now=lambda: FIXED_NOW)
        for seq, entry in enumerate(personal_entries(), start=1):
            inbox.apply(seq, entry)
    assert leaks(raw_bytes(path)) != []
    with Cache(path, sealer=sealer()) as cache:
        inbox = Inbox(cache, now=lambda: FIXED_NOW)
        assert [h.cid for h in inbox.search("شماره")] == ["conv-3"]
        assert inbox.conversation("conv-0").post_title == CAR_TITLE  # type: ignore[union-attr]
        assert leaks(raw_bytes(path)) == []


def test_a_version_1_cache_moves_its_plain_search_text_into_the_blind_index(
    tmp_path: Path,
) -> None:
    """Schema 1's plain FTS5 table is replaced: search works, the plain text is gone."""
    path = tmp_path / "cache.sqlite3"
    with Cache(path) as cache:
        inbox = Inbox(cache, now=lambda: FIXED_NOW)
        for seq, entry in enumerate(personal_entries(), start=1):
            inbox.apply(seq, entry)
        # What schema 1 had: a plain trigram table and no sealed `folded` column.
        cache.db.execute("CREATE VIRTUAL TABLE search USING fts5 (folded, tokenize='trigram')")
        cache.db.execute(
            "INSERT INTO search (rowid, folded) SELECT id, CAST(folded AS TEXT) FROM items "
            "WHERE folded IS NOT NULL"
        )
        cache.db.execute("DELETE FROM search_terms")
        cache.db.execute("UPDATE items SET folded = NULL")
        cache.db.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")
    with Cache(path, sealer=sealer()) as cache:
        inbox = Inbox(cache, now=lambda: FIXED_NOW)
        assert [h.cid for h in inbox.search("شماره")] == ["conv-3"]
        assert cache.meta("schema") == "3"  # version-1 files go to the current schema
    assert leaks(raw_bytes(path)) == []


def test_entries_past_retention_leave_the_cache_and_bodies_go_sooner(tmp_path: Path) -> None:
    """30-day entries, 7-day bodies: old rows go; a 10-day-old message keeps its row, not text."""
    path = tmp_path / "cache.sqlite3"
    day = 24 * 60
    with Cache(path, sealer=sealer()) as cache:
        inbox = Inbox(cache, now=lambda: FIXED_NOW)
        inbox.apply(1, message_entry("old", CAR, minutes_ago=40 * day, text=PERSIAN_MESSAGES[0]))
        inbox.apply(2, message_entry("mid", CAR, minutes_ago=10 * day, text=PERSIAN_MESSAGES[1]))
        inbox.apply(3, message_entry("new", CAR, minutes_ago=60, text=PERSIAN_MESSAGES[2]))
        policy = RetentionPolicy(timedelta(days=30), body_max_age=timedelta(days=7))
        purger = Purger(
            cache, policy, logger=cache.log, now=lambda: FIXED_NOW, interval=timedelta(hours=1)
        )
        first = asyncio.run(purger.run_once())
        assert (first.entries, first.bodies) == (1, 1)
        assert inbox.conversation("old") is None
        mid = inbox.conversation("mid")
        assert mid is not None and inbox.history_count("mid") == 1  # the list keeps it
        (dropped,) = inbox.history("mid", 0, 5)
        assert "deleted from this computer after the retention period" in dropped.text
        assert inbox.search(PERSIAN_MESSAGES[1][:8]) == []
        assert [i.text for i in inbox.history("new", 0, 5)] == [PERSIAN_MESSAGES[2]]
        assert cache.entry(2) is None and cache.entry(3) is not None
        again = asyncio.run(purger.run_once())
        assert (again.entries, again.bodies) == (0, 0)  # nothing is counted twice
        assert cache.last_seq == 3


def test_the_policy_follows_the_settings() -> None:
    """cache_retention_days and body_retention_days make the policy; bodies never outlive rows."""
    settings = type("S", (), {"cache_retention_days": 30, "body_retention_days": 7})()
    assert retention_policy(settings) == RetentionPolicy(timedelta(days=30), timedelta(days=7))
    settings.body_retention_days = 90
    assert retention_policy(settings) == RetentionPolicy(timedelta(days=30))


async def test_start_retention_purges_at_once_and_stops_cleanly(tmp_path: Path) -> None:
    """The helper the app calls runs a first round right away and closes without a trace."""
    waited = asyncio.Event()

    async def wait(seconds: float) -> None:
        waited.set()
        await asyncio.Event().wait()  # the next round never comes in this test

    settings = type("S", (), {"cache_retention_days": 30, "body_retention_days": 30})()
    with Cache(tmp_path / "cache.sqlite3", sealer=sealer()) as cache:
        inbox = Inbox(cache, now=lambda: FIXED_NOW)
        inbox.apply(1, message_entry("old", CAR, minutes_ago=45 * 24 * 60, text="کهنه"))
        purger = await start_retention(cache, settings, now=lambda: FIXED_NOW, wait=wait)
        async with asyncio.timeout(10):
            await waited.wait()
        await purger.aclose()
        await purger.aclose()
        assert purger.rounds == 1 and inbox.conversation("old") is None


def test_purge_command_empties_the_cache_and_keeps_the_cursor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`kenar-tui purge --yes` deletes every conversation; the relay cursor stays."""
    from kenar_tui.config import Settings

    path = Settings.load(None).cache_file
    backend = MemoryKeyring()
    with open_cache(path, CredentialStore(backend)) as cache:
        inbox = Inbox(cache, now=lambda: FIXED_NOW)
        for seq, entry in enumerate(personal_entries(), start=1):
            inbox.apply(seq, entry)
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    assert main(["purge"]) == 2  # no terminal to ask on, no --yes: nothing deleted
    assert main(["purge", "--yes"]) == 0
    assert "deleted the local cache" in capsys.readouterr().err
    assert leaks(raw_bytes(path)) == []
    # An emptied cache opens even under a new keyring (how a lost key is recovered from).
    with open_cache(path, CredentialStore(MemoryKeyring())) as cache:
        assert Inbox(cache).conversations() == [] and cache.last_seq == len(personal_entries())


def test_masking_the_raw_file_check_is_meaningful(tmp_path: Path) -> None:
    """Control: without a key the same entries are readable in the file (the check can fail)."""
    path = tmp_path / "plain.sqlite3"
    with Cache(path, sealer=PlainSealer()) as cache:
        Inbox(cache, now=lambda: FIXED_NOW).apply(1, personal_entries()[1])
        db = sqlite3.connect(path)
        try:
            (payload,) = db.execute("SELECT payload FROM entries").fetchone()
        finally:
            db.close()
    assert PERSIAN_MESSAGES[0].encode() in bytes(payload)
    assert datetime.now(UTC) > FIXED_NOW - timedelta(days=3650)
