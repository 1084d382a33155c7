"""The exceptions the relay raises, drawn as a hierarchy under the core's (kenar_core.errors).

    KenarTuiError                       (kenar_core.errors)
    ├── ConfigError                     a setting, flag or TOML file is invalid (kenar_core.errors)
    └── RelayError
        ├── StoreError                  the store could not write or read durably (answered 503)
        │   ├── StoreClosed             the store is closed or closing (shutdown)
        │   └── StoreBusy               the store's write queue is full (answered 503, Retry-After)
        ├── RequestRejected             a request the relay refuses with a 4xx and a sentence
        │   ├── BadRequest              400: not JSON, invalid UTF-8, nested too deeply, bad shape
        │   ├── Unauthorized            401: wrong or missing identification key or console token
        │   ├── Forbidden               403: the sender's address is not allowed
        │   ├── RequestTimeout          408: the body did not arrive in time
        │   └── BodyTooLarge            413: the body is over the limit
        ├── TokenError                  a console-token command failed (unknown name, bad name)
        │   └── TokenStoreUnreachable   the Redis holding the shared tokens did not answer
        └── ConsoleRefused              a console connection refused (closed with a code + reason)
            ├── TooManyInstances        a token registered too many console instances
            └── SessionClosed           a console session ends with a websocket close code

Messages are safe to log and show: none carries a key, a token or chat content.
"""

from __future__ import annotations

from kenar_core.errors import KenarTuiError


class RelayError(KenarTuiError):
    """The base of every error the relay raises on purpose."""


class StoreError(RelayError):
    """The store could not durably write (disk full, I/O error) or read."""


class StoreClosed(StoreError):
    """The store is closed, or closing and taking no more writes."""


class StoreBusy(StoreError):
    """Too many appends wait for the writer: refused now rather than queued without bound."""


class RequestRejected(RelayError):
    """A request refused with a 4xx status; the message is the sentence sent back."""

    status = 400
    reason = "bad_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(RequestRejected):
    status = 400
    reason = "bad_request"


class Unauthorized(RequestRejected):
    status = 401
    reason = "unauthorized"


class Forbidden(RequestRejected):
    status = 403
    reason = "forbidden"


class RequestTimeout(RequestRejected):
    status = 408
    reason = "timeout"


class BodyTooLarge(RequestRejected):
    status = 413
    reason = "too_large"


class TokenError(RelayError):
    """A console-token command failed: an unknown or invalid name."""


class TokenStoreUnreachable(TokenError):
    """The Redis that holds the replicas' shared tokens did not answer; nothing changed."""


class ConsoleRefused(RelayError):
    """A console's connection or frame the relay refuses; the message is safe to send back."""


class TooManyInstances(ConsoleRefused):
    """A token already has as many console instances registered as the relay keeps."""


class SessionClosed(ConsoleRefused):
    """Close a console's websocket with `code` and `reason`, after an `error` frame if given."""

    def __init__(self, code: int, reason: str, error: str | None = None) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.error = error
