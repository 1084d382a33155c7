"""The servers a benchmark measures, each in its own process: the relay, the no-op endpoint,
the bare broadcast floor, and a throwaway redis-server.

Each is a context manager: it starts the process, waits for the `url=` line it prints,
and on exit stops it with SIGTERM (SIGKILL after a grace period). Running them as separate
processes keeps the load generator's CPU out of the measured server's interpreter.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from bench.common import CLIENT_TOKEN, IDENTIFICATION_KEY

ROOT = Path(__file__).resolve().parent.parent


class ServerProcess:
    """A child process that prints `url=<url>` once it serves."""

    def __init__(self, argv: Sequence[str], *, env: dict[str, str] | None = None) -> None:
        self.argv = list(argv)
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def __enter__(self) -> Self:
        self.proc = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if ready:
                line = self.proc.stdout.readline()
                if line.startswith("url="):
                    self.url = line.strip().removeprefix("url=")
                    return self
                if not line and self.proc.poll() is not None:
                    break
            elif self.proc.poll() is not None:
                break
        self.close()
        raise RuntimeError(f"{self.argv[:4]} did not start (exit {self.proc.returncode})")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        proc = self.proc
        if proc is None or proc.returncode is not None:
            if proc is not None and proc.stdout is not None:
                proc.stdout.close()
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=12)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


# Replicas on one Redis share their keys (the relay refuses a per-replica key file there).
SHARED_KEYS = {
    "KENAR_RELAY_ENCRYPTION_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
    "KENAR_RELAY_INDEX_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
}


def relay_process(
    data_dir: Path, *, store: str | None = None, encryption: bool | None = None
) -> ServerProcess:
    """A real `kenar-relay serve` (python -m relay serve) on an ephemeral loopback port;
    `encryption` None keeps the relay's default (on)."""
    argv = [sys.executable, "-m", "relay", "serve", "--port", "0", "--data-dir", str(data_dir)]
    argv += ["--log-level", "warning"]
    if store is not None:
        argv += ["--store", store]
    env = {
        "KENAR_RELAY_IDENTIFICATION_KEY": IDENTIFICATION_KEY,
        "KENAR_RELAY_CLIENT_TOKEN": CLIENT_TOKEN,
        # Every benchmark console shares the one token (up to 100 at once in bench.e2e);
        # the relay's per-token cap (8) is for real teams.
        "KENAR_RELAY_MAX_CONSOLES_PER_TOKEN": "1000",
    }
    if encryption is not None:
        env.update(encryption_env(encryption))
    if store is not None and encryption is not False:
        env.update(SHARED_KEYS)
    return ServerProcess(argv, env=env)


def encryption_env(on: bool) -> dict[str, str]:
    """The environment switching the relay's encryption at rest; RuntimeError if it has none."""
    from relay.config import RelayConfig

    fields = [name for name in RelayConfig.model_fields if "encrypt" in name]
    if not fields:
        raise RuntimeError(
            "this relay has no encryption setting yet (relay/config.py); run without --encryption"
        )
    return {f"KENAR_RELAY_{fields[0].upper()}": "on" if on else "off"}


def noop_process() -> ServerProcess:
    return ServerProcess([sys.executable, "-m", "bench.noop_server", "--port", "0"])


def broadcast_process(deflate: bool = True) -> ServerProcess:
    flags = ["--compression"] if deflate else []
    return ServerProcess([sys.executable, "-m", "bench.broadcast_server", "--port", "0", *flags])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def redis_server(url: str | None) -> Iterator[str]:
    """`url` if given; otherwise a throwaway redis-server with AOF and `appendfsync always`
    (the durability docs/deploy.md asks for), in a temp dir, yielding its URL."""
    if url:
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed; pass --store redis://HOST:PORT/DB")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-redis-") as tmp:
        proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                tmp,
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 10
            while True:
                with (
                    contextlib.suppress(OSError),
                    socket.create_connection(("127.0.0.1", port), timeout=0.2),
                ):
                    break
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("redis-server did not start")
                time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            proc.terminate()
            proc.wait(timeout=10)
