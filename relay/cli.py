"""`kenar-relay`: serve the relay, and manage the tokens consoles connect with."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kenar_tui import __version__
from kenar_tui.errors import ConfigError
from relay.config import IP_PRESETS, RelayConfig
from relay.errors import TokenError
from relay.server import RelayServer
from relay.tokens import TokenBook

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="a TOML file of settings (lowest precedence)")
    parser.add_argument("--data-dir", type=Path, help="where the timeline and the token file live")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kenar-relay",
        description=(
            "Receive Divar's Kenar webhooks, store them durably and stream one shared "
            "timeline to every kenar-tui console over websockets."
        ),
        epilog="Settings also come from KENAR_RELAY_* environment variables; see docs/deploy.md.",
    )
    parser.add_argument("--version", action="version", version=f"kenar-relay {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser(
        "serve",
        help="serve /events, /server-link, /oauth/callback and /ws",
        description="Serve the relay. Needs KENAR_RELAY_IDENTIFICATION_KEY.",
    )
    _common(serve)
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8765)")
    serve.add_argument("--ssl-certfile", type=Path, help="serve https/wss with this certificate")
    serve.add_argument("--ssl-keyfile", type=Path, help="the certificate's private key")
    serve.add_argument(
        "--allow-ip",
        action="append",
        metavar="CIDR",
        help=f"addresses allowed to POST webhooks; repeatable; presets: {', '.join(IP_PRESETS)}",
    )
    serve.add_argument(
        "--trusted-proxy",
        action="append",
        metavar="CIDR",
        help="proxies whose X-Forwarded-For is believed; repeatable",
    )
    serve.add_argument(
        "--server-link-url",
        metavar="TEMPLATE",
        help="start-URL answer, e.g. https://example.com/book?post={post_token}&slot={slot}",
    )
    serve.add_argument("--max-body-bytes", type=int, help="largest webhook body (default 262144)")
    serve.add_argument("--retention-hours", type=float, help="keep entries this long (default 72)")
    serve.add_argument(
        "--store",
        metavar="URL",
        help="sqlite (default), a SQLite file, or redis://HOST:PORT/DB shared by replicas",
    )
    serve.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    serve.set_defaults(run=_serve)

    token = sub.add_parser("token", help="manage the tokens consoles connect with")
    token_sub = token.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = token_sub.add_parser("create", help="make a token for NAME and print it once")
    create.add_argument("name")
    _common(create)
    listing = token_sub.add_parser("list", help="list token names (never the tokens)")
    _common(listing)
    revoke = token_sub.add_parser("revoke", help="revoke NAME's token")
    revoke.add_argument("name")
    _common(revoke)
    token.set_defaults(run=_token)
    return parser


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    names = [
        "data_dir",
        "host",
        "port",
        "ssl_certfile",
        "ssl_keyfile",
        "server_link_url",
        "max_body_bytes",
        "retention_hours",
        "store",
        "log_level",
    ]
    flags = {name: getattr(args, name, None) for name in names}
    if getattr(args, "allow_ip", None):
        flags["allow_ip"] = ",".join(args.allow_ip)
    if getattr(args, "trusted_proxy", None):
        flags["trusted_proxies"] = ",".join(args.trusted_proxy)
    return flags


def _serve(args: argparse.Namespace) -> int:
    config = RelayConfig.load(args.config, **_flags(args))
    config.require_serving()
    logging.basicConfig(level=config.log_level.upper(), format=LOG_FORMAT, stream=sys.stderr)
    # uvicorn's debug lines are not ours to vet; keep them out.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).setLevel(max(logging.INFO, logging.getLogger().level))
    log = logging.getLogger("kenar_relay")

    async def run() -> None:
        async with RelayServer(config, logger=log, handle_signals=True) as relay:
            print(f"url={relay.url}", flush=True)
            await relay.wait_closed()

    asyncio.run(run())
    return 0


def _token(args: argparse.Namespace) -> int:
    config = RelayConfig.load(args.config, **_flags(args))
    book = TokenBook(config.tokens_path)
    if args.action == "create":
        token = book.create(args.name)
        print(token)
        print(
            f"token for {args.name} created; it is shown only now. On the console: "
            "kenar-tui auth set relay-token",
            file=sys.stderr,
        )
    elif args.action == "list":
        for info in book.list():
            print(f"{info.name}\t{info.created_at}")
    else:
        book.revoke(args.name)
        print(f"token for {args.name} revoked", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    run = getattr(args, "run", None)
    if run is None:
        parser.print_help()
        return 2
    try:
        return int(run(args) or 0)
    except (ConfigError, TokenError) as exc:
        print(f"kenar-relay: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
