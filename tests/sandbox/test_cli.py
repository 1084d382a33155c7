"""`kenar-tui sandbox`: prints its keys for scripts, serves, and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import sys

import httpx

from kenar_tui.cli import build_parser

READ_WAIT = 20.0


def test_sandbox_command_parses_its_options() -> None:
    """The subcommand takes host, port, seed, rate, the app's URLs and the legacy switch."""
    args = build_parser().parse_args(
        [
            "sandbox",
            "--port",
            "0",
            "--seed",
            "9",
            "--rate",
            "2.5",
            "--events-url",
            "http://127.0.0.1:8080/events",
            "--start-url",
            "http://127.0.0.1:8080/start",
            "--legacy-server-link",
        ]
    )
    assert (args.seed, args.rate, args.legacy_server_link) == (9, 2.5, True)
    assert args.events_url == "http://127.0.0.1:8080/events"
    assert callable(args.run)


async def test_sandbox_command_prints_keys_serves_and_stops() -> None:
    """It prints base_url=, api_key=, identification_key= lines, serves, and exits 0 on SIGTERM."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "kenar_tui",
        "sandbox",
        "--seed",
        "4",
        "--identification-key",
        "کلید-آزمایشی",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        values: dict[str, str] = {}
        async with asyncio.timeout(READ_WAIT):
            while "client_secret" not in values:
                line = (await process.stdout.readline()).decode()
                assert line, "the sandbox exited before printing its keys"
                key, _, value = line.strip().partition("=")
                values[key] = value
        assert list(values) == [
            "base_url",
            "api_key",
            "identification_key",
            "client_id",
            "client_secret",
        ]
        assert values["base_url"].startswith("http://127.0.0.1:")
        assert values["identification_key"] == "کلید-آزمایشی"
        async with httpx.AsyncClient() as http:
            state = (await http.get(f"{values['base_url']}/_sandbox/state")).json()
        assert state["seed"] == 4
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(READ_WAIT):
            code = await process.wait()
            await process.communicate()
    assert code == 0
