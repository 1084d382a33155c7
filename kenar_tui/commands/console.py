"""`kenar-tui` (the default command): the console, or the welcome screen on a first run."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import Any

from kenar_core.errors import CredentialError, KenarTuiError
from kenar_tui.logs import console_logging

HUNG_UP = "hung up"  # what `_run` returns when the console ended because its terminal hung up


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "console",
        help="open the console (the default command)",
        description="Open the console: live conversations of every post, keyboard-driven replies.",
    )
    parser.add_argument("--config", type=Path, default=None, help="the config file to read")
    parser.add_argument("--relay-url", default=None, help="the relay's ws:// or wss:// URL")
    parser.add_argument("--operator", default=None, help="your name, shown on your replies")
    parser.add_argument("--log-file", type=Path, default=None, help="write a debug log here")
    parser.set_defaults(run=run)


def quiet_logging(log_file: Path | None) -> logging.Logger:
    """Logs never print over the screen: to `log_file`, else the rotating default (logs.py)."""
    console_logging(log_file)
    return logging.getLogger("kenar_tui")


def run(args: argparse.Namespace) -> int:
    from kenar_tui.config import Settings
    from kenar_tui.credentials import CredentialStore
    from kenar_tui.dialogs.passphrase import UnlockApp
    from kenar_tui.hangup import HANGUP_EXIT_CODE
    from kenar_tui.keyring_choice import system_backend
    from kenar_tui.keyring_file import SessionFileKeyring

    overrides = {k: v for k, v in (("relay_url", args.relay_url), ("operator", args.operator)) if v}
    log = quiet_logging(args.log_file)
    try:
        # Never a terminal prompt under the screen: the file keyring asks in a dialog instead.
        backend = system_backend(ask=None)
    except CredentialError as exc:
        print(f"kenar-tui: {exc}", file=sys.stderr)
        return 1
    locked = isinstance(backend, SessionFileKeyring) and not backend.unlocked
    if locked:
        unlock = UnlockApp(backend)  # type: ignore[arg-type]
        if not unlock.run():
            if unlock.return_code == HANGUP_EXIT_CODE:
                return HANGUP_EXIT_CODE  # the terminal is gone: nobody left to tell
            print("kenar-tui: the keyring stayed locked; nothing was opened.", file=sys.stderr)
            return 1
    while True:
        try:
            settings = Settings.load(args.config, **overrides)
            credentials = CredentialStore(backend)
            result = asyncio.run(_run(settings, credentials, log))
        except CredentialError as exc:
            print(f"kenar-tui: {exc}", file=sys.stderr)
            print(
                "(`kenar-tui demo` needs no keyring: it keeps its secrets in memory.)",
                file=sys.stderr,
            )
            return 1
        except KenarTuiError as exc:
            print(f"kenar-tui: {exc}", file=sys.stderr)
            return 1
        if result == HUNG_UP:
            return HANGUP_EXIT_CODE
        if result == "demo":
            from kenar_tui.commands import demo

            return demo.run(argparse.Namespace(seed=None, rate=None, log_file=args.log_file))
        if result != "restart":  # the welcome screen stored a relay: start again with it
            return 0
        # What the connection screen saved in the file now wins over --relay-url.
        overrides.pop("relay_url", None)


async def _run(settings: Any, credentials: Any, log: logging.Logger) -> str | None:
    from kenar_tui.factory import open_console
    from kenar_tui.hangup import HANGUP_EXIT_CODE

    async with open_console(settings, credentials, logger=log) as app:
        result = await app.run_async()
        return HUNG_UP if app.return_code == HANGUP_EXIT_CODE else result
