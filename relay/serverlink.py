"""`POST /server-link`: the start URL Divar asks when a buyer presses an `open_server_link` button.

Every documented form is served (kenar_api.serverlink: the touch-points body with
`provider_data` and `completion_url`, the open_server_link body with `extra_data`, the legacy
one; `API-Version: 2` or `API_VERSION: 2`; null for nullable fields). The answer's URL comes
from the configured template; the press is recorded as a `button_pressed` entry first, so a
press that got a URL is always in the timeline.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from kenar_api.serverlink import is_v2, parse_server_link
from kenar_core.errors import ProtocolError
from relay.context import RelayContext
from relay.entries import entry_from_button, render_start_url
from relay.errors import BadRequest, RequestRejected, StoreError
from relay.intake import read_divar_json, refuse, unavailable


async def server_link(request: Request, ctx: RelayContext) -> Response:
    log, metrics = ctx.logger, ctx.metrics
    if ctx.draining:
        metrics.count_rejected("draining")
        return unavailable("the relay is shutting down; press the button again shortly")
    try:
        body = await read_divar_json(request, ctx)
        v2 = is_v2(request.headers, body)
        try:
            link = parse_server_link(body, v2=v2)
        except ProtocolError as exc:
            raise BadRequest(str(exc)) from None
    except RequestRejected as exc:
        metrics.count_rejected(exc.reason)
        log.info("start-url request refused status=%d reason=%s", exc.status, exc.reason)
        return refuse(exc, body_unread=exc.status in (401, 403, 408, 413))
    template = ctx.config.server_link_url
    if template is None:
        metrics.count_rejected("no_template")
        return JSONResponse(
            {"error": "this relay has no start-URL template (KENAR_RELAY_SERVER_LINK_URL)"},
            status_code=404,
        )
    url = render_start_url(template, link)
    entry = entry_from_button(link, body, api_version=2 if v2 else 1, url=url)
    try:
        appended = await ctx.store.append(entry)
    except StoreError:
        metrics.count_store_failure()
        log.warning("button press not stored status=503")
        return unavailable("the relay cannot record the press right now; try again")
    metrics.count_button_press()
    metrics.count_stored()
    log.info("button pressed seq=%d api_version=%d", appended.seq, 2 if v2 else 1)
    if v2:
        return JSONResponse({"url": url})
    return JSONResponse({"url": url, "status": "200", "message": "success"})
