"""`TokenKeeper`: tokens refreshed before they expire, subscriptions renewed, revocations obeyed.

    async with TokenKeeper(kenar, credentials, client_id=..., redirect_uri=...,
                           on_revoked=..., on_problem=...) as keeper:
        ...                                  # refreshes in the background
        await keeper.handle_entry(entry)     # feed it timeline entries: revocations drop tokens
        keeper.wake()                        # after a login stored a new token

A token is refreshed at 80% of its life, or five minutes before it expires if that is sooner.
The new pair replaces the old one atomically in the keyring, then the token's subscriptions are
made again, since Divar ties a subscription to the token it was made with. The clock is a
parameter (`now`), so tests move time instead of waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Self

from kenar_api.client import KenarClient
from kenar_api.events import UserAccessRevocationEvent
from kenar_core.errors import AuthError, CredentialError, KenarError, KeyringUnavailable
from kenar_core.lifecycle import AsyncResource, stop_task
from kenar_tui.auth.subscriptions import subscribe_token
from kenar_tui.credentials import CredentialStore, StoredToken
from kenar_tui.keyring_thread import keyring_call

REFRESH_FRACTION = 0.8
REFRESH_MARGIN = timedelta(minutes=5)
RETRY_FIRST = timedelta(seconds=30)
RETRY_MAX = timedelta(minutes=5)
# Clocks disagree: a token obtained this soon after a revocation (by our clock) still goes.
REVOCATION_SLACK = timedelta(minutes=1)
# The loop looks at the clock at least this often, so a suspended laptop catches up on waking.
MAX_NAP_S = 60.0


@dataclass(frozen=True, slots=True)
class RevocationNotice:
    """A seller withdrew the app's access; the tokens dropped because of it."""

    user_id: str
    dropped: list[StoredToken] = field(default_factory=list)

    @property
    def message(self) -> str:
        if not self.dropped:
            return (
                "Divar reports that a seller withdrew this app's access; "
                "no stored token was theirs."
            )
        return (
            f"Divar reports that the seller withdrew this app's access: {len(self.dropped)} "
            "token(s) were removed and their chats can no longer be answered. "
            "Log in again (kenar-tui login) to restore access."
        )


@dataclass(frozen=True, slots=True)
class TokenProblem:
    """A token the keeper could not keep alive, in words; `fatal` means log in again."""

    token_id: str
    message: str
    fatal: bool


@dataclass(slots=True)
class _Trouble:
    retry_at: datetime | None = None
    wait: timedelta = RETRY_FIRST
    fatal: bool = False


def _now() -> datetime:
    return datetime.now(UTC)


def refresh_due_at(
    token: StoredToken,
    *,
    fraction: float = REFRESH_FRACTION,
    margin: timedelta = REFRESH_MARGIN,
) -> datetime:
    """When `token` should be refreshed: at `fraction` of its life or `margin` before expiry."""
    by_fraction = token.obtained_at + timedelta(seconds=token.lifetime_s * fraction)
    by_margin = token.expires_at - margin
    return max(min(by_fraction, by_margin), token.obtained_at)


