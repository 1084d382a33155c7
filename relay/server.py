"""`RelayServer`: the whole relay (store, hub, app, uvicorn) on the running event loop.

    async with RelayServer(config, logger=log) as relay:
        relay.url, relay.port          # http(s)://host:port
        await relay.wait_closed()      # serve until drained (SIGTERM when handle_signals=True)

Used by `kenar-relay serve`, by `kenar-tui demo` in-process, and by the tests. Draining (on
SIGTERM, or leaving the context): new webhooks get 503, consoles are closed with 1001, uvicorn
finishes the requests in flight (whose appends the store still commits), then the store closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import ssl
from collections.abc import Callable, Generator
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Self

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from kenar_core.cipher import AesGcmSealer
from kenar_core.errors import ConfigError
from kenar_core.files import private_dir
from kenar_core.keyfile import ENV_INDEX_KEY, ENV_KEY, KeyRing, relay_keyring
from kenar_core.lifecycle import AsyncResource, stop_task, wait_stopped
from kenar_core.redaction import install_redaction, quiet_wire_logs
from kenar_core.sealing import Sealer
from relay.acks import AckBook
from relay.app import create_app
from relay.bus import open_bus
from relay.config import RelayConfig
from relay.context import RelayContext
from relay.errors import StoreError, TokenStoreUnreachable
from relay.guard import QuietRefusals, RefusalLog, guarded_h11
from relay.hub import Hub
from relay.metrics import Metrics
from relay.revocation import RevocationWatch
from relay.store import Store
from relay.stores import is_redis, open_store
from relay.tokens_redis import open_token_book
from relay.wire import RAW_SEND_SCOPE_KEY

WS_FRAME_HEADROOM = 64 * 1024
SHARED_KEYS = (ENV_KEY, ENV_INDEX_KEY)
QUIET_REFUSALS = QuietRefusals()  # one instance: adding it again to the logger adds nothing


def _now() -> datetime:
    return datetime.now(UTC)


class _KeepRawSend:
    """ASGI middleware leaving the server's own `send` in websocket scopes.

    Starlette wraps `send` on its way to the endpoint; a console session needs the server's
    one to write batches of ready frames in one go (relay.wire.FrameWriter).
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            scope = {**scope, RAW_SEND_SCOPE_KEY: send}
        await self._app(scope, receive, send)


class _Uvicorn(uvicorn.Server):
    """uvicorn whose exit signals start our drain instead of its own shutdown."""

    def __init__(self, config: uvicorn.Config, *, on_signal: Callable[[], None], signals: bool):
        super().__init__(config)
        self._on_signal = on_signal
        self._signals = signals
        self._signalled = False

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        if not self._signals:
            yield
            return
        with super().capture_signals():
            yield

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._signalled:  # a second signal: stop waiting for anything
            self.force_exit = True
            self.should_exit = True
            return
        self._signalled = True
        self._on_signal()


def _relay_keyring(config: RelayConfig, log: logging.Logger) -> KeyRing:
    if is_redis(config.store) and not all(os.environ.get(n, "").strip() for n in SHARED_KEYS):
        # Replicas share one timeline: each must open what the others sealed, and hash a
        # message id the same way for dedupe, so a per-replica key file cannot do.
        raise ConfigError(
            "with a Redis store every replica needs the same keys: set "
            f"{' and '.join(SHARED_KEYS)} (32 random bytes in base64 each) on all of them, "
            "or serve with --no-encryption"
        )
    return relay_keyring(config.data_dir, logger=log.getChild("keys"))


