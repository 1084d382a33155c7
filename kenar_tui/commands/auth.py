"""`kenar-tui auth status|set|forget`: the secrets in the system keyring, never their values."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from datetime import UTC, datetime
from typing import Any

from kenar_tui.auth.cli_support import fail, guarded
from kenar_tui.credentials import SECRET_NAMES, CredentialStore, StoredToken


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "auth",
        help="show, store and forget the secrets kept in the system keyring",
        description="The app's API key and client secret, the relay token and the OAuth "
        "tokens live in the system keyring. Values are never shown.",
    )
    sub = parser.add_subparsers(dest="auth_command", metavar="ACTION", required=True)

    status = sub.add_parser("status", help="what is stored, token scopes and expiry")
    status.add_argument("--json", action="store_true", help="print JSON for scripts")
    status.set_defaults(run=guarded(run_status))

    store = sub.add_parser("set", help="store a secret (typed without echo, or from stdin)")
    store.add_argument("name", choices=SECRET_NAMES)
    store.add_argument(
        "--stdin", action="store_true", help="read the secret from standard input (scripts)"
    )
    store.set_defaults(run=guarded(run_set))

    forget = sub.add_parser("forget", help="remove a secret, the OAuth tokens, or everything")
    forget.add_argument("name", choices=(*SECRET_NAMES, "tokens", "all"))
    forget.set_defaults(run=guarded(run_forget))


def _expiry(token: StoredToken, now: datetime) -> str:
    when = token.expires_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    left = int((token.expires_at - now).total_seconds())
    if left <= 0:
        return f"expired {when}"
    hours, rest = divmod(left // 60, 60)
    return f"expires {when} (in {hours}h {rest}m)" if hours else f"expires {when} (in {rest}m)"


def run_status(args: argparse.Namespace) -> int:
    creds = CredentialStore()
    now = datetime.now(UTC)
    secrets = {name: creds.has_secret(name) for name in SECRET_NAMES}
    tokens = creds.tokens()
    if args.json:
        out = {
            "keyring": creds.backend_name,
            "secrets": secrets,
            "tokens": [
                {
                    "id": t.id,
                    "scopes": list(t.scopes),
                    "expires_at": t.expires_at.isoformat(),
                    "expired": t.expired(now),
                    "refreshable": t.refresh_token is not None,
                }
                for t in tokens
            ],
        }
        print(json.dumps(out, indent=2))
        return 0
    print(f"keyring: {creds.backend_name}")
    for name, stored in secrets.items():
        hint = "stored" if stored else f"not stored (kenar-tui auth set {name})"
        print(f"  {name:<14} {hint}")
    if not tokens:
        print("tokens: none (kenar-tui login)")
        return 0
    print(f"tokens: {len(tokens)}")
    for token in tokens:
        refresh = "refreshable" if token.refresh_token else "not refreshable"
        print(f"  {token.id}  {_expiry(token, now)}, {refresh}")
        for scope in token.scopes:
            print(f"      {scope}")
    return 0


def _read_secret(name: str, from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        # The first line only: `echo KEY | kenar-tui auth set api-key` must not keep "\n".
        return sys.stdin.readline().strip()
    try:
        return getpass.getpass(f"{name} (typing is not shown): ").strip()
    except EOFError:  # Ctrl-D: nothing entered
        return ""


def run_set(args: argparse.Namespace) -> int:
    creds = CredentialStore()
    value = _read_secret(args.name, args.stdin)
    if not value:
        fail(f"nothing was entered; {args.name} was not changed")
        return 2
    creds.set_secret(args.name, value)
    print(f"stored {args.name} in the keyring ({creds.backend_name})")
    return 0


def run_forget(args: argparse.Namespace) -> int:
    creds = CredentialStore()
    removed: list[str] = []
    if args.name in SECRET_NAMES or args.name == "all":
        for name in SECRET_NAMES if args.name == "all" else (args.name,):
            if creds.forget_secret(name):
                removed.append(name)
    if args.name in ("tokens", "all"):
        dropped = creds.drop_all_tokens()
        if dropped:
            removed.append(f"{len(dropped)} token(s)")
    if not removed:
        print(f"nothing to forget: no {args.name} is stored")
        return 0
    print(f"forgot {', '.join(removed)}")
    return 0
