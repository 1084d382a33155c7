"""Build the console: `make_app` from ready objects, `open_console` from `Settings`.

One factory for the CLI, the Pilot tests and the snapshot tests, so all three run the
same wiring.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from kenar_tui.app import KenarApp
from kenar_tui.config import Settings

if TYPE_CHECKING:
    from kenar_api.client import KenarClient
    from kenar_tui.auth.keeper import TokenKeeper
    from kenar_tui.credentials import CredentialStore
    from kenar_tui.posts import PostCatalogue
    from kenar_tui.services import (
        CredentialService,
        InboxService,
        KeeperService,
        LinkService,
        OutboxService,
    )
    from kenar_tui.store.cache import Cache


def needs_welcome(settings: Settings, credentials: CredentialService) -> bool:
    """True on a first run: no relay URL, or no token to reach it with."""
    if settings.relay_url is None:
        return True
    try:
        return credentials.relay_token is None
    except Exception:  # no usable keyring: the welcome screen explains the choices
        return True


def make_app(
    settings: Settings,
    *,
    inbox: InboxService,
    credentials: CredentialService,
    link: LinkService | None = None,
    outbox: OutboxService | None = None,
    clock: Callable[[], datetime] | None = None,
    logger: logging.Logger | None = None,
    welcome: bool | None = None,
    kenar: KenarClient | None = None,
    keeper: KeeperService | None = None,
    keeper_note: str | None = None,
    posts: PostCatalogue | None = None,
) -> KenarApp:
    """The app wired to these objects; `welcome` defaults to "nothing is configured"."""
    if welcome is None:
        welcome = link is None and needs_welcome(settings, credentials)
    return KenarApp(
        settings,
        inbox=inbox,
        credentials=credentials,
        link=link,
        outbox=outbox,
        clock=clock,
        logger=logger,
        welcome=welcome,
        kenar=kenar,
        keeper=keeper,
        keeper_note=keeper_note,
        posts=posts,
    )


@asynccontextmanager
async def open_console(
    settings: Settings,
    credentials: CredentialStore,
    *,
    clock: Callable[[], datetime] | None = None,
    logger: logging.Logger | None = None,
) -> AsyncIterator[KenarApp]:
    """Open the cache, the Kenar client, the relay link and the outbox; yield the app.

    With a relay, a `TokenKeeper` refreshes the stored tokens before they expire (when the
    client id and secret allow it); the app starts it once it runs. Everything is closed when
    the block ends, in reverse order.
    """
    from kenar_api.client import KenarClient
    from kenar_tui.inbox import Inbox
    from kenar_tui.link import RelayLink
    from kenar_tui.outbox import Outbox
    from kenar_tui.posts import PostCatalogue
    from kenar_tui.store.opening import open_cache
    from kenar_tui.store.retention import start_retention

    log = logger or logging.getLogger("kenar_tui")
    now = clock or (lambda: datetime.now(UTC))
    async with AsyncExitStack() as stack:
        # Sealed with the key kept beside the credentials (the demo's: in memory).
        cache = stack.enter_context(
            open_cache(settings.cache_file, credentials, logger=log.getChild("store"))
        )
        purger = await start_retention(cache, settings, logger=log.getChild("retention"), now=now)
        stack.push_async_callback(purger.aclose)
        inbox = Inbox(cache, operator=settings.operator, now=now)
        link = outbox = kenar = keeper = posts = None
        keeper_note: str | None = None
        relay_token = None if needs_welcome(settings, credentials) else credentials.relay_token
        relay_url = settings.relay_url
        if relay_token is not None and relay_url is not None:
            link = RelayLink(
                relay_url,
                relay_token,
                since=lambda: inbox.last_seq,
                operator=settings.operator,
                instance=_console_instance(cache),
                logger=log.getChild("link"),
            )
            kenar = await stack.enter_async_context(
                KenarClient(
                    _api_key(credentials),
                    api_base=settings.api_base,
                    oauth_base=settings.oauth_base,
                    upload_base=settings.upload_base,
                    logger=log.getChild("kenar"),
                )
            )
            # Titles and prices of the posts conversations name (kenar_tui/posts).
            posts = PostCatalogue(cache, kenar, logger=log.getChild("posts"), now=now)
            stack.push_async_callback(posts.aclose)
            outbox = await stack.enter_async_context(
                Outbox(
                    cache,
                    kenar=kenar,
                    credentials=credentials,
                    link=link,
                    logger=log.getChild("outbox"),
                    operator=settings.operator,
                    now=now,
                )
            )
            keeper, keeper_note = _token_keeper(settings, credentials, kenar, now, log)
            if keeper is not None:
                stack.push_async_callback(keeper.aclose)
        yield make_app(
            settings,
            inbox=inbox,
            credentials=credentials,
            link=link,
            outbox=outbox,
            clock=clock,
            logger=log.getChild("app"),
            kenar=kenar,
            keeper=keeper,
            keeper_note=keeper_note,
            posts=posts,
        )


def _token_keeper(
    settings: Settings,
    credentials: CredentialStore,
    kenar: KenarClient,
    now: Callable[[], datetime],
    log: logging.Logger,
) -> tuple[TokenKeeper | None, str | None]:
    """A TokenKeeper (not started yet), or None and why tokens cannot be refreshed."""
    from kenar_core.errors import KenarTuiError
    from kenar_tui.auth.cli_support import redirect_uri_of
    from kenar_tui.auth.keeper import TokenKeeper
    from kenar_tui.auth.requirements import refresh_problem

    problem = refresh_problem(settings, credentials)
    client_id = settings.client_id
    if problem is not None or client_id is None:  # refresh_problem names a missing client_id
        return None, problem or "no client_id is set"
    try:
        redirect_uri = redirect_uri_of(settings, relay_url=settings.relay_url)
    except KenarTuiError as exc:
        return None, str(exc)
    keeper = TokenKeeper(
        kenar,
        credentials,
        client_id=client_id,
        redirect_uri=redirect_uri,
        now=now,
        logger=log.getChild("keeper"),
    )
    return keeper, None


def _api_key(credentials: CredentialService) -> str:
    # Without an API key the console still reads; sends fail with a sentence saying why.
    try:
        return str(credentials.api_key or "")
    except Exception:
        return ""


def _console_instance(cache: Cache) -> str:
    """This cache's id for the relay: its acknowledgements are counted apart (docs/protocol.md)."""
    instance = cache.meta("relay_instance")
    if not instance:
        instance = secrets.token_hex(8)
        cache.set_meta("relay_instance", instance)
    return str(instance)
