"""The exceptions kenar-tui raises, in one small hierarchy.

    KenarTuiError
    ├── ProtocolError              a body does not have the shape Kenar documents
    │   └── ButtonGridError        a button grid breaks a limit (rows, buttons, caption, link, icon)
    ├── KenarError                 the Kenar API (or its transport) failed
    │   ├── TransportError         no HTTP answer: connection refused or dropped, DNS, TLS
    │   │   └── KenarTimeout       no answer in time
    │   └── KenarAPIError          an HTTP answer with a non-2xx status and Kenar's {code, message}
    │       ├── AuthError          401/403: the key or token is missing, expired or lacks a scope
    │       ├── RecipientRestricted  412 code 9: the buyer's side restricts messages
    │       ├── RateLimited        429 after the retries ran out
    │       └── ServerError        5xx after the retries ran out
    ├── CredentialError            the keyring is unusable, or a needed secret is not stored
    │   └── KeyringUnavailable     the keyring is locked or does not answer: wait, then retry
    ├── SealingError               stored data cannot be sealed or opened: a key missing or wrong,
    │                              a key file unsafe, or an entry damaged
    ├── MediaError                 a photo or file Divar's chat would not take: nothing was sent
    ├── LoginError                 an OAuth login did not complete (refused, wrong state, no code)
    ├── RelayUnavailable           the console is not connected to the relay (it keeps retrying)
    ├── CacheWriterStopped         the console's cache writer is closed, or a batch failed
    └── ConfigError                a configuration or template file is invalid
        └── InvalidURL             a relay URL or API base is not a URL we can use

Every message is safe to show to the user and to log: no error carries an API key,
a token or an identification key.
"""

from __future__ import annotations

from typing import Any


class KenarTuiError(Exception):
    """The base of every error kenar-tui raises on purpose."""


class ProtocolError(KenarTuiError):
    """A body does not have the shape Kenar documents.

    Deliberately not a ValueError: raised inside a pydantic validator it propagates as itself,
    with its own sentence, instead of being folded into a pydantic ValidationError.
    """


class ButtonGridError(ProtocolError):
    """A button grid breaks one of Kenar's limits; `field` names where."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class KenarError(KenarTuiError):
    """The Kenar API, or the way to it, failed.

    `maybe_delivered` is True when a request that changes something (a POST) may have reached
    Kenar and been carried out although its answer was lost: a read timeout, a connection
    dropped after sending, a 5xx. Kenar has no idempotency key, so such a call is never
    repeated automatically; the caller shows it as "unknown".
    """

    hint: str = ""
    maybe_delivered: bool = False

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base} ({self.hint})" if self.hint else base


class TransportError(KenarError):
    """No HTTP answer came back: the connection was refused, dropped or not made."""

    hint = "check the network and the API base URL"


class KenarTimeout(TransportError):
    """The API did not answer in time."""

    hint = "the API is slow or unreachable; it will be tried again"


class KenarAPIError(KenarError):
    """The API answered with a non-2xx status; `code` and `message` are Kenar's own."""

    def __init__(
        self,
        status: int,
        code: int | None = None,
        message: str = "",
        details: list[Any] | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message or f"HTTP {status}"
        self.details = details or []
        where = f"HTTP {status}, code {code}" if code is not None else f"HTTP {status}"
        super().__init__(f"{self.message} [{where}]")

    @property
    def retryable(self) -> bool:
        return self.status == 429 or self.status >= 500


class AuthError(KenarAPIError):
    """401/403: the API key or the user token is missing, expired or lacks a scope."""

    hint = "the token lacks a scope or has expired: log in again for this post (kenar-tui login)"


class RecipientRestricted(KenarAPIError):
    """412 code 9: the buyer blocked the seller or restricts who may message them."""

    hint = "the buyer's side restricts messages; this conversation cannot be written to"


class RateLimited(KenarAPIError):
    """429 after every retry."""

    hint = "Kenar is rate limiting this app; wait a little and try again"

    def __init__(self, *args: Any, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.retry_after = retry_after


class ServerError(KenarAPIError):
    """5xx after every retry."""

    hint = "Kenar's side failed; the reply will be tried again"


class CredentialError(KenarTuiError):
    """The keyring cannot be used, or a secret we need is not in it."""


class KeyringUnavailable(CredentialError):
    """The keyring is locked or does not answer; nothing was done, so trying later is safe."""


class MediaError(KenarTuiError):
    """A photo or file Divar's chat would not take (type, size, unreadable): nothing was sent."""


class LoginError(KenarTuiError):
    """An OAuth login did not complete: refused, another login's redirect, or no code in time."""


class SealingError(KenarTuiError):
    """Encrypted data cannot be sealed or opened; the message names the key id or file at fault.

    Never carries key material or the plaintext it was about.
    """


class RelayUnavailable(KenarTuiError):
    """The console is not connected to the relay right now; the link keeps reconnecting."""


class CacheWriterStopped(KenarTuiError):
    """The console's cache writer took no batch: it is closed, or an earlier batch failed."""


class ConfigError(KenarTuiError):
    """A configuration or template file is invalid; the message names the file and line."""


class InvalidURL(ConfigError, ValueError):
    """A relay URL or API base that is not a URL we can use (kenar_core/urls.py).

    Also a ValueError, so pydantic validators raise it as it is and report its sentence.
    """


def api_error(status: int, body: Any, *, retry_after: float | None = None) -> KenarAPIError:
    """Build the typed error for a non-2xx answer from its status and (parsed) body."""
    code: int | None = None
    message = ""
    details: list[Any] = []
    if isinstance(body, dict):
        raw_code = body.get("code")
        code = raw_code if isinstance(raw_code, int) and not isinstance(raw_code, bool) else None
        # OAuth errors are {error, error_description}: keep both, the first is the machine's word.
        oauth = ": ".join(str(body[k]) for k in ("error", "error_description") if body.get(k))
        message = str(body.get("message") or oauth or "")
        raw_details = body.get("details")
        details = raw_details if isinstance(raw_details, list) else []
    if status in (401, 403):
        return AuthError(status, code, message, details)
    if status == 412 and code == 9:
        return RecipientRestricted(status, code, message, details)
    if status == 429:
        return RateLimited(status, code, message, details, retry_after=retry_after)
    if status >= 500:
        return ServerError(status, code, message, details)
    return KenarAPIError(status, code, message, details)
