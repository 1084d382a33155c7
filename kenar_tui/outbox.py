"""`Outbox`: replies that are sent, or visibly failed with the reason in words.

A reply is written to the cache (state "sending") before anything goes on the wire, so a
restart finds it. Transient failures (no connection, Kenar's 5xx, rate limits) move it to
"retrying" with an exponential back-off whose next moment is stored too; final ones (no
token, the buyer restricts messages, a rejected body) to "failed". Once Kenar accepted it,
it is "sent" and then posted to the relay's timeline as a `reply` entry so teammates see it;
if the relay is offline that post waits and is retried, the reply stays "sent".

A reply whose answer was lost (a read timeout, a connection dropped after sending, a 5xx
such as a gateway's 502) or that was interrupted in flight (the console died during the HTTP
call) may or may not have reached the buyer. Kenar has no idempotency key, so it is never
resent by itself: it becomes "unknown — may have been delivered", `retry(ref)` sends it again
on the user's word (one key in the console), and Divar's echo of it in the timeline resolves
it to "sent" (`OutboxRows.confirm_delivered`, called where the echo is merged).

This module is the state machine over the stored rows; one attempt at Divar and what its
failure means are in outbox_attempt.py, the states, `OutboxItem` and the Protocols of what the
outbox uses in outbox_items.py (their public names are re-exported here).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from kenar_api.bodies import ChatbotMessageBody, SendMessageBody
from kenar_api.media import MediaFile
from kenar_core.backoff import retry_delay
from kenar_core.errors import (
    CredentialError,
    KenarError,
    KenarTuiError,
    KeyringUnavailable,
    MediaError,
    ProtocolError,
    RelayUnavailable,
)
from kenar_core.lifecycle import AsyncResource, stop_tasks
from kenar_tui.history import reply_text
from kenar_tui.media import sending as media_sending
from kenar_tui.outbox_attempt import (
    AnswerLost,
    Transient,
    build_body,
    failure_words,
    send_row,
    upload_media,
)
from kenar_tui.outbox_items import (
    FINAL,
    INTERRUPTED,
    STATES,
    UNKNOWN,
    Credentials,
    Kenar,
    Link,
    OutboxItem,
)
from kenar_tui.store import ButtonCaptions, Cache, OutboxRow, OutboxRows, Timeline, micros

KEYRING_RETRY_S = 5.0  # a locked keyring is asked again this often (no attempt is used)
RELAY_POST_ATTEMPTS = 10  # confirmations missed while connected before giving up


class Outbox(AsyncResource):
    def __init__(
        self,
        cache: Cache,
        *,
        kenar: Kenar,
        credentials: Credentials,
        link: Link | None = None,
        logger: logging.Logger | None = None,
        operator: str | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        backoff_base: float = 2.0,
        backoff_cap: float = 300.0,
        max_attempts: int = 12,
        close_grace: float = 5.0,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.cache = cache
        self.kenar = kenar
        self.credentials = credentials
        self.link = link
        self.log = logger or logging.getLogger("kenar_tui.outbox")
        self.operator = operator
        self.now = now
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_attempts = max_attempts
        self.close_grace = close_grace
        self._rand = rand
        self.rows = OutboxRows(cache)
        self.timeline = Timeline(cache)
        self.buttons = ButtonCaptions(cache)
        self.on_change: Callable[[OutboxItem], None] | None = None
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._closing = asyncio.Event()
        self._pulse = asyncio.Event()
        self._closed = False

    # --- lifetime --------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Stop: waiting retries stop at once, sends in flight get `close_grace` seconds."""
        if self._closed:
            return
        self._closed = True
        self._closing.set()
        tasks = list(self._tasks.values())
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=self.close_grace)
            await stop_tasks(pending)
        self.log.info("outbox closed")

    # --- the public operations -------------------------------------------------------------

    async def submit(
        self,
        cid: str,
        post_token: str | None,
        conversation_type: str,
        body: str | SendMessageBody | ChatbotMessageBody | MediaFile,
    ) -> str:
        """Persist a reply, show it as "sending", and send it in the background; its ref.

        A MediaFile (checked by kenar_api.media.check_file) is uploaded once, then sent with
        its media_token (kenar_tui/media/sending.py)."""
        if self._closed:
            raise KenarTuiError("the outbox is closed; replies cannot be queued any more")
        kind = "BOT" if str(conversation_type).upper() == "BOT" else "POST"
        if isinstance(body, MediaFile):
            wire = media_sending.media_body(body)
        else:
            wire = build_body(kind, body).wire()  # ProtocolError for an empty or too long text
        ref = uuid.uuid4().hex
        at = micros(self.now())
        text = reply_text(wire)
        with self.cache.transaction():
            self.rows.insert(
                OutboxRow(
                    ref=ref,
                    conversation_id=cid,
                    post_token=post_token,
                    conversation_type=kind,
                    body=wire,
                    state="sending",
                    reason=None,
                    attempts=0,
                    next_attempt_at=None,
                    created_at=at,
                    updated_at=at,
                    relay_state=None,
                    relay_seq=None,
                )
            )
            self.timeline.ensure_conversation(cid, post_token, kind)
            self.timeline.append(
                cid, kind="reply", side="seller", at=at, ref=ref, text=text, preview=text
            )
            self.buttons.remember(cid, wire, at)
        self.log.info("outbox queued %s", ref[:8])
        self._changed(ref)
        self._spawn(ref)
        return ref

    async def resume(self) -> list[OutboxItem]:
        """After a restart: continue what was pending; returns the items taken up."""
        taken = []
        for row in self.rows.unfinished():
            if row.state == "sending" and row.attempts > 0:
                self._update(row.ref, state="unknown", reason=INTERRUPTED)
                continue
            taken.append(OutboxItem.of(row))
            self._spawn(row.ref)
        return taken

    async def retry(self, ref: str) -> None:
        """Send a failed or unknown reply again, on the user's word."""
        row = self.rows.get(ref)
        if row is None or row.state not in ("failed", "unknown"):
            return
        self._update(ref, state="sending", reason=None, attempts=0, next_attempt_at=None)
        self._spawn(ref)

    def item(self, ref: str) -> OutboxItem | None:
        row = self.rows.get(ref)
        return OutboxItem.of(row) if row else None

    def items(self, *states: str) -> list[OutboxItem]:
        """Items in the given states (all by default), oldest first."""
        chosen = states or STATES
        return [OutboxItem.of(r) for r in self.rows.by_state(*chosen)]

    async def wait(
        self, ref: str, until: Callable[[OutboxItem], bool] = lambda i: i.state in FINAL
    ) -> OutboxItem:
        """Wait until the item satisfies `until` (by default: sent, failed or unknown)."""
        while True:
            pulse = self._pulse
            item = self.item(ref)
            if item is None:
                raise KeyError(ref)
            if until(item):
                return item
            await pulse.wait()

    # --- sending ---------------------------------------------------------------------------

    def _spawn(self, ref: str) -> None:
        running = self._tasks.get(ref)
        if running is not None and not running.done():
            return
        task = asyncio.create_task(self._deliver(ref), name=f"outbox-{ref[:8]}")
        self._tasks[ref] = task
        task.add_done_callback(functools.partial(self._forget, ref))

    def _forget(self, ref: str, task: asyncio.Task[None]) -> None:
        if self._tasks.get(ref) is task:
            del self._tasks[ref]
        if not task.cancelled() and task.exception() is not None:
            self.log.error("outbox task for %s failed: %r", ref[:8], task.exception())

    async def _deliver(self, ref: str) -> None:
        while not self._closing.is_set():
            row = self.rows.get(ref)
            if row is None:
                return
            if row.state == "sent":
                if row.relay_state == "pending":
                    await self._post_to_relay(row)
                return
            if row.state in ("failed", "unknown"):
                return
            if row.next_attempt_at is not None:
                delay = (row.next_attempt_at - micros(self.now())) / 1e6
                if delay > 0 and await self._pause(delay):
                    return
            attempts = row.attempts + 1
            self._update(ref, state="sending", attempts=attempts)
            try:
                await self._send(row)
            except AnswerLost as exc:
                shown = self.timeline.item_by_ref(ref)
                if shown is None or shown.echo_seq is None:
                    self._update(ref, state="unknown", reason=exc.words, next_attempt_at=None)
                    self.log.info("outbox %s unknown", ref[:8])
                    return
                # Divar's echo came before the lost answer would have: it was delivered.
                self._update(ref, state="sent", reason=None, relay_state="skipped")
                return
            except Transient as exc:
                if attempts >= self.max_attempts:
                    why = f"gave up after {attempts} attempts: {exc.words}"
                    self._update(ref, state="failed", reason=why, next_attempt_at=None)
                    return
                delay = max(self._backoff(attempts), exc.wait_at_least)
                self._update(
                    ref,
                    state="retrying",
                    reason=f"{exc.words}; trying again in {delay:.0f} s",
                    next_attempt_at=micros(self.now()) + int(delay * 1e6),
                )
                continue
            except KeyringUnavailable as exc:
                # Nothing reached Divar yet: waiting for the keyring costs no attempt.
                self._update(
                    ref,
                    state="retrying",
                    attempts=attempts - 1,
                    reason=f"waiting: {exc}",
                    next_attempt_at=micros(self.now()) + int(KEYRING_RETRY_S * 1e6),
                )
                continue
            except (KenarError, ProtocolError, CredentialError, MediaError) as exc:
                self._update(ref, state="failed", reason=failure_words(exc, row.post_token))
                self.log.info("outbox %s failed", ref[:8])
                return
            self._sent(row)
            sent = self.rows.get(ref)
            if sent is not None and sent.relay_state == "pending":
                await self._post_to_relay(sent)
            return

    async def _send(self, row: OutboxRow) -> None:
        if media_sending.needs_upload(row.body):
            row = await self._upload(row)
        await send_row(row, self.kenar, self.credentials)

    async def _upload(self, row: OutboxRow) -> OutboxRow:
        """Upload a media reply's file and store its media_token before anything is sent."""
        media_token = await upload_media(row, self.kenar)
        body = {**row.body, "media_token": media_token}
        self.rows.set_body(row.ref, body, micros(self.now()))
        self.log.info("outbox %s uploaded", row.ref[:8])
        return self.rows.get(row.ref) or row

    def _sent(self, row: OutboxRow) -> None:
        relay_state = "pending" if self.link is not None else "skipped"
        with self.cache.transaction():
            self._update(
                row.ref, state="sent", reason=None, next_attempt_at=None, relay_state=relay_state
            )
            self.timeline.seller_wrote(row.conversation_id, micros(self.now()))
        self.log.info("outbox %s sent", row.ref[:8])

    async def _post_to_relay(self, row: OutboxRow) -> None:
        """Put the sent reply on the shared timeline, waiting for the relay as long as needed."""
        link = self.link
        if link is None:
            return
        entry = {
            "kind": "reply",
            "conversation_id": row.conversation_id,
            "post_token": row.post_token,
            "author": self.operator,
            "data": {"conversation_type": row.conversation_type, "body": row.body, "ref": row.ref},
        }
        attempt = refused = 0
        while not self._closing.is_set():
            if not link.online and await self._until(link.wait_online()):
                return
            try:
                seq = await link.post(entry, ref=row.ref)
            except RelayUnavailable:
                if link.online:
                    # Connected, yet not confirmed: the relay may be refusing this entry.
                    refused += 1
                    if refused >= RELAY_POST_ATTEMPTS:
                        self.log.warning("outbox %s: the relay did not take the reply", row.ref[:8])
                        self._update(row.ref, relay_state="refused")
                        return
                attempt += 1
                if await self._pause(retry_delay(attempt, base=0.5, cap=30.0, jitter="none")):
                    return
                continue
            self._update(row.ref, relay_state="posted", relay_seq=seq)
            return

    # --- helpers ---------------------------------------------------------------------------

    def _backoff(self, attempts: int) -> float:
        return retry_delay(
            attempts - 1, base=self.backoff_base, cap=self.backoff_cap, rand=self._rand
        )

    async def _pause(self, seconds: float) -> bool:
        """Sleep `seconds`; True when the outbox is closing instead."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):  # keeps the caller's cancel (3.11)
                await self._closing.wait()
        return self._closing.is_set()

    async def _until(self, awaitable: Awaitable[None]) -> bool:
        """Wait for `awaitable` or closing, whichever first; True when closing."""
        waiter = asyncio.ensure_future(awaitable)
        closing = asyncio.create_task(self._closing.wait())
        await asyncio.wait({waiter, closing}, return_when=asyncio.FIRST_COMPLETED)
        await stop_tasks((waiter, closing))
        return self._closing.is_set()

    def _update(self, ref: str, **fields: Any) -> None:
        self.rows.update(ref, updated_at=micros(self.now()), **fields)
        self._changed(ref)

    def _changed(self, ref: str) -> None:
        pulse, self._pulse = self._pulse, asyncio.Event()
        pulse.set()
        item = self.item(ref)
        if item is not None and self.on_change is not None:
            try:
                self.on_change(item)
            except Exception:
                self.log.exception("outbox change callback failed")

    def __repr__(self) -> str:
        return f"Outbox({len(self._tasks)} in flight)"


__all__ = [
    "FINAL",
    "INTERRUPTED",
    "STATES",
    "UNKNOWN",
    "Outbox",
    "OutboxItem",
]
