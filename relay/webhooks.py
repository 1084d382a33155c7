"""`POST /events`: Divar's "new events URL". Stored durably before the 2xx, or 503.

Order of checks: shutting down (503), sender address (403), identification key (401), body
size and time (413, 408), UTF-8 JSON of bounded depth (400), a JSON object (400). Whatever
passes is stored: recognised events normalised, anything else kept raw as `unknown`.

This endpoint is plain ASGI (relay/app.py routes it before Starlette): Starlette's request,
response and middleware objects were a large share of a webhook's cost (issue 20,
docs/performance.md). The answers are the same bytes `JSONResponse` wrote.
"""

from __future__ import annotations

import json

from starlette.types import Receive, Scope, Send

from relay.context import RelayContext
from relay.entries import entry_from_event
from relay.errors import BadRequest, RequestRejected, StoreBusy, StoreError
from relay.intake import receive_divar_json

Headers = list[tuple[bytes, bytes]]
_JSON_TYPE = (b"content-type", b"application/json")
_CLOSE = [(b"connection", b"close")]
_RETRY = [(b"retry-after", b"5")]
_DUPLICATE = (b"false", b"true")


async def events_endpoint(scope: Scope, receive: Receive, send: Send, ctx: RelayContext) -> None:
    """Answer one `POST /events` (the router checked the path and method)."""
    status, body, headers = await _receive_event(scope, receive, ctx)
    headers.append((b"content-length", b"%d" % len(body)))
    headers.append(_JSON_TYPE)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _error(message: str) -> bytes:
    return json.dumps({"error": message}, ensure_ascii=False, separators=(",", ":")).encode()


def _unavailable(message: str) -> tuple[int, bytes, Headers]:
    return 503, _error(message), list(_RETRY)


async def _receive_event(
    scope: Scope, receive: Receive, ctx: RelayContext
) -> tuple[int, bytes, Headers]:
    log, metrics = ctx.logger, ctx.metrics
    if ctx.draining:
        metrics.count_rejected("draining")
        return _unavailable("the relay is shutting down; deliver again shortly")
    try:
        body = await receive_divar_json(scope, receive, ctx)
        if not isinstance(body, dict):
            raise BadRequest("an event must be a JSON object")
    except RequestRejected as exc:
        metrics.count_rejected(exc.reason)
        log.info("event refused status=%d reason=%s", exc.status, exc.reason)
        # No keep-alive when the body was left unread: its bytes would be read as a request.
        unread = exc.status in (401, 403, 408, 413)
        return exc.status, _error(exc.message), list(_CLOSE) if unread else []
    new = entry_from_event(body)
    metrics.count_received(new.event_type)
    try:
        appended = await ctx.store.append(new.entry, dedupe=new.dedupe)
    except StoreBusy:
        # The write queue is full (a flood): refused, not queued; Divar delivers again later.
        metrics.count_rejected("store_busy")
        log.warning("event not stored status=503 reason=store_busy")
        return _unavailable("the relay is busy storing other events; deliver again shortly")
    except StoreError:
        metrics.count_store_failure()
        log.warning("event not stored status=503 type=%s", new.event_type.lower())
        return _unavailable("the relay cannot store events right now; deliver again later")
    if appended.duplicate:
        metrics.count_duplicate()
    else:
        metrics.count_stored()
    log.debug("event stored seq=%d duplicate=%s", appended.seq, appended.duplicate)
    answer = b'{"seq":%d,"duplicate":%s}' % (appended.seq, _DUPLICATE[appended.duplicate])
    return 200, answer, []
