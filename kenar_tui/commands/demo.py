"""`kenar-tui demo`: the sandbox with its buyers, a relay on loopback and the console, wired.

Nothing leaves the machine: the sandbox plays Divar, the relay keeps its timeline in a
temporary directory, and the demo's credentials live in an in-memory keyring that is gone
when the demo ends (the user's real keyring is never touched).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kenar_core.errors import KenarTuiError
from kenar_tui.commands.console import quiet_logging

DEMO_SCOPES = [
    "CHAT_SUPPLIER_ALL_CONVERSATIONS_READ",
    "CHAT_SUPPLIER_ALL_CONVERSATIONS_MESSAGE_SEND",
    "USER_POSTS_GET",
    # As a real login asks (kenar_tui.auth.login.login_scopes): told of revocations.
    "NOTIFICATION_ACCESS_REVOCATION",
    "USER_ID",
    "offline_access",
]
DEFAULT_RATE = 0.5  # buyer steps a second: lively, still readable
PHOTO_POST = "gZd7omnS"  # the sandbox catalogue's car: its buyer sends a photo of a scratch


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="try the console with a local Divar sandbox and simulated buyers",
        description=(
            "Start a local Divar sandbox with simulated Persian-speaking buyers, a relay on "
            "loopback and the console wired to both. Nothing leaves this machine."
        ),
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="the buyers' script (default: random)"
    )
    parser.add_argument(
        "--rate", type=float, default=None, help=f"buyer steps a second (default {DEFAULT_RATE})"
    )
    parser.add_argument("--log-file", type=Path, default=None, help="write a debug log here")
    parser.set_defaults(run=run)


@dataclass
class DemoEnvironment:
    """What the console needs to run against the demo: settings, credentials, the servers."""

    settings: Any
    credentials: Any
    sandbox: Any
    relay: Any


@asynccontextmanager
async def demo_environment(
    *,
    seed: int = 0,
    rate: float = 0.0,
    data_dir: Path | None = None,
    logger: logging.Logger | None = None,
    operator: str = "demo",
    photo_buyer: bool = False,
) -> AsyncIterator[DemoEnvironment]:
    """Start the sandbox and a relay, connect them, issue demo credentials in memory."""
    from kenar_api.bodies import SubscriptionEventType, SubscriptionRequest, TokenResponse
    from kenar_api.client import KenarClient
    from kenar_tui.config import Settings
    from kenar_tui.credentials import CredentialStore, StoredToken
    from kenar_tui.keyring_memory import MemoryKeyring
    from kenar_tui.sandbox import Sandbox
    from relay.config import RelayConfig
    from relay.server import RelayServer

    log = logger or logging.getLogger("kenar_tui.demo")
    async with AsyncExitStack() as stack:
        if data_dir is None:
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kenar-demo-")))
        sandbox = await stack.enter_async_context(
            Sandbox(seed=seed, logger=log.getChild("sandbox"))
        )
        relay_token = secrets.token_urlsafe(24)
        options: dict[str, Any] = {
            "identification_key": sandbox.identification_key,
            "client_token": relay_token,
            "client_token_name": operator,
            "host": "127.0.0.1",
            "port": 0,
            "data_dir": data_dir / "relay",
            # Whatever KENAR_RELAY_* says about a real deployment does not apply here.
            "allow_ip": [],
            "trusted_proxies": [],
            # Where a pressed server-link button sends the buyer (the sandbox never opens
            # anything off loopback, so this stays a URL on paper).
            "server_link_url": "https://divar.ir/v/{post_token}",
        }
        config = RelayConfig(**options)
        relay = await stack.enter_async_context(RelayServer(config, logger=log.getChild("relay")))
        await sandbox.control.configure(
            events_url=f"{relay.url}/events",
            start_url=f"{relay.url}/server-link",
            # The console's login screen (Alt+K) comes back through the relay, as in production.
            redirect_uris=[f"{relay.url}/oauth/callback"],
        )
        issued = await sandbox.control.issue_token(DEMO_SCOPES)
        token = TokenResponse.model_validate(issued)
        async with KenarClient(
            sandbox.api_key, api_base=sandbox.base_url, oauth_base=sandbox.base_url
        ) as kenar:
            for kind in (
                SubscriptionEventType.NEW_MESSAGE_ON_POST,
                SubscriptionEventType.POST_UPDATE,
            ):
                await kenar.subscribe(
                    SubscriptionRequest(event_type=kind), access_token=token.access_token
                )
        # No start-up POST_UPDATE events: the console learns each title (and price) from
        # Divar's finder API the moment a conversation names the post (kenar_tui/posts).
        if photo_buyer:
            await _buyer_sends_a_photo(sandbox)
        credentials = CredentialStore(MemoryKeyring())
        credentials.api_key = sandbox.api_key
        # With the client secret the console's token keeper refreshes the demo token.
        credentials.client_secret = sandbox.client_secret
        credentials.relay_token = relay_token
        credentials.add_token(StoredToken.from_response(token))
        settings = Settings.load(
            data_dir / "no-config.toml",
            relay_url=relay.ws_url,
            api_base=sandbox.base_url,
            oauth_base=sandbox.base_url,
            upload_base=sandbox.upload_base,
            operator=operator,
            data_dir=data_dir / "console",
            client_id=sandbox.client_id,
        )
        if rate > 0:
            await sandbox.control.start_buyers(rate)
        log.info("demo ready")
        yield DemoEnvironment(settings, credentials, sandbox, relay)


async def _buyer_sends_a_photo(sandbox: Any) -> None:
    """A buyer asks about a scratch and sends a photo of it (downloadable from the sandbox):
    `o` opens it, Alt+S saves it, and where the terminal draws pictures it shows inline."""
    opened = await sandbox.control.inject_message(
        post_token=PHOTO_POST, text="سلام، این خط روی درب عقب از قبل بوده؟ عکسشو فرستادم"
    )
    await sandbox.control.inject_message(opened["conversation_id"], type="IMAGE")


def run(args: argparse.Namespace) -> int:
    seed = args.seed if args.seed is not None else secrets.randbelow(10_000)
    rate = args.rate if args.rate is not None else DEFAULT_RATE
    quiet_logging(args.log_file)
    try:
        asyncio.run(_run(seed, rate))
    except KenarTuiError as exc:
        print(f"kenar-tui demo: {exc}", file=sys.stderr)
        return 1
    return 0


async def _run(seed: int, rate: float) -> None:
    from kenar_tui.factory import open_console

    log = logging.getLogger("kenar_tui")
    async with (
        demo_environment(seed=seed, rate=rate, logger=log, photo_buyer=True) as env,
        open_console(env.settings, env.credentials, logger=log) as app,
    ):
        app.sub_title = f"demo · seed {seed} · local sandbox, nothing leaves this machine"
        await app.run_async()
