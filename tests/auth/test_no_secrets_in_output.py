"""Nothing the console or the relay logs or prints during the OAuth flows contains a secret."""

from __future__ import annotations

import asyncio
import io
import logging
from datetime import UTC, datetime, timedelta

import pytest

from kenar_core.errors import LoginError
from kenar_tui.auth.keeper import TokenKeeper, TokenProblem
from kenar_tui.auth.login import LoginFlow
from kenar_tui.auth.relay_callback import relay_oauth_code
from kenar_tui.cli import main
from kenar_tui.credentials import CredentialStore
from kenar_tui.link import RelayLink
from kenar_tui.sandbox import Sandbox
from tests.auth.flows import POST, browse, browse_sync, kenar_for, revoke_through_relay, wire
from tests.fixtures.relay import RunningRelay


class Stdin(io.StringIO):
    def isatty(self) -> bool:
        return False


# Third-party wire loggers that would log the Authorization header at DEBUG: websockets' client
# and uvicorn's websockets-sansio server ("uvicorn.error"). Both are quieted at DEBUG
# (kenar_core.redaction.quiet_wire_logs); the "everything" case checks that they are.
THIRD_PARTY_WIRE = ("websockets.client", "uvicorn.error")


def everything_logged(caplog: pytest.LogCaptureFixture, skip: tuple[str, ...] = ()) -> str:
    """Every record formatted, plus its raw args and traceback, whatever the handler shows."""
    parts = []
    for record in caplog.records:
        if record.name in skip:
            continue
        parts += [caplog.handler.format(record), record.getMessage(), repr(record.args)]
        parts.append(record.exc_text or "")
        if record.exc_info and record.exc_info[1] is not None:
            parts.append(repr(record.exc_info[1]))
    return "\n".join(parts)


@pytest.mark.parametrize(
    "skip",
    [
        pytest.param(THIRD_PARTY_WIRE, id="our-logs-and-output"),
        pytest.param((), id="including-third-party-wire-logs"),
    ],
)
async def test_no_secret_appears_in_any_log_or_output(
    skip: tuple[str, ...],
    sandbox: Sandbox,
    relay: RunningRelay,
    creds: CredentialStore,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Store, log in (CLI and console), subscribe, refresh, revoke: no secret logged or printed."""
    for name in ["", *logging.root.manager.loggerDict]:
        caplog.set_level(logging.DEBUG, logger=name)
    secrets = await wire(sandbox, relay, creds)
    for name in ("api-key", "client-secret", "relay-token"):
        creds.forget_secret(name)
    problems: list[TokenProblem] = []

    # The secrets go in through the CLI, as a seller would store them.
    for name, value in (
        ("api-key", sandbox.api_key),
        ("client-secret", sandbox.client_secret),
        ("relay-token", relay.token),
    ):
        monkeypatch.setattr("sys.stdin", Stdin(value + "\n"))
        assert main(["auth", "set", name]) == 0

    # `kenar-tui login` through the relay, then `subscribe` and `auth status`.
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr("webbrowser.open", browse_sync)
    common = ["--api-base", sandbox.base_url, "--oauth-base", sandbox.base_url]
    login = ["login", "--post", POST, "--relay-url", relay.ws_url, "--client-id", sandbox.client_id]
    assert await asyncio.to_thread(main, [*login, *common]) == 0
    secrets.add_tokens(creds)
    assert await asyncio.to_thread(main, ["subscribe", *common]) == 0
    assert main(["auth", "status"]) == 0
    assert main(["auth", "status", "--json"]) == 0

    async with kenar_for(sandbox) as kenar:
        # The console's own login over its relay link.
        async with RelayLink(relay.ws_url, relay.token) as link:
            flow = LoginFlow(
                kenar,
                creds,
                client_id=sandbox.client_id,
                redirect_uri=f"{relay.url}/oauth/callback",
                all_posts=True,
            )
            await asyncio.wait_for(link.wait_online(), 10)
            waiting = asyncio.create_task(flow.code_from_link(link, timeout=20))
            async with asyncio.timeout(10):
                while (await browse(flow.url)).status_code != 200:
                    pass
            await flow.finish(await waiting)
        secrets.add_tokens(creds)

        # A refresh before expiry, with re-subscription.
        later = datetime.now(UTC) + timedelta(minutes=50)
        keeper = TokenKeeper(
            kenar,
            creds,
            client_id=sandbox.client_id,
            redirect_uri=f"{relay.url}/oauth/callback",
            now=lambda: later,
            on_problem=problems.append,
        )
        assert len(await keeper.refresh_due()) == 2
        secrets.add_tokens(creds)

        # Revocation, then a refresh with a dead token and a failed relay connection.
        stale = creds.tokens()
        await revoke_through_relay(sandbox, relay, creds, kenar)
        for token in stale:
            assert await keeper.refresh(token) is None
        with pytest.raises(LoginError):
            await relay_oauth_code(
                relay.ws_url, "kr_wrong_" + relay.token[::-1], "s" * 32, timeout=5
            )
    for problem in problems:
        print(problem.message)

    out = capsys.readouterr()
    logged = everything_logged(caplog, skip)
    relay_files = "".join(p.read_text(errors="replace") for p in relay.data_dir.rglob("*.log"))
    everything = "\n".join([out.out, out.err, logged, relay_files])

    # The capture really holds the flows: the relay, the console and the commands all spoke.
    assert "logged in: token" in out.out and "subscribed to new messages" in out.out
    assert "oauth callback delivered" in logged and "refreshed token" in logged
    assert any(r.name.startswith("kenar_relay") for r in caplog.records)
    assert problems and all(p.fatal for p in problems)
    assert len(secrets.values) >= 11
    leaked = sorted(
        where(s, out.out, out.err, caplog, relay_files) for s in secrets.values if s in everything
    )
    assert leaked == [], f"secrets found in logs or output: {leaked}"


def where(secret: str, out: str, err: str, caplog: pytest.LogCaptureFixture, files: str) -> str:
    """Which output holds a secret, named without showing it."""
    places = [
        name
        for name, text in (("stdout", out), ("stderr", err), ("files", files))
        if secret in text
    ]
    places += sorted(
        {
            f"log {r.name}"
            for r in caplog.records
            if secret in f"{r.getMessage()} {r.args!r} {r.exc_text or ''}"
        }
    )
    return f"{secret[:4]}… ({len(secret)} chars) in {', '.join(places) or 'formatted log text'}"
