"""What a login and a token refresh need, and what to do when something is missing.

Each missing piece comes back as a sentence that says how to set it, for the console's
login screen and the token keeper's start-up alike.
"""

from __future__ import annotations

from typing import Any

from kenar_core.errors import CredentialError

HOW_TO_SET = {
    "client-secret": "the app's client secret is not stored: run `kenar-tui auth set "
    "client-secret` (it is shown in the Kenar panel)",
    "api-key": "the app's API key is not stored: run `kenar-tui auth set api-key` "
    "(it is shown in the Kenar panel)",
}


def client_id_missing(settings: Any) -> str | None:
    if settings.client_id:
        return None
    return (
        'no client id is set: put client_id = "<your app\'s slug>" in '
        f"{settings.config_file}, or set KENAR_TUI_CLIENT_ID"
    )


def login_problems(settings: Any, credentials: Any) -> list[str]:
    """Everything a login lacks (client id, client secret, API key), each with its fix."""
    problems = [p for p in (client_id_missing(settings),) if p]
    try:
        for name in ("client-secret", "api-key"):
            if not credentials.has_secret(name):
                problems.append(HOW_TO_SET[name])
    except CredentialError as exc:  # no usable keyring: its message says how to get one
        problems.append(str(exc))
    return problems


def refresh_problem(settings: Any, credentials: Any) -> str | None:
    """Why stored tokens cannot be refreshed (no client id or secret), or None when they can."""
    missing = client_id_missing(settings)
    if missing:
        return missing
    try:
        if not credentials.has_secret("client-secret"):
            return HOW_TO_SET["client-secret"]
    except CredentialError as exc:
        return str(exc)
    return None


def refreshable_tokens(credentials: Any) -> int:
    """How many stored tokens carry a refresh token (0 when the keyring cannot be read)."""
    try:
        return sum(1 for t in credentials.tokens() if t.refresh_token is not None)
    except CredentialError:
        return 0
