"""`kenar-tui sandbox`: run the local Kenar stand-in alone, until SIGINT or SIGTERM.

It prints `key=value` lines a script can read (base_url, api_key, identification_key,
client_id, client_secret): the sandbox's own throwaway credentials, made up at start.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from typing import Any

from kenar_tui.sandbox import Sandbox
from kenar_tui.sandbox.registration import LOOPBACK_HOSTS


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "sandbox",
        help="run a local stand-in for Divar's Kenar API (no account needed)",
        description=(
            "Serve a local Kenar sandbox: the open API, OAuth, webhooks to your events URL, "
            "button presses to your start URL, and simulated buyers. Prints base_url=, "
            "api_key= and identification_key= lines, then serves until stopped."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    parser.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one")
    parser.add_argument("--seed", type=int, default=0, help="seed of the buyers' script and ids")
    parser.add_argument(
        "--rate", type=float, default=0.0, help="buyer steps per second (0: buyers idle)"
    )
    parser.add_argument("--events-url", help="the app's new-events URL webhooks are POSTed to")
    parser.add_argument("--start-url", help="the app's start URL for server-link buttons")
    parser.add_argument(
        "--legacy-server-link",
        action="store_true",
        help="send start-URL requests in the legacy shape (no API_VERSION: 2)",
    )
    parser.add_argument("--identification-key", help="the key events carry (default: made up)")
    parser.add_argument("--api-key", help="the app's API key (default: made up)")
    parser.add_argument(
        "--redirect-uri",
        action="append",
        default=[],
        help="a registered OAuth redirect URI (repeatable; default: any loopback URI)",
    )
    parser.add_argument(
        "--log-level", default="warning", choices=["debug", "info", "warning", "error"]
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.rate < 0:
        print("kenar-tui sandbox: --rate must be 0 or more", file=sys.stderr)
        return 2
    if not 0 <= args.port <= 65535:
        print("kenar-tui sandbox: --port must be between 0 and 65535", file=sys.stderr)
        return 2
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(message)s")
    return asyncio.run(_serve(args))


async def _serve(args: argparse.Namespace) -> int:
    if args.host not in LOOPBACK_HOSTS:
        print(
            f"kenar-tui sandbox: warning: listening on {args.host}, not only loopback; "
            "its control surface has no password",
            file=sys.stderr,
        )
    sandbox = Sandbox(
        args.host,
        args.port,
        seed=args.seed,
        rate=args.rate,
        events_url=args.events_url,
        start_url=args.start_url,
        identification_key=args.identification_key,
        api_key=args.api_key,
        redirect_uris=args.redirect_uri,
        legacy_server_link=args.legacy_server_link,
        logger=logging.getLogger("kenar_tui.sandbox"),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with sandbox:
            for key, value in (
                ("base_url", sandbox.base_url),
                ("api_key", sandbox.api_key),
                ("identification_key", sandbox.identification_key),
                ("client_id", sandbox.client_id),
                ("client_secret", sandbox.client_secret),
            ):
                print(f"{key}={value}", flush=True)
            await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    return 0
