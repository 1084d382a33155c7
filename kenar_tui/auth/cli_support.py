"""What the `login`, `auth` and `subscribe` commands share: endpoint flags, settings, errors.

Endpoints come from `Settings` (config file, then `KENAR_TUI_*` environment variables), and a
flag given on the command line wins over both.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any, TextIO

from kenar_api.client import KenarClient
from kenar_core.errors import ConfigError, KenarTuiError
from kenar_tui.auth.relay_callback import relay_callback_uri
from kenar_tui.config import Settings
from kenar_tui.credentials import CredentialStore

_ENDPOINT_FLAGS = {
    "api_base": ("--api-base", "Kenar API base URL (default: settings, https://open-api.divar.ir)"),
    "oauth_base": ("--oauth-base", "OAuth base URL (default: settings, https://oauth.divar.ir)"),
    "client_id": ("--client-id", "the app's slug in the Kenar panel"),
    "redirect_uri": ("--redirect-uri", "the redirect URI registered in the Kenar panel"),
    "relay_url": ("--relay-url", "the relay (wss://...) that receives the OAuth redirect"),
}


def add_endpoint_flags(parser: argparse.ArgumentParser, *names: str) -> None:
    """Add `--config` and the named endpoint flags (all of them when none is named)."""
    parser.add_argument("--config", metavar="FILE", help="the config file to read (TOML)")
    for name in names or tuple(_ENDPOINT_FLAGS):
        flag, help_text = _ENDPOINT_FLAGS[name]
        parser.add_argument(
            flag, dest=name, metavar="URL" if "url" in flag else "VALUE", help=help_text
        )


def load_settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    for name in _ENDPOINT_FLAGS:
        value = getattr(args, name, None)
        if value:
            overrides[name] = value
    return Settings.load(getattr(args, "config", None), **overrides)


def client_id_of(settings: Settings) -> str:
    if not settings.client_id:
        raise ConfigError(
            "no client id is set: give --client-id, set KENAR_TUI_CLIENT_ID, or put "
            f'client_id = "<your app\'s slug>" in {settings.config_file}'
        )
    return settings.client_id


def redirect_uri_of(settings: Settings, *, relay_url: str | None = None) -> str:
    """The registered redirect URI; with a relay, its /oauth/callback unless one is set."""
    if settings.redirect_uri:
        return settings.redirect_uri
    if relay_url:
        return relay_callback_uri(relay_url)
    raise ConfigError(
        "no redirect URI is set: give --redirect-uri (the one registered in the Kenar panel), "
        f'set KENAR_TUI_REDIRECT_URI, or put redirect_uri = "..." in {settings.config_file}'
    )


def kenar_client(settings: Settings, credentials: CredentialStore) -> KenarClient:
    return KenarClient(
        credentials.require("api-key"),
        api_base=settings.api_base,
        oauth_base=settings.oauth_base,
    )


def guarded(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn kenar-tui's own errors into one line on stderr and exit status 1."""

    def wrapper(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except KenarTuiError as exc:
            fail(str(exc))
            return 1

    return wrapper


def fail(message: str, stream: TextIO | None = None) -> None:
    print(f"kenar-tui: {message}", file=stream or sys.stderr)
