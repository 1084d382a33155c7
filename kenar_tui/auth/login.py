"""One OAuth login: the scopes, a fresh state, the authorize URL, the code, the stored tokens.

flow = LoginFlow(kenar, credentials, client_id=..., redirect_uri=..., posts=["gZd7omnS"])
flow.url                                   # open it in a browser / show it as a QR code
code = await flow.code_from_link(link)     # the console: through its RelayLink
code = await flow.code_from_relay(url, token)   # the CLI: a short-lived relay connection
code = flow.code_from_redirect(pasted_url)      # no relay: the address the browser landed on
token = await flow.finish(code)            # exchanged and stored in the keyring
outcome = await finish_login(flow, kenar, code)  # ...and subscribed to new messages
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Protocol

from kenar_api.bodies import SubscriptionRequest
from kenar_api.client import KenarClient
from kenar_api.oauth import new_state, read_redirect, state_matches
from kenar_api.scopes import (
    OFFLINE,
    POSTS_GET,
    READ_ALL,
    READ_POST,
    REVOCATION_SCOPES,
    SEND_ALL,
    SEND_POST,
    USER_ID,
)
from kenar_core.errors import KenarError, LoginError
from kenar_tui.auth.relay_callback import relay_oauth_code
from kenar_tui.auth.subscriptions import describe, subscribe_token
from kenar_tui.credentials import CredentialStore, StoredToken
from kenar_tui.keyring_thread import keyring_call

# Divar post tokens are short base62-ish words (e.g. gZd7omnS); refuse anything else early.
_POST_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class CodeSource(Protocol):
    """What the console's RelayLink offers a login: the code for a state it announced."""

    # RelayLink's own signature (docs/console.md).
    async def oauth_code(self, state: str, timeout: float = ...) -> str: ...  # noqa: ASYNC109


def login_scopes(posts: Iterable[str] = (), *, all_posts: bool = False) -> list[str]:
    """The scopes to ask for: read and send per post, or for all the seller's posts; refreshable;
    USER_POSTS_GET for every seller, so the console can list their posts (docs/post/
    get_user_posts.md) and the POST_UPDATE subscription that keeps titles and prices fresh
    stays alive; and NOTIFICATION_ACCESS_REVOCATION with USER_ID, so Divar tells us when the
    seller withdraws access and we know whose tokens to drop (docs/events/auth.md)."""
    chosen = [p.strip() for p in posts if p.strip()]
    if all_posts and chosen:
        raise LoginError(
            "ask either for some posts (--post) or for all posts (--all-posts), not both"
        )
    if all_posts:
        return [READ_ALL, SEND_ALL, POSTS_GET, *REVOCATION_SCOPES, OFFLINE]
    if not chosen:
        raise LoginError(
            "name the posts to answer in (--post TOKEN, repeatable) or use --all-posts"
        )
    scopes: list[str] = []
    for post in dict.fromkeys(chosen):
        if not _POST_TOKEN.match(post):
            raise LoginError(f"{post!r} does not look like a Divar post token (such as gZd7omnS)")
        scopes += [f"{READ_POST}.{post}", f"{SEND_POST}.{post}"]
    return [*scopes, POSTS_GET, *REVOCATION_SCOPES, OFFLINE]


