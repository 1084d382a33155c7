"""A locked or hanging keyring under the running console: the screen and Ctrl+Q never wait.

The reply is sent through the real app, outbox, sandbox and CredentialStore; only the keyring
backend is a test one, which refuses like a locked Secret Service or blocks like a keyring
waiting for a password nobody sees.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from keyring.errors import KeyringLocked

from kenar_api import SendMessageBody
from kenar_api.client import KenarClient
from kenar_tui import outbox as outbox_module
from kenar_tui.config import Settings
from kenar_tui.credentials import CredentialStore, StoredToken
from kenar_tui.factory import make_app
from kenar_tui.inbox import Inbox
from kenar_tui.keyring_memory import MemoryKeyring
from kenar_tui.keyring_thread import KEYRING_HEALTH
from kenar_tui.outbox import Outbox, OutboxItem
from kenar_tui.sandbox import Sandbox
from kenar_tui.store import Cache

CAR = "gZd7omnS"
WAIT = 20.0


class GateKeyring(MemoryKeyring):
    """A working keyring that can be locked (refuses) or stalled (blocks until released)."""

    def __init__(self) -> None:
        super().__init__()
        self.locked = False
        self.released = threading.Event()
        self.released.set()

    def get_password(self, service: str, username: str) -> str | None:
        self.released.wait()
        if self.locked:
            raise KeyringLocked("locked")
        return super().get_password(service, username)


@pytest.fixture
def quick_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(KEYRING_HEALTH, "timeout_s", 0.5)
    monkeypatch.setattr(outbox_module, "KEYRING_RETRY_S", 0.1)
    yield
    KEYRING_HEALTH.report(None)


@pytest.fixture
async def kenar(sandbox: Sandbox) -> AsyncIterator[KenarClient]:
    async with KenarClient(
        sandbox.api_key, api_base=sandbox.base_url, oauth_base=sandbox.base_url, retries=0
    ) as client:
        yield client


async def stored_credentials(sandbox: Sandbox, keyring: GateKeyring) -> CredentialStore:
    credentials = CredentialStore(keyring)
    answer = await sandbox.control.issue_token([f"CHAT_POST_CONVERSATIONS_MESSAGE_SEND.{CAR}"])
    now = datetime.now(UTC)
    credentials.add_token(
        StoredToken(
            id="t1",
            access_token=answer["access_token"],
            refresh_token=None,
            scopes=tuple(answer["scope"].split()),
            expires_at=now + timedelta(hours=1),
            obtained_at=now,
        )
    )
    return credentials


async def until_item(outbox: Outbox, ref: str, check: object) -> OutboxItem:
    async with asyncio.timeout(WAIT):
        return await outbox.wait(ref, check)  # type: ignore[arg-type]


async def test_a_locked_keyring_holds_the_reply_in_words_then_it_goes_once(
    sandbox: Sandbox, kenar: KenarClient, tmp_path: Path, quick_keyring: None
) -> None:
    """Locked: the reply says why it waits, the status bar says unlock; unlocked: sent once."""
    cid = (await sandbox.control.open_conversation(CAR))["id"]
    keyring = GateKeyring()
    credentials = await stored_credentials(sandbox, keyring)
    settings = Settings.load(tmp_path / "none.toml", data_dir=tmp_path / "data")
    with Cache(tmp_path / "cache.sqlite3") as cache:
        async with Outbox(cache, kenar=kenar, credentials=credentials) as outbox:
            app = make_app(
                settings,
                inbox=Inbox(cache, operator="سارا"),
                credentials=credentials,
                outbox=outbox,
                welcome=False,
                logger=logging.getLogger("tests.app"),
            )
            async with app.run_test(size=(100, 30)) as pilot:
                keyring.locked = True
                ref = await outbox.submit(cid, CAR, "POST", SendMessageBody(message="سلام"))
                item = await until_item(
                    outbox, ref, lambda i: (i.reason or "").startswith("waiting:")
                )
                assert item.state == "retrying"
                assert "the keyring is locked: unlock it" in (item.reason or "")
                await pilot.pause()
                assert app.main_screen.status.keyring == "keyring locked: unlock it"
                assert await sandbox.control.sent() == []
                keyring.locked = False
                item = await until_item(outbox, ref, lambda i: i.state == "sent")
                await pilot.pause()
                assert app.main_screen.status.keyring == ""
    assert len(await sandbox.control.sent()) == 1


async def test_a_hanging_keyring_never_freezes_the_screen_and_ctrl_q_quits_at_once(
    sandbox: Sandbox, kenar: KenarClient, tmp_path: Path, quick_keyring: None
) -> None:
    """A keyring call that never returns: the reply waits in words, Ctrl+Q quits on one press."""
    cid = (await sandbox.control.open_conversation(CAR))["id"]
    keyring = GateKeyring()
    credentials = await stored_credentials(sandbox, keyring)
    settings = Settings.load(tmp_path / "none.toml", data_dir=tmp_path / "data")
    try:
        with Cache(tmp_path / "cache.sqlite3") as cache:
            async with Outbox(cache, kenar=kenar, credentials=credentials) as outbox:
                app = make_app(
                    settings,
                    inbox=Inbox(cache, operator="سارا"),
                    credentials=credentials,
                    outbox=outbox,
                    welcome=False,
                )
                async with app.run_test(size=(100, 30)) as pilot:
                    keyring.released.clear()  # every keyring call from now on hangs
                    ref = await outbox.submit(cid, CAR, "POST", SendMessageBody(message="سلام"))
                    item = await until_item(
                        outbox, ref, lambda i: (i.reason or "").startswith("waiting:")
                    )
                    assert "the keyring has not answered" in (item.reason or "")
                    await pilot.pause()
                    assert app.main_screen.status.keyring == "keyring not answering"
                    # The screen still answers keys while the keyring hangs.
                    await pilot.press("f1")
                    assert type(app.screen).__name__ == "HelpScreen"
                    await pilot.press("escape", "ctrl+q")
                    await pilot.pause()
                    assert app.return_code is not None or not app.is_running
            assert await sandbox.control.sent() == []
    finally:
        keyring.released.set()
