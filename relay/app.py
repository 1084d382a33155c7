"""The relay's ASGI application: routes onto the endpoints, sharing one `RelayContext`.

`POST /events` (every webhook) goes straight to its plain ASGI endpoint (relay/webhooks.py);
everything else, `/events` with another method included, goes through Starlette's router.

`/healthz` only reads: it never writes to the store (an unhealthy store probes itself,
relay/store.py), so anyone reaching it cannot make the relay write. `/metrics` answers those
`metrics_token` / `metrics_allow_ip` let in (relay/config.py).
"""

from __future__ import annotations

import hmac
import ipaddress

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from relay.context import RelayContext
from relay.intake import client_address
from relay.oauth import oauth_callback
from relay.serverlink import server_link
from relay.session import ConsoleSession
from relay.webhooks import events_endpoint


def _bearer(websocket: WebSocket) -> str | None:
    values = [v for k, v in websocket.scope.get("headers", []) if k == b"authorization"]
    if len(values) != 1:
        return None
    scheme, _, token = values[0].decode("latin-1").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _metrics_allowed(request: Request, ctx: RelayContext) -> bool:
    config = ctx.config
    token = config.metrics_token
    networks = config.metrics_networks
    if token is not None:
        given = request.headers.get("authorization", "")
        expected = "Bearer " + token.get_secret_value()
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return False
    address = client_address(request.scope, ctx.proxies)
    try:
        ip = ipaddress.ip_address((address or "").strip("[]"))
    except ValueError:
        return not (networks or (token is None and config.tls))
    if networks:
        return any(ip in net for net in networks)
    if token is None and config.tls:
        return ip.is_loopback  # serving TLS itself: the internet can reach it
    return True


class RelayApp:
    """Webhooks on the plain path, the rest on Starlette (`starlette`)."""

    def __init__(self, ctx: RelayContext, starlette: Starlette) -> None:
        self._ctx = ctx
        self.starlette = starlette

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/events" and scope["method"] == "POST":
            await events_endpoint(scope, receive, send, self._ctx)
            return
        await self.starlette(scope, receive, send)


def create_app(ctx: RelayContext) -> RelayApp:
    """The app for one relay; the context's store and hub must already be open."""
    log = ctx.logger

    async def start_url(request: Request) -> Response:
        return await server_link(request, ctx)

    async def callback(request: Request) -> Response:
        return await oauth_callback(request, ctx.oauth, log, ctx.bus)

    async def healthz(request: Request) -> Response:
        store = ctx.store
        if ctx.draining:
            return JSONResponse({"ready": False, "reason": "shutting down"}, status_code=503)
        # Read only: after a failed write the store's own probe tells when it works again.
        if not store.healthy:
            return JSONResponse(
                {"ready": False, "reason": "the store cannot write"}, status_code=503
            )
        return JSONResponse({"ready": True, "head": await store.head()})

    async def metrics(request: Request) -> Response:
        if not _metrics_allowed(request, ctx):
            ctx.metrics.count_rejected("metrics_refused")
            return JSONResponse(
                {"error": "metrics need the metrics token (a Bearer header) or an allowed address"},
                status_code=403,
            )
        text = ctx.metrics.render(
            consoles=ctx.hub.console_count,
            head=await ctx.store.head(),
            healthy=ctx.store.healthy,
            unreadable=ctx.store.unreadable,
        )
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4; charset=utf-8")

    async def console(websocket: WebSocket) -> None:
        if ctx.draining or ctx.hub.closed:
            await websocket.send_denial_response(
                JSONResponse({"error": "the relay is shutting down"}, status_code=503)
            )
            return
        token = _bearer(websocket)
        identity = ctx.tokens.identity(token) if token is not None else None
        if identity is None:
            ctx.metrics.count_rejected("console_unauthorized")
            log.info("console refused status=401")
            await websocket.send_denial_response(
                JSONResponse(
                    {"error": "connect with Authorization: Bearer <relay token>"},
                    status_code=401,
                )
            )
            return
        await ConsoleSession(websocket, ctx, identity=identity).run()

    async def events_not_posted(request: Request) -> Response:
        # Reached only for other methods: the route's list makes Starlette answer 405.
        raise AssertionError("POST /events is served by relay.webhooks")

    starlette = Starlette(
        routes=[
            Route("/events", events_not_posted, methods=["POST"]),
            Route("/server-link", start_url, methods=["POST"]),
            Route("/oauth/callback", callback, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
            WebSocketRoute("/ws", console),
        ]
    )
    return RelayApp(ctx, starlette)