class LoginFlow:
    """The state of one login, from the authorize URL to the stored token set."""

    def __init__(
        self,
        kenar: KenarClient,
        credentials: CredentialStore,
        *,
        client_id: str,
        redirect_uri: str,
        posts: Iterable[str] = (),
        all_posts: bool = False,
        logger: logging.Logger | None = None,
    ) -> None:
        self._kenar = kenar
        self._credentials = credentials
        self._log = logger or logging.getLogger("kenar_tui.auth.login")
        self.client_id = client_id
        self.redirect_uri = redirect_uri
        self.scopes = login_scopes(posts, all_posts=all_posts)
        self.state = new_state()
        self.url = kenar.authorize_url(
            client_id=client_id, redirect_uri=redirect_uri, scopes=self.scopes, state=self.state
        )

    def __repr__(self) -> str:
        return f"LoginFlow(scopes={self.scopes!r})"

    # -- receiving the code ------------------------------------------------------------------

    def code_from_redirect(self, pasted: str) -> str:
        """The code in the address the browser was sent back to, checked against our state."""
        text = pasted.strip()
        if not text:
            raise LoginError("nothing was pasted; paste the whole address from the browser's bar")
        redirect = read_redirect(text)
        if redirect.state is None and redirect.code is None and redirect.error is None:
            raise LoginError(
                "that address has no code or state in it; paste the whole address the browser "
                "landed on after you approved (it contains ?code=...&state=...)"
            )
        if not state_matches(self.state, redirect.state):
            raise LoginError(
                "that address belongs to a different login (its state does not match this one); "
                "open the link printed by this login and paste where it lands"
            )
        if redirect.error or not redirect.code:
            # "Deny" at Divar: no code, maybe no error (docs/oauth/ReadMe.md, step two).
            why = redirect.error or "no code came back"
            raise LoginError(f"login refused: Divar did not grant access: {why}")
        return redirect.code

    # The timeout is the user's time to approve, named in the error; not a call deadline.
    async def code_from_link(self, link: CodeSource, *, timeout: float = 300.0) -> str:  # noqa: ASYNC109
        """The code through the console's own relay connection."""
        try:
            return await link.oauth_code(self.state, timeout=timeout)
        except TimeoutError:
            raise LoginError(f"no answer from Divar's login within {timeout:g}s") from None

    async def code_from_relay(
        self,
        relay_url: str,
        relay_token: str,
        *,
        timeout: float = 300.0,  # noqa: ASYNC109
        ready: asyncio.Event | None = None,
    ) -> str:
        """The code through a short-lived relay connection (no console running)."""
        return await relay_oauth_code(
            relay_url, relay_token, self.state, timeout=timeout, ready=ready, logger=self._log
        )

    # -- finishing ---------------------------------------------------------------------------

    async def finish(self, code: str) -> StoredToken:
        """Exchange the code for tokens and store them; returns the stored set."""
        # Off the loop with a deadline (keyring_thread.py): a locked keyring never freezes it.
        client_secret = await keyring_call(self._credentials.require, "client-secret")
        response = await self._kenar.exchange_code(
            code,
            client_id=self.client_id,
            client_secret=client_secret,
            redirect_uri=self.redirect_uri,
        )
        granted = set(response.scopes)
        missing = [s for s in self.scopes if s not in granted]
        if response.scopes and missing:
            self._log.warning("login granted %d of %d scopes", len(granted), len(self.scopes))
        stored = StoredToken.from_response(response)
        if not stored.scopes:
            # The token endpoint may leave `scope` out; the grant is then what we asked for.
            stored = replace(stored, scopes=tuple(self.scopes))
        if stored.user_id is None and USER_ID in stored.scopes:
            stored = replace(stored, user_id=await self._user_id(stored.access_token))
        token = await keyring_call(self._credentials.add_token, stored)
        self._log.info("logged in: token %s with %d scopes", token.id, len(token.scopes))
        return token

    async def _user_id(self, access_token: str) -> str | None:
        """The seller's user id (GET /v1/open-platform/users), so a revocation names its tokens.

        None when Divar does not say: the login still works, and a revocation then drops
        every token whose user is unknown, as before.
        """
        try:
            user = await self._kenar.get_user(access_token=access_token)
        except KenarError as exc:
            self._log.warning("could not learn the user id of the login: %s", exc)
            return None
        return user.user_id or None


@dataclass(slots=True)
class LoginOutcome:
    """A finished login: the stored token, the subscriptions made, or why subscribing failed."""

    token: StoredToken
    subscribed: list[SubscriptionRequest] = field(default_factory=list)
    subscribe_error: str | None = None

    @property
    def summary(self) -> str:
        """ "logged in: token …, N scope(s), expires …" (never a secret)."""
        token = self.token
        return (
            f"logged in: token {token.id}, {len(token.scopes)} scope(s), "
            f"expires {token.expires_at:%Y-%m-%d %H:%M %Z}"
        )

    @property
    def subscriptions(self) -> list[str]:
        """The subscriptions made, in words ("new messages on post gZd7omnS")."""
        return [describe(request) for request in self.subscribed]


async def finish_login(
    flow: LoginFlow,
    kenar: KenarClient,
    code: str,
    *,
    subscribe: bool = True,
    logger: logging.Logger | None = None,
) -> LoginOutcome:
    """Exchange and store the tokens, then subscribe to new messages on what they may read.

    A failed exchange raises; a failed subscription does not undo the login: it is reported
    in `subscribe_error`, for the user to retry (`kenar-tui subscribe`).
    """
    token = await flow.finish(code)
    outcome = LoginOutcome(token)
    if subscribe:
        try:
            outcome.subscribed = await subscribe_token(kenar, token, logger=logger)
        except KenarError as exc:
            outcome.subscribe_error = str(exc)
    return outcome
