"""`Sandbox`: the local stand-in for Divar, served by uvicorn on the running event loop.

    async with Sandbox(seed=7) as sandbox:
        sandbox.base_url        # API base and OAuth base
        sandbox.control         # SandboxControl, the Python API over /_sandbox/

Port 0 picks a free port; `base_url` carries the one bound. Chat uploads have their own
address, as Divar's go to chat.divar.ir (docs/chat/upload_media.md): a second free port on
the same host, `upload_base`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator
from typing import Self

import uvicorn

from kenar_core.lifecycle import AsyncResource, wait_stopped
from kenar_tui.sandbox.app import build_app
from kenar_tui.sandbox.buyers import BuyerSimulator
from kenar_tui.sandbox.control import SandboxControl
from kenar_tui.sandbox.core import SandboxCore
from kenar_tui.sandbox.registration import Registration

START_TIMEOUT = 10.0


class _SignalFreeServer(uvicorn.Server):
    """uvicorn without its SIGINT/SIGTERM capture: the program embedding us owns signals
    (the demo runs a Textual app in the same process)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class Sandbox(AsyncResource):
    """Serves the sandbox while open; `aclose()` may be called any number of times."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        seed: int = 0,
        rate: float = 0.0,
        events_url: str | None = None,
        start_url: str | None = None,
        identification_key: str | None = None,
        api_key: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        redirect_uris: list[str] | None = None,
        legacy_server_link: bool = False,
        logger: logging.Logger | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.seed = seed
        self.rate = rate
        self.log = logger or logging.getLogger("kenar_tui.sandbox")
        registration = Registration(
            events_url=events_url,
            start_url=start_url,
            redirect_uris=list(redirect_uris or []),
            legacy_server_link=legacy_server_link,
        )
        if identification_key:
            registration.identification_key = identification_key
        if api_key:
            registration.api_key = api_key
        if client_id:
            registration.client_id = client_id
        if client_secret:
            registration.client_secret = client_secret
        self.core = SandboxCore(registration, seed=seed, logger=self.log)
        self.buyers = BuyerSimulator(self.core, seed=seed, logger=self.log)
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._control: SandboxControl | None = None
        self._sockets: list[socket.socket] = []
        self.upload_port = 0
        self._closed = False

    def __repr__(self) -> str:
        return f"Sandbox(host={self.host!r}, port={self.port}, seed={self.seed})"

    # --- what others read ----------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def upload_base(self) -> str:
        """Where chat uploads go (KenarClient's `upload_base`); Divar's is chat.divar.ir."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.upload_port}"

    @property
    def api_key(self) -> str:
        return self.core.registration.api_key

    @property
    def identification_key(self) -> str:
        return self.core.registration.identification_key

    @property
    def client_id(self) -> str:
        return self.core.registration.client_id

    @property
    def client_secret(self) -> str:
        return self.core.registration.client_secret

    @property
    def control(self) -> SandboxControl:
        if self._control is None:
            raise RuntimeError("the sandbox is not started; use `async with Sandbox() as s`")
        return self._control

    # --- life cycle ----------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def start(self) -> None:
        """Bind, serve and start the delivery queue (and the buyers, if a rate was given)."""
        if self._closed:
            raise RuntimeError("a closed sandbox cannot be started again; make a new one")
        if self._task is not None:
            return
        config = uvicorn.Config(
            build_app(self.core, self.buyers),
            host=self.host,
            port=self.port,
            lifespan="off",
            log_config=None,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        self._server = _SignalFreeServer(config)
        self._sockets = [self._bind(self.port), self._bind(0)]
        self.port = self._sockets[0].getsockname()[1]
        self.upload_port = self._sockets[1].getsockname()[1]
        self.core.upload_port = self.upload_port
        self.core.media_base_url = self.upload_base
        await self.core.delivery.start()
        self._task = asyncio.create_task(
            self._server.serve(sockets=self._sockets), name="sandbox-server"
        )
        try:
            async with asyncio.timeout(START_TIMEOUT):
                while not self._server.started:
                    if self._task.done():
                        self._task.result()
                        raise RuntimeError("the sandbox server stopped before it started")
                    await asyncio.sleep(0.01)
        except BaseException:
            await self.aclose()
            raise
        self._control = SandboxControl(self.base_url)
        if self.rate > 0:
            self.buyers.start(self.rate)
        self.log.info("sandbox serving on %s", self.base_url)

    def _bind(self, port: int) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, port))
        except OSError:
            sock.close()
            raise
        sock.set_inheritable(True)
        return sock

    async def serve_forever(self) -> None:
        """Wait until the server stops (or the task running this is cancelled)."""
        if self._task is None:
            await self.start()
        assert self._task is not None
        await asyncio.shield(self._task)

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self.buyers.stop()
        if self._control is not None:
            await self._control.aclose()
        if self._task is not None and self._server is not None:
            self._server.should_exit = True
            await wait_stopped(self._task)
        for sock in self._sockets:
            sock.close()
        await self.core.delivery.aclose()
        self.log.info("sandbox stopped")
