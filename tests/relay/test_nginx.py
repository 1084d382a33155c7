"""The relay behind a real nginx (Debian's package): a webhook, a start-URL press, a websocket."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

import httpx
import pytest

from tests.fixtures.binaries import require_binary
from tests.fixtures.relay import RunningRelay
from tests.relay.helpers import SAMPLES, console, post_json, text_event

pytestmark = pytest.mark.nginx

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _config(prefix: Path, port: int, upstream: int) -> str:
    """A non-root, foreground nginx of our own that proxies with the shipped snippet itself."""
    site = (REPO / "deploy" / "nginx-kenar-relay.conf").read_text()
    assert "underscores_in_headers on;" in site and "$connection_upgrade" in site
    snippet = (REPO / "deploy" / "kenar-relay-proxy.conf").read_text()
    assert "proxy_pass http://127.0.0.1:8765;" in snippet
    (prefix / "proxy.conf").write_text(snippet.replace(":8765;", f":{upstream};"))
    temp = " ".join(
        f"{kind}_temp_path {prefix}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""
daemon off;
master_process off;
worker_processes 1;
error_log {prefix}/error.log warn;
pid {prefix}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log off;
    {temp}
    underscores_in_headers on;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 300k;
        location / {{
            include {prefix}/proxy.conf;
        }}
    }}
}}
"""


async def test_a_webhook_a_press_and_a_websocket_pass_through_nginx(
    relay: RunningRelay, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    """Through nginx: the event reaches a console over the proxied websocket; API_VERSION too."""
    nginx = require_binary("nginx")
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    port = _free_port()
    conf = prefix / "nginx.conf"
    conf.write_text(_config(prefix, port, relay.server.port))
    proc = await asyncio.create_subprocess_exec(
        nginx,
        "-p",
        str(prefix),
        "-c",
        str(conf),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    front = f"http://127.0.0.1:{port}"
    try:
        async with asyncio.timeout(15):
            while True:
                try:
                    if (await http.get(front + "/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert proc.returncode is None, (prefix / "error.log").read_text()
                await asyncio.sleep(0.05)
        async with console(f"ws://127.0.0.1:{port}/ws", relay.token) as client:
            await client.until("live")
            event = await post_json(
                http, front + "/events", text_event("از پشت nginx"), key=relay.identification_key
            )
            press = await post_json(
                http,
                front + "/server-link",
                json.loads((SAMPLES / "server-link-v2.json").read_text(encoding="utf-8")),
                key=relay.identification_key,
                headers={"API_VERSION": "2"},
            )
            frames = await client.entries(2)
    finally:
        proc.terminate()
        await proc.wait()
    assert event.status_code == 200 and press.status_code == 200
    assert set(press.json()) == {"url"}  # the v2 answer: the underscore header reached the relay
    assert frames[0]["entry"]["data"]["text"] == "از پشت nginx"
    assert frames[1]["entry"]["kind"] == "button_pressed"