class TokenKeeper(AsyncResource):
    """Keeps every stored token alive for as long as its refresh token allows."""

    def __init__(
        self,
        kenar: KenarClient,
        credentials: CredentialStore,
        *,
        client_id: str,
        redirect_uri: str,
        now: Callable[[], datetime] = _now,
        on_refreshed: Callable[[StoredToken], None] | None = None,
        on_revoked: Callable[[RevocationNotice], None] | None = None,
        on_problem: Callable[[TokenProblem], None] | None = None,
        resubscribe: bool = True,
        fraction: float = REFRESH_FRACTION,
        margin: timedelta = REFRESH_MARGIN,
        logger: logging.Logger | None = None,
    ) -> None:
        if not 0 < fraction < 1:
            raise ValueError("the refresh fraction is between 0 and 1")
        self._kenar = kenar
        self._credentials = credentials
        self._client_id = client_id
        self._redirect_uri = redirect_uri
        self._now = now
        self._on_refreshed = on_refreshed
        self._on_revoked = on_revoked
        self._on_problem = on_problem
        self._resubscribe = resubscribe
        self._fraction = fraction
        self._margin = margin
        self._log = logger or logging.getLogger("kenar_tui.auth.keeper")
        self._trouble: dict[str, _Trouble] = {}
        self._unsubscribed: set[str] = set()
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        self.start()
        return self

    def start(self) -> None:
        if self._closed:
            raise RuntimeError("this token keeper is closed")
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="token-keeper")

    async def aclose(self) -> None:
        """Stop refreshing; calling it again does nothing."""
        if self._closed:
            return
        self._closed = True
        if self._task is not None:
            await stop_task(self._task)
            self._task = None

    def listen(
        self,
        *,
        on_refreshed: Callable[[StoredToken], None] | None = None,
        on_revoked: Callable[[RevocationNotice], None] | None = None,
        on_problem: Callable[[TokenProblem], None] | None = None,
    ) -> None:
        """Set who hears of refreshes, revocations and problems (the console, once it runs)."""
        self._on_refreshed = on_refreshed
        self._on_revoked = on_revoked
        self._on_problem = on_problem

    def wake(self) -> None:
        """Look at the stored tokens again now (a login added one, the clock jumped)."""
        self._wake.set()

    # -- refreshing --------------------------------------------------------------------------

    def due_at(self, token: StoredToken) -> datetime:
        return refresh_due_at(token, fraction=self._fraction, margin=self._margin)

    def next_due(self) -> datetime | None:
        """The next moment the keeper has work: a refresh, a retry, a missing subscription."""
        moments: list[datetime] = []
        for token in self._credentials.tokens():
            trouble = self._trouble.get(token.id)
            if trouble is not None and trouble.fatal:
                continue
            if trouble is not None and trouble.retry_at is not None:
                # A failed refresh or subscription waits for its retry, nothing sooner.
                moments.append(trouble.retry_at)
                continue
            if token.refresh_token is not None:
                moments.append(self.due_at(token))
            if token.id in self._unsubscribed:
                moments.append(self._now())
        return min(moments, default=None)

    async def refresh_due(self) -> list[StoredToken]:
        """One pass: refresh every token that is due, renew missing subscriptions."""
        async with self._lock:
            refreshed: list[StoredToken] = []
            now = self._now()
            for token in await keyring_call(self._credentials.tokens):
                trouble = self._trouble.get(token.id)
                if trouble is not None and (
                    trouble.fatal or (trouble.retry_at is not None and now < trouble.retry_at)
                ):
                    continue
                if token.refresh_token is None:
                    if token.expired(now):
                        self._fatal(
                            token,
                            "has expired and cannot be refreshed (it was granted "
                            "without offline_access); log in again (kenar-tui login)",
                        )
                    continue
                if now >= self.due_at(token):
                    new = await self._refresh(token)
                    if new is not None:
                        refreshed.append(new)
                elif token.id in self._unsubscribed:
                    await self._subscribe(token)
            return refreshed

    async def refresh(self, token: StoredToken) -> StoredToken | None:
        """Refresh `token` now, whether due or not; None when it failed (reported)."""
        async with self._lock:
            return await self._refresh(token)

    async def _refresh(self, token: StoredToken) -> StoredToken | None:
        assert token.refresh_token is not None
        try:
            client_secret = await keyring_call(self._credentials.require, "client-secret")
            response = await self._kenar.refresh_token(
                token.refresh_token,
                access_token=token.access_token,
                client_id=self._client_id,
                client_secret=client_secret,
                redirect_uri=self._redirect_uri,
            )
        except KeyringUnavailable as exc:
            self._retry_later(token, f"waits for the keyring: {exc}")
            return None
        except (AuthError, CredentialError) as exc:
            self._fatal(token, f"could not be refreshed: {exc}")
            return None
        except KenarError as exc:
            self._retry_later(token, f"could not be refreshed yet: {exc}")
            return None
        fresh = StoredToken.from_response(response, user_id=token.user_id)
        # Dated by the keeper's clock, the one its schedule runs on.
        start = self._now()
        fresh = replace(
            fresh, obtained_at=start, expires_at=start + (fresh.expires_at - fresh.obtained_at)
        )
        if not fresh.scopes:
            fresh = replace(fresh, scopes=token.scopes)
        if fresh.refresh_token is None:
            # Divar rotates both; if one ever comes back alone, keep the refresh token we hold.
            fresh = replace(fresh, refresh_token=token.refresh_token)
        try:
            new = await keyring_call(self._credentials.replace_token, token.id, fresh)
        except CredentialError as exc:
            self._retry_later(token, f"was refreshed but could not be saved: {exc}")
            return None
        self._trouble.pop(token.id, None)
        self._unsubscribed.discard(token.id)
        self._log.info("refreshed token %s as %s", token.id, new.id)
        if self._resubscribe:
            await self._subscribe(new)
        # Reported once subscribed again, so "refreshed" means the token is fully back in use.
        if self._on_refreshed is not None:
            self._on_refreshed(new)
        return new

    async def _subscribe(self, token: StoredToken) -> None:
        try:
            await subscribe_token(self._kenar, token, logger=self._log)
        except KenarError as exc:
            self._unsubscribed.add(token.id)
            self._retry_later(token, f"is fresh but its subscriptions failed: {exc}")
            return
        self._unsubscribed.discard(token.id)
        self._trouble.pop(token.id, None)

    def _retry_later(self, token: StoredToken, what: str) -> None:
        trouble = self._trouble.setdefault(token.id, _Trouble())
        trouble.retry_at = self._now() + trouble.wait
        self._log.warning("token %s: retrying in %ds", token.id, int(trouble.wait.total_seconds()))
        trouble.wait = min(trouble.wait * 2, RETRY_MAX)
        self._report(TokenProblem(token.id, f"token {token.id} {what}", fatal=False))

    def _fatal(self, token: StoredToken, what: str) -> None:
        trouble = self._trouble.setdefault(token.id, _Trouble())
        if trouble.fatal:
            return
        trouble.fatal = True
        self._log.warning("token %s needs a new login", token.id)
        self._report(TokenProblem(token.id, f"token {token.id} {what}", fatal=True))

    def _report(self, problem: TokenProblem) -> None:
        if self._on_problem is not None:
            self._on_problem(problem)

    async def _run(self) -> None:
        while not self._closed:
            self._wake.clear()
            try:
                await self.refresh_due()
                due = await keyring_call(self.next_due)
            except CredentialError as exc:
                self._log.warning("token keeper cannot read the keyring")
                self._report(TokenProblem("", str(exc), fatal=False))
                due = self._now() + RETRY_FIRST
            nap = MAX_NAP_S if due is None else (due - self._now()).total_seconds()
            nap = min(max(nap, 0.0), MAX_NAP_S)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(nap):  # not wait_for: see keyring_call
                    await self._wake.wait()

    # -- revocation --------------------------------------------------------------------------

    async def revoke(self, user_id: str, *, before: datetime | None = None) -> RevocationNotice:
        """Drop the tokens of `user_id` and report it; other sellers' tokens stay.

        A token whose user is unknown (stored before logins learned the user id, or when
        Divar did not say) may be the revoker's: it goes too. Logins learn the user id
        (LoginFlow asks for USER_ID and reads GET /v1/open-platform/users), so with them
        exactly the revoker's tokens go. With `before` (when the revocation happened), a token
        obtained after it is kept: a replayed timeline (a console whose cache was purged)
        must not undo a later login.
        """
        async with self._lock:
            affected = [
                t
                for t in await keyring_call(self._credentials.tokens)
                if (t.user_id is None or t.user_id == user_id)
                and (before is None or t.obtained_at <= before + REVOCATION_SLACK)
            ]
            dropped = await keyring_call(self._credentials.drop_tokens, affected)
            for token in dropped:
                self._trouble.pop(token.id, None)
                self._unsubscribed.discard(token.id)
        notice = RevocationNotice(user_id=user_id, dropped=dropped)
        level = logging.WARNING if dropped else logging.INFO
        self._log.log(level, "access revoked by a seller: dropped %d token(s)", len(dropped))
        if self._on_revoked is not None:
            self._on_revoked(notice)
        return notice

    async def handle_event(self, event: object) -> RevocationNotice | None:
        """Act on a parsed webhook event: a USER_ACCESS_REVOCATION drops tokens."""
        if not isinstance(event, UserAccessRevocationEvent):
            return None
        return await self.revoke(event.user_access_revocation.user_id)

    async def handle_entry(self, entry: Mapping[str, Any]) -> RevocationNotice | None:
        """Act on a timeline entry (docs/protocol.md): an `access_revocation` drops tokens."""
        if entry.get("kind") != "access_revocation":
            return None
        data = entry.get("data")
        user_id = data.get("user_id") if isinstance(data, Mapping) else None
        return await self.revoke(str(user_id or ""), before=_moment(entry.get("received_at")))


def _moment(value: object) -> datetime | None:
    """An entry's ISO 8601 time, or None when it has none (or an unreadable one)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
