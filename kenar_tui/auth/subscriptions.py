"""Subscribing to NEW_MESSAGE_ON_POST (and POST_UPDATE) for what each token may read.

Divar ties a subscription to the access token it was made with, so every new or refreshed
token subscribes again: one request per post its read scopes name, or one with an empty
`event_resource_id` when it may read all the seller's posts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from kenar_api.bodies import SubscriptionEventType, SubscriptionRequest
from kenar_api.client import KenarClient
from kenar_api.scopes import POSTS_GET, subscribable_posts
from kenar_core.errors import KenarError
from kenar_tui.credentials import CredentialStore, StoredToken

ALL_POSTS = ""


def subscription_requests(scopes: Iterable[str]) -> list[SubscriptionRequest]:
    """The subscriptions a token with `scopes` can make: new messages per post (or on all
    posts), and post updates when it may read the seller's posts (USER_POSTS_GET)."""
    scopes = list(scopes)
    everything, posts = subscribable_posts(scopes)
    resources = [ALL_POSTS] if everything else posts
    requests = [
        SubscriptionRequest(
            event_type=SubscriptionEventType.NEW_MESSAGE_ON_POST, event_resource_id=resource
        )
        for resource in resources
    ]
    if POSTS_GET in scopes:
        requests.append(SubscriptionRequest(event_type=SubscriptionEventType.POST_UPDATE))
    return requests


def describe(request: SubscriptionRequest) -> str:
    what = (
        "post updates"
        if request.event_type == SubscriptionEventType.POST_UPDATE
        else "new messages"
    )
    where = f"post {request.event_resource_id}" if request.event_resource_id else "all posts"
    return f"{what} on {where}"


async def subscribe_token(
    kenar: KenarClient, token: StoredToken, *, logger: logging.Logger | None = None
) -> list[SubscriptionRequest]:
    """Make every subscription `token` allows; KenarError from the first that fails."""
    log = logger or logging.getLogger("kenar_tui.auth.subscriptions")
    requests = subscription_requests(token.scopes)
    for request in requests:
        await kenar.subscribe(request, access_token=token.access_token)
        log.info("subscribed to %s (token %s)", describe(request), token.id)
    return requests


@dataclass(slots=True)
class SubscribeReport:
    """What `subscribe_stored` did: subscriptions made and, in words, what failed."""

    made: list[tuple[StoredToken, SubscriptionRequest]] = field(default_factory=list)
    failed: list[tuple[StoredToken, str]] = field(default_factory=list)
    skipped: list[tuple[StoredToken, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed


async def subscribe_stored(
    kenar: KenarClient,
    credentials: CredentialStore,
    *,
    token_ids: Iterable[str] | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    logger: logging.Logger | None = None,
) -> SubscribeReport:
    """Subscribe with every stored token (or those named), skipping expired ones."""
    wanted = set(token_ids) if token_ids is not None else None
    report = SubscribeReport()
    for token in credentials.tokens():
        if wanted is not None and token.id not in wanted:
            continue
        if token.expired(now()):
            report.skipped.append((token, "expired; log in again (kenar-tui login)"))
            continue
        if not subscription_requests(token.scopes):
            report.skipped.append((token, "its scopes read no post"))
            continue
        try:
            made = await subscribe_token(kenar, token, logger=logger)
        except KenarError as exc:
            report.failed.append((token, str(exc)))
            continue
        report.made += [(token, request) for request in made]
    return report
