"""`kenar-relay`: serve the relay, manage console tokens and keys, purge the timeline.

kenar-relay serve [--no-encryption] ...    serve (encryption at rest on by default)
kenar-relay token create|list|revoke NAME  the tokens consoles connect with
kenar-relay keys rotate                    a new key seals new entries; old ones stay readable
kenar-relay purge [--yes]                  delete every stored entry now
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kenar_core import __version__
from kenar_core.errors import ConfigError, SealingError
from kenar_core.keyfile import ENV_KEY, KeyFile
from kenar_core.redaction import install_redaction
from relay.config import IP_PRESETS, RelayConfig
from relay.errors import StoreError, TokenError, TokenStoreUnreachable
from relay.server import RelayServer
from relay.stores import open_store, redacted
from relay.tokens import TokenBook, TokenReads
from relay.tokens_redis import RedisTokenBook, open_token_book

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
    serve.add_argument(
        "--no-encryption",
        dest="encryption",
        action="store_const",
        const=False,
        help="store entries unencrypted (for benchmarks only; KENAR_RELAY_ENCRYPTION=off)",
    )
    serve.add_argument(
        "--purge-acknowledged",
        dest="purge_acknowledged",
        action="store_const",
        const=True,
        help="also delete entries once every registered console has acknowledged them",
    )
    serve.set_defaults(run=_serve)

    keys = sub.add_parser("keys", help="manage the keys that encrypt the stored timeline")
    keys_sub = keys.add_subparsers(dest="action", metavar="ACTION", required=True)
    rotate = keys_sub.add_parser(
        "rotate",
        help="add a new key for new entries; older keys stay to read older entries",
        description="Rotate the key file's key. A running relay uses the new key once restarted.",
    )
    _common(rotate)
    keys.set_defaults(run=_keys)

    purge = sub.add_parser(
        "purge",
        help="delete every stored entry now (the relay may be running or stopped)",
        description="Delete every timeline entry now. Keys and tokens stay.",
    )
    _common(purge)
    purge.add_argument("--store", metavar="URL", help="the store to purge (default: sqlite)")
    purge.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    purge.set_defaults(run=_purge)

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
        "encryption",
        "purge_acknowledged",
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
    # Every line, ours or a library's, is masked: phones, tokens (docs/privacy.md, "Logs").
    install_redaction(logging.getLogger())
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
    book = open_token_book(config, logger=logging.getLogger("kenar_relay.tokens"))
    if isinstance(book, RedisTokenBook):  # the replicas' shared tokens (docs/deploy.md)
        try:
            return asyncio.run(_token_in_redis(book, args))
        except TokenStoreUnreachable as exc:
            print(f"kenar-relay: {exc}", file=sys.stderr)
            return 1
    assert isinstance(book, TokenBook)
    if args.action == "create":
        _created(args.name, book.create(args.name))
    elif args.action == "list":
        _listed(book)
    else:
        book.revoke(args.name)
        print(f"token for {args.name} revoked", file=sys.stderr)
    return 0


async def _token_in_redis(book: RedisTokenBook, args: argparse.Namespace) -> int:
    async with book:
        if args.action == "create":
            _created(args.name, await book.create(args.name))
        elif args.action == "list":
            _listed(book)
        else:
            await book.revoke(args.name)
            print(f"token for {args.name} revoked on every replica", file=sys.stderr)
    return 0


def _created(name: str, token: str) -> None:
    print(token)
    print(
        f"token for {name} created; it is shown only now. On the console: "
        "kenar-tui auth set relay-token",
        file=sys.stderr,
    )


def _listed(book: TokenReads) -> None:
    for info in book.list():
        print(f"{info.name}\t{info.created_at}")


def _keys(args: argparse.Namespace) -> int:
    config = RelayConfig.load(args.config, **_flags(args))
    if os.environ.get(ENV_KEY, "").strip():
        raise ConfigError(
            f"the key comes from {ENV_KEY}: rotate by setting a new key there and moving the "
            "old one to KENAR_RELAY_PREVIOUS_ENCRYPTION_KEYS (docs/privacy.md)"
        )
    key_file = KeyFile(config.key_file_path)
    if not key_file.exists():
        ring = key_file.load_or_create()
        print(f"created the key file {key_file.path} with key {ring.current_id}", file=sys.stderr)
        return 0
    ring = key_file.rotate()
    print(
        f"new entries are sealed with key {ring.current_id} once the relay restarts; "
        f"{len(ring.keys) - 1} older key(s) kept to read older entries",
        file=sys.stderr,
    )
    return 0


def _purge(args: argparse.Namespace) -> int:
    config = RelayConfig.load(args.config, **_flags(args))
    where = redacted(config.store)
    if where == "sqlite":
        where = str(config.database_path)
    if not args.yes:
        if not sys.stdin.isatty():
            raise ConfigError("purge deletes every stored entry; add --yes to confirm")
        answer = input(f"delete every entry stored in {where}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing deleted", file=sys.stderr)
            return 1

    async def run() -> int:
        log = logging.getLogger("kenar_relay.purge")
        # Deleting needs no key: the store is opened without one, and nothing is read.
        async with open_store(config, logger=log) as store:
            return await store.purge_older_than(datetime.now(UTC) + timedelta(days=36500))

    removed = asyncio.run(run())
    print(f"deleted {removed} entries from {where}", file=sys.stderr)
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
    except (ConfigError, TokenError, SealingError, StoreError) as exc:
        print(f"kenar-relay: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
