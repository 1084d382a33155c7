"""`KenarClient`: the async client for Kenar's chat, events and OAuth endpoints.

One pooled httpx client per KenarClient, explicit timeouts, and retries with exponential
back-off and full jitter. What is retried depends on whether Kenar may have done the work:
Kenar has no idempotency key, so a POST is repeated only when it provably never reached
Kenar (a connect error, a connect or pool timeout) or Kenar said it did nothing (429,
honouring `Retry-After`). A POST whose answer was lost (read timeout, dropped connection,
5xx) raises at once with `maybe_delivered` set; a GET is retried on all of those. Other 4xx
answers are final. Failures raise the KenarError subclasses of kenar_core.errors, carrying
Kenar's own code and message.

Posts and media are kenar_api/client_posts.py, OAuth kenar_api/client_oauth.py; both are
mixed into KenarClient.

Secrets stay out of logs and errors: log lines name the method, the path (conversation ids
shortened), the status and the attempt; error messages are scrubbed of the key and tokens
in case a server echoes them.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from kenar_api import oauth
from kenar_api.bodies import (
    ChatbotMessageBody,
    ChatbotMessageResponse,
    ConversationResponse,
    SendMessageBody,
    SendMessageResponse,
    SubscriptionRequest,
    UserResponse,
)
from kenar_api.client_oauth import OAuthCalls
from kenar_api.client_posts import PostAndMediaCalls
from kenar_api.headers import auth_headers
from kenar_api.media import DEFAULT_UPLOAD_BASE
from kenar_api.retry import RetryPolicy, parse_retry_after
from kenar_core import __version__
from kenar_core.errors import (
    ConfigError,
    CredentialError,
    KenarAPIError,
    KenarError,
    KenarTimeout,
    ProtocolError,
    TransportError,
    api_error,
)
from kenar_core.lifecycle import AsyncResource
from kenar_core.urls import check_http_base

DEFAULT_API_BASE = "https://open-api.divar.ir"
DEFAULT_OAUTH_BASE = oauth.DEFAULT_OAUTH_BASE

SEND_MESSAGE_PATH = "/v2/open-platform/conversations/{id}/messages"
CHATBOT_MESSAGE_PATH = "/v1/open-platform/chat/bot/conversations/{id}/messages"
CONVERSATION_PATH = "/v1/open-platform/chat/conversations/{id}"
SUBSCRIPTIONS_PATH = "/v1/open-platform/events/subscriptions"
USERS_PATH = "/v1/open-platform/users"

# Methods Kenar carries out at most once however often they are called: safe to repeat.
SAFE_METHODS = frozenset({"GET", "HEAD"})

Sleep = Callable[[float], Awaitable[None]]
_Model = TypeVar("_Model", bound=BaseModel)

_log = logging.getLogger("kenar_tui.kenar.client")


def short_id(identifier: str) -> str:
    """An id shortened for logs: enough to tell chats apart, not enough to address one."""
    return identifier if len(identifier) <= 8 else f"{identifier[:8]}…"


class KenarClient(PostAndMediaCalls, OAuthCalls, AsyncResource):
    """Kenar's HTTP API; use as `async with KenarClient(api_key) as kenar: ...`."""

    def __init__(
        self,
        api_key: str,
        *,
        api_base: str = DEFAULT_API_BASE,
        oauth_base: str = DEFAULT_OAUTH_BASE,
        upload_base: str = DEFAULT_UPLOAD_BASE,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        max_retry_after: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        logger: logging.Logger | None = None,
        sleep: Sleep = asyncio.sleep,
        policy: RetryPolicy | None = None,
    ) -> None:
        if timeout <= 0:
            raise ConfigError("the Kenar timeout must be a positive number of seconds")
        self._api_key = api_key
        self.api_base = check_http_base(api_base, "API base URL")
        self.oauth_base = check_http_base(oauth_base, "OAuth base URL")
        # Divar's chat uploads go to their own host (docs/chat/upload_media.md).
        self.upload_base = check_http_base(upload_base, "upload base URL")
        self.timeout = timeout
        self.policy = policy or RetryPolicy(
            retries=retries, base=backoff, cap=max_backoff, retry_after_cap=max_retry_after
        )
        self._log = logger or _log
        self._sleep = sleep
        self._secrets: set[str] = {api_key} if api_key else set()
        self._closed = False
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            # Keep-alive for every connection the pool may open: with fewer, concurrent sends
            # above the keep-alive count close and reopen a TCP connection per request
            # (bench/send.py counted 50 connections for 50 sends at concurrency 16).
            limits=httpx.Limits(max_connections=10, max_keepalive_connections=10),
            headers={"User-Agent": f"kenar-tui/{__version__}", "Accept": "application/json"},
            transport=transport,
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"KenarClient(api_base={self.api_base!r}, oauth_base={self.oauth_base!r})"

    async def aclose(self) -> None:
        """Close the pooled connections; calling it again does nothing."""
        if self._closed:
            return
        self._closed = True
        await self._http.aclose()

    @property
    def closed(self) -> bool:
        return self._closed

    # --- chat ----------------------------------------------------------------------------

    async def send_message(
        self, conversation_id: str, body: SendMessageBody, *, access_token: str
    ) -> SendMessageResponse:
        """Send text (and button grids) into a conversation as the seller (v2 API)."""
        token = self._need_token(access_token)
        response = await self._call(
            "POST",
            self.api_base,
            SEND_MESSAGE_PATH,
            conversation_id,
            headers=auth_headers(self._api_key, token),
            json_body=body.wire(),
        )
        return self._parse(response, SendMessageResponse, "send-message", lenient=True)

    async def send_chatbot_message(
        self,
        conversation_id: str,
        body: ChatbotMessageBody,
        *,
        access_token: str | None = None,
    ) -> ChatbotMessageResponse:
        """Answer a chatbot (BOT) conversation; the API key alone authorises it."""
        if access_token:
            self._secrets.add(access_token)
        response = await self._call(
            "POST",
            self.api_base,
            CHATBOT_MESSAGE_PATH,
            conversation_id,
            headers=auth_headers(self._api_key, access_token),
            json_body=body.wire(),
        )
        return self._parse(response, ChatbotMessageResponse, "chatbot message", lenient=True)

    async def get_conversation(
        self, conversation_id: str, *, access_token: str
    ) -> ConversationResponse:
        """A conversation and its text messages, oldest first (for back-filling history)."""
        token = self._need_token(access_token)
        response = await self._call(
            "GET",
            self.api_base,
            CONVERSATION_PATH,
            conversation_id,
            headers=auth_headers(self._api_key, token),
        )
        return self._parse(response, ConversationResponse, "conversation")

    async def subscribe(self, request: SubscriptionRequest, *, access_token: str) -> None:
        """Subscribe to events; the subscription lives as long as `access_token` does."""
        token = self._need_token(access_token)
        await self._call(
            "POST",
            self.api_base,
            SUBSCRIPTIONS_PATH,
            None,
            headers=auth_headers(self._api_key, token),
            json_body=request.wire(),
        )

    async def get_user(self, *, access_token: str) -> UserResponse:
        """Who the token's user is: `user_id` with the USER_ID scope (docs/oauth/get_user.md)."""
        token = self._need_token(access_token)
        response = await self._call(
            "GET", self.api_base, USERS_PATH, None, headers=auth_headers(self._api_key, token)
        )
        return self._parse(response, UserResponse, "user")

    # --- the request loop ----------------------------------------------------------------

    def _need_token(self, access_token: str) -> str:
        if not access_token:
            raise CredentialError(
                "no access token for this conversation; log in for it (kenar-tui login)"
            )
        self._secrets.add(access_token)
        return access_token

    async def _call(
        self,
        method: str,
        base: str,
        template: str,
        identifier: str | None,
        *,
        headers: dict[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
        form_body: dict[str, str] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        classify: Callable[[int, Any], KenarAPIError | None] | None = None,
    ) -> httpx.Response:
        if self._closed:
            raise TransportError("the Kenar client is closed")
        if identifier is not None:
            if not identifier:
                raise ProtocolError("the conversation id or post token is empty")
            path = template.format(id=quote(identifier, safe=""))
            shown = template.format(id=short_id(identifier))
        else:
            path = shown = template
        request_headers = dict(headers or {})
        content: bytes | None = None
        if json_body is not None:
            content = json.dumps(json_body, ensure_ascii=False, separators=(",", ":")).encode()
            request_headers["Content-Type"] = "application/json"
        url = base + path
        idempotent = method in SAFE_METHODS
        attempts = self.policy.attempts
        for attempt in range(1, attempts + 1):
            retry_after: float | None = None
            failure: KenarError
            try:
                response = await self._http.request(
                    method,
                    url,
                    headers=request_headers,
                    content=content,
                    data=form_body,
                    files=files,
                )
            except httpx.TimeoutException as exc:
                failure = KenarTimeout(
                    f"{method} {shown}: no answer within {self.timeout:g}s"
                    f" (attempt {attempt}/{attempts})"
                )
                failure.maybe_delivered = not idempotent and not _never_sent(exc)
                status_text = "timeout"
            except (httpx.UnsupportedProtocol, httpx.InvalidURL):
                raise ConfigError(f"cannot call {base}: not a usable http(s) URL") from None
            except httpx.TransportError as exc:
                failure = TransportError(
                    f"{method} {shown}: {_transport_reason(exc)} (attempt {attempt}/{attempts})"
                )
                failure.maybe_delivered = not idempotent and not _never_sent(exc)
                status_text = "no connection"
            else:
                if response.is_success:
                    self._note(logging.DEBUG, method, shown, f"{response.status_code}", attempt)
                    return response
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                body = self._scrubbed_body(response)
                special = classify(response.status_code, body) if classify else None
                failure = special or api_error(response.status_code, body, retry_after=retry_after)
                status_text = str(response.status_code)
                # A 5xx (a gateway's 502 too) may come after Kenar did the work.
                failure.maybe_delivered = not idempotent and response.status_code >= 500
                if not failure.retryable:
                    self._note(logging.WARNING, method, shown, f"{status_text}, final", attempt)
                    raise failure
            if failure.maybe_delivered:
                # Never repeated: a second copy would reach the buyer if the first one did.
                self._note(logging.WARNING, method, shown, f"{status_text}, unknown", attempt)
                raise failure
            if attempt == attempts:
                self._note(logging.WARNING, method, shown, f"{status_text}, giving up", attempt)
                raise failure
            delay = self.policy.delay(attempt, retry_after)
            self._note(
                logging.INFO, method, shown, f"{status_text}, retry in {delay:.2f}s", attempt
            )
            await self._sleep(delay)
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def _note(self, level: int, method: str, shown: str, outcome: str, attempt: int) -> None:
        # One short line per attempt: method, path (ids shortened), outcome; never a secret.
        attempts = self.policy.attempts
        self._log.log(
            level,
            "kenar %s %s: %s (attempt %d/%d)",
            method.lower(),
            shown,
            outcome,
            attempt,
            attempts,
        )

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            if len(secret) >= 4:
                text = text.replace(secret, "<hidden>")
        return text

    def _scrubbed_body(self, response: httpx.Response) -> Any:
        """The error body as JSON with any echoed secret hidden, or None if it is not JSON."""
        try:
            body = response.json()
        except (ValueError, UnicodeDecodeError):
            text = response.text.strip()
            return {"message": self._scrub(text[:200])} if text else None
        return json.loads(self._scrub(json.dumps(body, ensure_ascii=False)))

    def _parse(
        self, response: httpx.Response, model: type[_Model], what: str, *, lenient: bool = False
    ) -> _Model:
        try:
            data = response.json() if response.content else {}
            return model.model_validate(data)
        except (ValueError, UnicodeDecodeError, ValidationError):
            if lenient:
                # The send succeeded (2xx); an odd body must not make anyone send it again.
                self._log.warning("kenar %s answer is not the documented shape; ignored", what)
                return model()
            raise ProtocolError(
                f"Kenar's {what} answer (HTTP {response.status_code}) is not the documented shape"
            ) from None


def _never_sent(exc: httpx.TransportError) -> bool:
    """True when the request provably never reached the server: no connection was made."""
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def _transport_reason(exc: httpx.TransportError) -> str:
    # Our own words, not the exception's: those can carry URLs of the request.
    if isinstance(exc, httpx.ConnectError):
        return "could not connect (refused, unreachable or TLS failed)"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the server closed the connection without a proper answer"
    if isinstance(exc, httpx.ReadError | httpx.WriteError):
        return "the connection broke mid-request"
    return f"transport failure ({type(exc).__name__})"
