"""`kenar-tui login`: grant the console access to some posts' chats (or all), store the tokens.

With a relay (`--relay-url` or settings, and a relay token in the keyring) the code comes back
through the relay's /oauth/callback by itself; without one, paste the address the browser
landed on. The authorize URL is opened in a browser when there is a display, and always
printed with a QR code, for approving on a phone.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import threading
from typing import Any

from kenar_core.errors import LoginError
from kenar_tui.auth.cli_support import (
    add_endpoint_flags,
    client_id_of,
    guarded,
    kenar_client,
    load_settings,
    redirect_uri_of,
)
from kenar_tui.auth.login import LoginFlow, finish_login
from kenar_tui.auth.presenting import open_in_browser, qr_text
from kenar_tui.credentials import CredentialStore


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "login",
        help="log in to Divar for some posts (or all) and store the tokens",
        description="Builds the authorize URL for the posts' read and send scopes (plus "
        "offline_access), receives the code through the relay or a pasted address, stores "
        "the tokens in the keyring and subscribes to new messages.",
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--post", action="append", default=[], metavar="TOKEN", help="a post token (repeatable)"
    )
    which.add_argument("--all-posts", action="store_true", help="all of the seller's posts")
    parser.add_argument(
        "--paste", action="store_true", help="do not use the relay: paste the redirect address"
    )
    parser.add_argument("--no-browser", action="store_true", help="only print the address")
    parser.add_argument("--no-qr", action="store_true", help="do not print a QR code")
    parser.add_argument(
        "--no-subscribe", action="store_true", help="do not subscribe to new messages"
    )
    parser.add_argument(
        "--timeout", type=float, default=300.0, metavar="S", help="seconds to wait (300)"
    )
    add_endpoint_flags(parser)
    parser.set_defaults(run=guarded(run))


def show(url: str, *, browser: bool, qr: bool) -> None:
    print("Open this address to let kenar-tui answer these chats:\n")
    print(f"  {url}\n")
    if qr:
        code = qr_text(url)
        if code is None:
            print("(the address is too long for a QR code; copy it instead)\n")
        else:
            print("or scan it with your phone:")
            print(code)
            print()
    if browser and open_in_browser(url):
        print("(opened in your browser)")
    sys.stdout.flush()


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_login(args))


async def _login(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    creds = CredentialStore()
    client_id = client_id_of(settings)
    creds.require("client-secret")
    relay_url = None if args.paste else settings.relay_url
    relay_token = creds.relay_token if relay_url else None
    if relay_url and not relay_token:
        print("no relay token is stored (kenar-tui auth set relay-token): paste the address")
        relay_url = None
    redirect_uri = redirect_uri_of(settings, relay_url=relay_url)
    async with kenar_client(settings, creds) as kenar:
        flow = LoginFlow(
            kenar,
            creds,
            client_id=client_id,
            redirect_uri=redirect_uri,
            posts=args.post,
            all_posts=args.all_posts,
        )
        if relay_url and relay_token:
            code = await _code_via_relay(flow, relay_url, relay_token, args)
        else:
            code = await _code_via_paste(flow, args)
        outcome = await finish_login(flow, kenar, code, subscribe=not args.no_subscribe)
        print(outcome.summary)
        if outcome.subscribe_error is not None:
            print(
                f"kenar-tui: logged in, but subscribing to new messages failed: "
                f"{outcome.subscribe_error}; try again with `kenar-tui subscribe`",
                file=sys.stderr,
            )
            return 1
        for what in outcome.subscriptions:
            print(f"subscribed to {what}")
    return 0


async def _code_via_relay(
    flow: LoginFlow, relay_url: str, relay_token: str, args: argparse.Namespace
) -> str:
    ready = asyncio.Event()
    waiting = asyncio.create_task(
        flow.code_from_relay(relay_url, relay_token, timeout=args.timeout, ready=ready)
    )
    announced = asyncio.create_task(ready.wait())
    try:
        # Only send the browser once the relay knows the state, or the redirect could beat us.
        await asyncio.wait({waiting, announced}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        announced.cancel()
    if not waiting.done():
        show(flow.url, browser=not args.no_browser, qr=not args.no_qr)
        print("waiting for Divar to send you back (through the relay)...")
        sys.stdout.flush()
    return await waiting


async def _code_via_paste(flow: LoginFlow, args: argparse.Namespace) -> str:
    show(flow.url, browser=not args.no_browser, qr=not args.no_qr)
    prompt = "After approving, paste the address your browser landed on: "
    try:
        async with asyncio.timeout(args.timeout):
            pasted = await _ask(prompt)
    except EOFError:
        raise LoginError("no address was pasted; run the login again") from None
    except TimeoutError:
        raise LoginError(f"nothing was pasted within {args.timeout:g}s") from None
    return flow.code_from_redirect(pasted)


def _ask(prompt: str) -> asyncio.Future[str]:
    """input() on a daemon thread: a timeout or Ctrl-C must not wait for a line to be typed."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str] = loop.create_future()

    def settle(value: str | None, error: BaseException | None) -> None:
        if answer.done():
            return
        if error is not None:
            answer.set_exception(error)
        else:
            answer.set_result(value or "")

    def read() -> None:
        try:
            line: str | None = input(prompt)
            error: BaseException | None = None
        except (EOFError, OSError, ValueError) as exc:
            line, error = None, EOFError(str(exc))
        # The login may have ended (timeout, Ctrl-C) and its loop closed meanwhile.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, line, error)

    threading.Thread(target=read, name="login-paste", daemon=True).start()
    return answer
