"""`POST /events`: Divar's "new events URL". Stored durably before the 2xx, or 503.

Order of checks: shutting down (503), sender address (403), identification key (401), body
size and time (413, 408), UTF-8 JSON of bounded depth (400), a JSON object (400). Whatever
passes is stored: recognised events normalised, anything else kept raw as `unknown`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from relay.context import RelayContext
from relay.entries import entry_from_event
from relay.errors import BadRequest, RequestRejected, StoreBusy, StoreError
from relay.intake import read_divar_json, refuse, unavailable


async def receive_event(request: Request, ctx: RelayContext) -> Response:
    log, metrics = ctx.logger, ctx.metrics
    if ctx.draining:
        metrics.count_rejected("draining")
        return unavailable("the relay is shutting down; deliver again shortly")
    try:
        body = await read_divar_json(request, ctx)
        if not isinstance(body, dict):
            raise BadRequest("an event must be a JSON object")
    except RequestRejected as exc:
        metrics.count_rejected(exc.reason)
        log.info("event refused status=%d reason=%s", exc.status, exc.reason)
        return refuse(exc, body_unread=exc.status in (401, 403, 408, 413))
    new = entry_from_event(body)
    metrics.count_received(new.event_type)
    try:
        appended = await ctx.store.append(new.entry, dedupe=new.dedupe)
    except StoreBusy:
        # The write queue is full (a flood): refused, not queued; Divar delivers again later.
        metrics.count_rejected("store_busy")
        log.warning("event not stored status=503 reason=store_busy")
        return unavailable("the relay is busy storing other events; deliver again shortly")
    except StoreError:
        metrics.count_store_failure()
        log.warning("event not stored status=503 type=%s", new.event_type.lower())
        return unavailable("the relay cannot store events right now; deliver again later")
    if appended.duplicate:
        metrics.count_duplicate()
    else:
        metrics.count_stored()
    log.debug("event stored seq=%d duplicate=%s", appended.seq, appended.duplicate)
    return JSONResponse({"seq": appended.seq, "duplicate": appended.duplicate})
