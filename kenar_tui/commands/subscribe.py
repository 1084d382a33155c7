"""`kenar-tui subscribe`: subscribe to new messages again with the stored tokens, by hand.

The console does this after every login and refresh; this command is for a relay set up after
the login, or to check that Divar accepts the subscriptions.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from kenar_tui.auth.cli_support import (
    add_endpoint_flags,
    fail,
    guarded,
    kenar_client,
    load_settings,
)
from kenar_tui.auth.subscriptions import describe, subscribe_stored
from kenar_tui.credentials import CredentialStore


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "subscribe",
        help="subscribe to new messages (and post updates) for what the stored tokens may read",
        description="For each stored token: NEW_MESSAGE_ON_POST for every post its read scopes "
        "name, or for all posts. Divar ties subscriptions to the token they were made with.",
    )
    parser.add_argument(
        "--token",
        action="append",
        metavar="ID",
        help="only this token (its id from `kenar-tui auth status`; repeatable)",
    )
    add_endpoint_flags(parser, "api_base", "oauth_base")
    parser.set_defaults(run=guarded(run))


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_subscribe(args))


async def _subscribe(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    creds = CredentialStore()
    tokens = creds.tokens()
    if not tokens:
        fail("no tokens are stored; log in first (kenar-tui login)")
        return 1
    unknown = sorted(set(args.token or ()) - {t.id for t in tokens})
    if unknown:
        fail(f"no stored token has the id {', '.join(unknown)} (see kenar-tui auth status)")
        return 2
    async with kenar_client(settings, creds) as kenar:
        report = await subscribe_stored(kenar, creds, token_ids=args.token)
    for token, request in report.made:
        print(f"token {token.id}: subscribed to {describe(request)}")
    for token, reason in report.skipped:
        print(f"token {token.id}: skipped, {reason}")
    for token, reason in report.failed:
        fail(f"token {token.id}: {reason}")
    return 0 if report.ok and report.made else 1
