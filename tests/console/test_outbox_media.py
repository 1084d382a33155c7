"""A photo through the outbox against the sandbox: upload once, send once, visible state.

kenar-docs docs/chat/upload_media.md: upload token, upload to the upload host, send with
media_token. The send follows the outbox's rules: when its answer is lost the reply is
"unknown" and neither the upload nor the send is repeated by itself; a send that failed
before reaching Divar is tried again with the media_token it already has (no second upload).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kenar_api.client import KenarClient
from kenar_api.media import MB, check_file
from kenar_core.errors import MediaError
from kenar_tui.inbox import Inbox
from kenar_tui.outbox import FINAL, UNKNOWN, Outbox, OutboxItem
from kenar_tui.sandbox import Sandbox
from kenar_tui.sandbox.pictures import picture
from kenar_tui.store import Cache
from tests.console.test_outbox import CAR, WAIT, Credentials, issue


@pytest.fixture
async def kenar(sandbox: Sandbox) -> AsyncIterator[KenarClient]:
    async with KenarClient(
        sandbox.api_key,
        api_base=sandbox.base_url,
        oauth_base=sandbox.base_url,
        upload_base=sandbox.upload_base,
        timeout=1.0,
    ) as client:
        yield client


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "dent.png"
    path.write_bytes(picture("dent"))
    return path


def size_of(path: Path) -> int:
    return path.stat().st_size


def grow(path: Path, extra: int) -> None:
    path.write_bytes(path.read_bytes() + bytes(extra))


async def settle(outbox: Outbox, ref: str, *states: str) -> OutboxItem:
    wanted = states or FINAL
    async with asyncio.timeout(WAIT):
        return await outbox.wait(ref, lambda item: item.state in wanted)


def outbox_for(cache: Cache, kenar: KenarClient, credentials: Credentials) -> Outbox:
    return Outbox(
        cache,
        kenar=kenar,
        credentials=credentials,
        logger=logging.getLogger("tests.outbox"),
        backoff_base=0.05,
        backoff_cap=0.2,
    )


async def test_a_photo_is_uploaded_once_and_sent_once(
    sandbox: Sandbox, kenar: KenarClient, tmp_path: Path, photo: Path
) -> None:
    cid = (await sandbox.control.open_conversation(CAR))["id"]
    sender = await issue(sandbox, f"CHAT_POST_CONVERSATIONS_MESSAGE_SEND.{CAR}")
    with Cache(tmp_path / "cache.sqlite3") as cache:
        inbox = Inbox(cache, operator="سارا")
        async with outbox_for(cache, kenar, Credentials(sandbox.api_key, sender)) as outbox:
            ref = await outbox.submit(cid, CAR, "POST", check_file(photo))
            item = await settle(outbox, ref)
            assert item.state == "sent"
            assert item.text == "[photo] dent.png"
            (shown,) = inbox.history(cid, 0, 5)
            assert (shown.kind, shown.status) == ("reply", "sent")
    state = await sandbox.control.state()
    assert state["uploads"] == 1
    (sent,) = await sandbox.control.sent()
    assert sent["body"]["media_token"].startswith("sbx_media_")
    assert "_media" not in sent["body"]  # the outbox's note stays local
    (stored,) = [m for m in state["media"] if m["media_token"] == sent["body"]["media_token"]]
    assert (stored["name"], stored["size"]) == ("dent.png", size_of(photo))


async def test_a_lost_send_answer_is_unknown_with_one_upload_and_one_copy(
    sandbox: Sandbox, kenar: KenarClient, tmp_path: Path, photo: Path
) -> None:
    cid = (await sandbox.control.open_conversation(CAR))["id"]
    sender = await issue(sandbox, f"CHAT_POST_CONVERSATIONS_MESSAGE_SEND.{CAR}")
    await sandbox.control.set_faults(lose_answer_next=1, lose_answer_as="drop", only_path="/v2/")
    with Cache(tmp_path / "cache.sqlite3") as cache:
        async with outbox_for(cache, kenar, Credentials(sandbox.api_key, sender)) as outbox:
            ref = await outbox.submit(cid, CAR, "POST", check_file(photo))
            item = await settle(outbox, ref)
            assert item.state == "unknown" and item.attempts == 1
            assert item.reason is not None and item.reason.startswith(UNKNOWN)
            assert await outbox.resume() == []  # a restart repeats nothing either
    state = await sandbox.control.state()
    assert state["uploads"] == 1
    assert len(await sandbox.control.sent()) == 1


async def test_a_send_that_never_arrived_is_retried_without_a_second_upload(
    sandbox: Sandbox, kenar: KenarClient, tmp_path: Path, photo: Path
) -> None:
    cid = (await sandbox.control.open_conversation(CAR))["id"]
    sender = await issue(sandbox, f"CHAT_POST_CONVERSATIONS_MESSAGE_SEND.{CAR}")
    # Two 429s on the send (Divar did nothing): the outbox waits and sends again.
    await sandbox.control.set_faults(rate_limit_next=2, retry_after=0, only_path="/v2/")
    async with KenarClient(
        sandbox.api_key,
        api_base=sandbox.base_url,
        upload_base=sandbox.upload_base,
        retries=0,
    ) as once:
        with Cache(tmp_path / "cache.sqlite3") as cache:
            async with outbox_for(cache, once, Credentials(sandbox.api_key, sender)) as outbox:
                ref = await outbox.submit(cid, CAR, "POST", check_file(photo))
                item = await settle(outbox, ref)
    assert item.state == "sent" and item.attempts == 3
    assert (await sandbox.control.state())["uploads"] == 1
    assert len(await sandbox.control.sent()) == 1


async def test_a_file_that_grew_past_the_limit_fails_with_nothing_sent(
    sandbox: Sandbox, kenar: KenarClient, tmp_path: Path, photo: Path
) -> None:
    cid = (await sandbox.control.open_conversation(CAR))["id"]
    sender = await issue(sandbox, f"CHAT_POST_CONVERSATIONS_MESSAGE_SEND.{CAR}")
    checked = check_file(photo)
    grow(photo, 5 * MB)  # changed after it was picked
    with Cache(tmp_path / "cache.sqlite3") as cache:
        async with outbox_for(cache, kenar, Credentials(sandbox.api_key, sender)) as outbox:
            ref = await outbox.submit(cid, CAR, "POST", checked)
            item = await settle(outbox, ref)
    assert item.state == "failed"
    assert item.reason is not None and "at most 5 MB" in item.reason
    assert (await sandbox.control.state())["uploads"] == 0
    assert await sandbox.control.sent() == []


def test_limits_refuse_before_any_upload(tmp_path: Path) -> None:
    big = tmp_path / "big.jpg"
    big.write_bytes(b"\xff\xd8\xff" + bytes(5 * MB))
    with pytest.raises(MediaError, match="at most 5 MB"):
        check_file(big)
