"""Every request the app made to the sandbox's API, as `GET /_sandbox/requests` lists it.

Header *names* are kept (to see which style a client used), never their values: those are
the app's key and the user's tokens.
"""

from __future__ import annotations

import json
from collections import deque
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kenar_tui.sandbox.clock import Clock
from kenar_tui.sandbox.faults import CONTROL_PREFIX

MAX_RECORDED = 10_000
FORM_SECRETS = ("code", "client_secret", "refresh_token")


class RequestLog:
    def __init__(self) -> None:
        self.entries: deque[dict[str, Any]] = deque(maxlen=MAX_RECORDED)

    def as_list(self) -> list[dict[str, Any]]:
        return list(self.entries)

    def clear(self) -> None:
        self.entries.clear()


def _body_view(raw: bytes, content_type: str) -> Any:
    if not raw:
        return None
    if "json" in content_type:
        try:
            return json.loads(raw)
        except ValueError:
            return {"unparsed": raw[:200].decode("utf-8", "replace")}
    if "x-www-form-urlencoded" in content_type:
        from urllib.parse import parse_qsl

        form = dict(parse_qsl(raw.decode("utf-8", "replace")))
        return {k: ("<hidden>" if k in FORM_SECRETS else v) for k, v in form.items()}
    return {"bytes": len(raw)}


class RecorderMiddleware:
    """Records method, path, header names, body and answer status of each API request."""

    def __init__(self, app: ASGIApp, log: RequestLog, clock: Clock) -> None:
        self.app = app
        self.log = log
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["sandbox_raw_send"] = send
        chunks: list[bytes] = []
        status: dict[str, int] = {}
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}

        async def recording_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                chunks.append(message.get("body", b""))
            return message

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        at = self.clock.now().isoformat()
        try:
            await self.app(scope, recording_receive, recording_send)
        finally:
            self.log.entries.append(
                {
                    "method": scope["method"],
                    "path": scope["path"],
                    "query": scope.get("query_string", b"").decode("latin-1"),
                    "header_names": sorted(headers),
                    "body": _body_view(b"".join(chunks), headers.get("content-type", "")),
                    "status": status.get("code"),
                    "fault": state.get("sandbox_fault"),
                    "at": at,
                }
            )
