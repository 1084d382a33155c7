"""How the sandbox says no: Divar's google.rpc.Status body with the matching HTTP status.

    KenarTuiError (kenar_core.errors)
    ├── Rejection        an API request the sandbox refuses; becomes {code, message, details}
    └── TokenProblem     why a token or code is refused (tokens.py); becomes a Rejection

A handler raises `Rejection`; the app turns it into the JSON answer, so every refusal has a
sentence saying what was wrong and never a traceback.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from kenar_core.errors import KenarTuiError

# google.rpc.Code values Divar answers with, and the HTTP status each travels with.
INVALID_ARGUMENT = 3
NOT_FOUND = 5
PERMISSION_DENIED = 7
RESOURCE_EXHAUSTED = 8
FAILED_PRECONDITION = 9
UNAVAILABLE = 14
UNAUTHENTICATED = 16

HTTP_STATUS = {
    INVALID_ARGUMENT: 400,
    NOT_FOUND: 404,
    PERMISSION_DENIED: 403,
    RESOURCE_EXHAUSTED: 429,
    FAILED_PRECONDITION: 412,
    UNAVAILABLE: 503,
    UNAUTHENTICATED: 401,
}

RECIPIENT_RESTRICTED = "message delivery failed due to recipient's restriction"


class Rejection(KenarTuiError):
    """A request the sandbox refuses, with Divar's code and a sentence saying why."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        status: int | None = None,
        details: list[Any] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or HTTP_STATUS.get(code, 400)
        self.details = details or []
        self.headers = headers or {}
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details, **self.extra}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def invalid(message: str, *, field: str | None = None) -> Rejection:
    """400 code 3, with the offending field named in `details` like Divar's BadRequest."""
    details: list[Any] = []
    if field:
        details.append(
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "field_violations": [{"field": field, "description": message}],
            }
        )
    return Rejection(INVALID_ARGUMENT, message, details=details)


def unauthenticated(message: str) -> Rejection:
    return Rejection(UNAUTHENTICATED, message)


def denied(message: str) -> Rejection:
    return Rejection(PERMISSION_DENIED, message)


def not_found(message: str) -> Rejection:
    return Rejection(NOT_FOUND, message)


def restricted() -> Rejection:
    return Rejection(FAILED_PRECONDITION, RECIPIENT_RESTRICTED)