class RelayServer(AsyncResource):
    """One relay, served on the running loop; an async context manager closing idempotently."""

    def __init__(
        self,
        config: RelayConfig,
        *,
        logger: logging.Logger,
        store: Store | None = None,
        sealer: Sealer | None = None,
        clock: Callable[[], datetime] = _now,
        handle_signals: bool = False,
    ) -> None:
        self.config = config
        self._log = logger
        self._store_given = store
        self._sealer = sealer
        self._clock = clock
        self._handle_signals = handle_signals
        self._stack = contextlib.AsyncExitStack()
        self._server: _Uvicorn | None = None
        self._serve_task: asyncio.Task[None] | None = None
        self._purge_task: asyncio.Task[None] | None = None
        self._drain_task: asyncio.Task[None] | None = None
        self._closed = asyncio.Event()
        self.ctx: RelayContext | None = None
        self.port = 0

    @property
    def url(self) -> str:
        host = self.config.host
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"{'https' if self.config.tls else 'http'}://{host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return self.url.replace("http", "ws", 1) + "/ws"

    @property
    def store(self) -> Store:
        assert self.ctx is not None, "the relay is not running"
        return self.ctx.store

    @property
    def hub(self) -> Hub:
        assert self.ctx is not None, "the relay is not running"
        return self.ctx.hub

    @property
    def metrics(self) -> Metrics:
        assert self.ctx is not None, "the relay is not running"
        return self.ctx.metrics

    async def __aenter__(self) -> Self:
        try:
            await self._start()
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def _start(self) -> None:
        config, log = self.config, self._log
        config.require_serving()
        try:
            private_dir(config.data_dir)  # 0700 before the key, tokens or timeline in it
        except OSError as exc:
            raise ConfigError(
                f"cannot create the data directory {config.data_dir}: {exc}"
            ) from None
        install_redaction(log)
        # uvicorn's websocket protocol logs request headers (a console's token) at DEBUG.
        quiet_wire_logs("uvicorn.error").addFilter(QUIET_REFUSALS)
        install_redaction(logging.getLogger("uvicorn.access"))  # a request line may carry kr_...
        metrics = Metrics()
        sealer = self._sealer
        if sealer is None and self._store_given is None and config.encryption:
            sealer = AesGcmSealer(_relay_keyring(config, log))
        store = self._store_given or open_store(
            config, logger=log.getChild("store"), sealer=sealer, clock=self._clock
        )
        if config.purge_acknowledged and not hasattr(store, "purge_through"):
            raise ConfigError("purge_acknowledged needs the SQLite store; turn it off for Redis")
        try:
            await self._stack.enter_async_context(store)
        except StoreError as exc:
            raise ConfigError(str(exc)) from None
        check_sealing = getattr(store, "check_sealing", None)
        if check_sealing is not None:
            await check_sealing()  # a lost or wrong key: SealingError now, with its sentence
        hub = await self._stack.enter_async_context(
            Hub(logger=log.getChild("hub"), metrics=metrics, queue_limit=config.console_queue)
        )
        store.add_listener(hub.publish)
        store.add_gap_listener(hub.publish_gap)
        try:
            bus = await self._stack.enter_async_context(
                open_bus(config, logger=log.getChild("bus"))
            )
        except ConnectionError as exc:
            raise ConfigError(str(exc)) from None
        try:  # with Redis, the replicas' shared book (relay/tokens_redis.py)
            tokens = await self._stack.enter_async_context(
                open_token_book(config, logger=log.getChild("tokens"), serving=True)
            )
        except TokenStoreUnreachable as exc:
            raise ConfigError(str(exc)) from None
        # Acknowledgements matter only when they delete entries; then they are kept on disk.
        acks = AckBook(config.data_dir / "acks.json" if config.purge_acknowledged else None)
        self.ctx = RelayContext(
            config=config,
            store=store,
            hub=hub,
            tokens=tokens,
            metrics=metrics,
            logger=log,
            clock=self._clock,
            bus=bus,
            acks=acks,
        )
        self._stack.push_async_callback(self.ctx.presence.aclose)
        self._stack.callback(acks.save, force=True)
        await self._stack.enter_async_context(
            RevocationWatch(
                tokens=tokens, hub=hub, bus=bus, acks=acks, logger=log.getChild("tokens")
            )
        )
        sock = self._bind()
        self._stack.callback(sock.close)
        uv_config = uvicorn.Config(
            _KeepRawSend(create_app(self.ctx)),
            lifespan="off",
            log_config=None,
            access_log=False,
            server_header=False,
            # X-Forwarded-For is read by relay.intake, and only from trusted proxies.
            proxy_headers=False,
            ws="websockets-sansio",
            ws_per_message_deflate=config.ws_compression,
            ws_max_size=config.max_body_bytes + WS_FRAME_HEADROOM,
            ws_ping_interval=config.ping_interval,
            ws_ping_timeout=config.ping_timeout,
            timeout_keep_alive=5,
            timeout_graceful_shutdown=max(1, int(config.drain_timeout) - 2),
            ssl_certfile=str(config.ssl_certfile) if config.ssl_certfile else None,
            ssl_keyfile=str(config.ssl_keyfile) if config.ssl_keyfile else None,
            limit_concurrency=config.max_connections,
            h11_max_incomplete_event_size=config.max_header_bytes,
            http=self._http_protocol(),
        )
        try:
            uv_config.load()
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"cannot use the TLS certificate or key: {exc}") from None
        self._server = _Uvicorn(uv_config, on_signal=self._on_signal, signals=self._handle_signals)
        self._serve_task = asyncio.create_task(self._server.serve(sockets=[sock]))
        async with asyncio.timeout(15):
            while not self._server.started:
                if self._serve_task.done():
                    self._serve_task.result()
                    raise ConfigError("the relay stopped before it started")
                await asyncio.sleep(0.01)
        self._purge_task = asyncio.create_task(self._purge_loop(), name="relay-purge")
        log.info(
            "relay serving url=%s tls=%s allow_ip=%d retention_h=%g encryption=%s",
            self.url,
            "yes" if config.tls else "no",
            len(config.allow_ip),
            config.retention_hours,
            "on" if sealer is not None else "off",
        )

    def _http_protocol(self) -> type[asyncio.Protocol] | str:
        """Served on TLS or a public address, h11 with a connection cap and header limits.

        Behind a proxy on loopback the faster httptools parser stays (the proxy bounds
        headers and connections; deploy/nginx-kenar-relay.conf); relay/guard.py says why.
        """
        config = self.config
        loopback = config.host in ("127.0.0.1", "::1", "localhost")
        if loopback and not config.tls:
            return "auto"
        refusals = RefusalLog(self._log.getChild("guard"))
        protocol = guarded_h11(
            max_connections=config.max_connections,
            header_timeout=config.header_timeout,
            refusals=refusals,
        )
        return protocol

    def _bind(self) -> socket.socket:
        host, port = self.config.host, self.config.port
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted sockets only when the
        # listener's proto says TCP, and without it every keep-alive answer waits ~40 ms for
        # a delayed ACK (Nagle).
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        sock.set_inheritable(True)
        self.port = sock.getsockname()[1]
        return sock

    async def purge_now(self) -> int:
        """Delete entries past retention (and, if on, every console's acked); returns how many.

        The store deletes in small steps through its writer queue, so webhooks arriving
        meanwhile are stored between steps: purging never holds intake up.
        """
        cutoff = self._clock() - timedelta(hours=self.config.retention_hours)
        removed = await self.store.purge_older_than(cutoff)
        if removed:
            self._log.info("purged entries past retention count=%d", removed)
        if self.config.purge_acknowledged:
            removed += await self._purge_acknowledged()
        return removed

    def registered_consoles(self) -> set[str]:
        """The token names that can connect: the token file's, and the environment's."""
        assert self.ctx is not None, "the relay is not running"
        names = {info.name for info in self.ctx.tokens.list()}
        if self.config.client_token is not None:
            names.add(self.config.client_token_name)
        return names

    async def _purge_acknowledged(self) -> int:
        assert self.ctx is not None
        # A console not seen for the retention period holds nothing back: its entries aged out.
        self.ctx.acks.forget_older_than(self.config.retention_hours * 3600)
        floor = min(self.ctx.acks.floor(self.registered_consoles()), await self.store.head())
        purge_through = getattr(self.store, "purge_through", None)
        if floor <= 0 or purge_through is None:
            return 0
        removed = int(await purge_through(floor))
        if removed:
            self._log.info("purged entries every console acknowledged count=%d", removed)
        return removed

    async def _purge_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.purge_interval)
            try:
                await self.purge_now()
            except StoreError:
                self._log.warning("purge skipped: the store cannot write")

    def _on_signal(self) -> None:
        # Called from the signal handler: hand the drain over to the loop.
        loop = asyncio.get_running_loop()
        loop.call_soon_threadsafe(self._start_drain)

    def _start_drain(self) -> None:
        if self._drain_task is None:
            self._log.info("signal received, draining")
            self._drain_task = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        ctx = self.ctx
        if ctx is not None:
            ctx.draining = True
        await stop_task(self._purge_task)
        if ctx is not None:
            await ctx.hub.close_all(1001, "the relay is shutting down")
        if self._server is not None and self._serve_task is not None:
            self._server.should_exit = True
            await wait_stopped(self._serve_task)
        await self._stack.aclose()
        self._log.info("relay stopped")
        self._closed.set()

    async def wait_closed(self) -> None:
        """Serve until the relay has drained (after a signal, or `aclose` elsewhere)."""
        await self._closed.wait()

    async def aclose(self) -> None:
        self._start_drain()
        assert self._drain_task is not None
        await asyncio.shield(self._drain_task)
