"""`kenar-relay serve` as a real child process, for the kill -9 and SIGTERM tests."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import httpx

from tests.relay.helpers import post_json, text_event


class RelayProcess:
    """One `python -m relay serve` on an ephemeral loopback port, over a given data directory."""

    def __init__(self, data_dir: Path, key: str, token: str) -> None:
        self.data_dir = data_dir
        self.key = key
        self.token = token
        self.proc: asyncio.subprocess.Process | None = None
        self.url = ""
        self.log = data_dir.parent / f"{data_dir.name}-stderr.log"

    @property
    def ws_url(self) -> str:
        return self.url.replace("http", "ws", 1) + "/ws"

    async def start(self) -> None:
        env = {
            **os.environ,
            "KENAR_RELAY_IDENTIFICATION_KEY": self.key,
            "KENAR_RELAY_CLIENT_TOKEN": self.token,
            "KENAR_RELAY_DATA_DIR": str(self.data_dir),
        }
        with self.log.open("ab") as stderr:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "relay",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
                env=env,
            )
        assert self.proc.stdout is not None
        async with asyncio.timeout(20):
            line = (await self.proc.stdout.readline()).decode().strip()
        assert line.startswith("url="), f"relay did not start: {line!r}; see {self.log}"
        self.url = line.removeprefix("url=")

    def signal(self, signum: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    async def wait(self, within: float) -> int:
        assert self.proc is not None
        async with asyncio.timeout(within):
            return await self.proc.wait()

    async def stop(self) -> None:
        """Make sure the child is gone (used in `finally`)."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
            await self.proc.wait()


async def burst(
    http: httpx.AsyncClient,
    url: str,
    key: str,
    *,
    workers: int,
    acked: dict[str, int],
    stop: asyncio.Event,
) -> None:
    """Senders posting distinct messages until `stop`; `acked` maps message id to 2xx seq."""

    async def sender(worker: int) -> None:
        index = 0
        while not stop.is_set():
            message_id = f"burst-{worker}-{index}"
            index += 1
            try:
                answer = await post_json(
                    http,
                    url + "/events",
                    text_event(f"انبوه {index}", message_id=message_id),
                    key=key,
                )
            except httpx.HTTPError:
                return  # the relay went away mid-request: this one was never acknowledged
            if answer.status_code == 200:
                acked[message_id] = answer.json()["seq"]
            elif answer.status_code == 503:
                return

    await asyncio.gather(*(sender(w) for w in range(workers)))
