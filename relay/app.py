"""The relay's ASGI application: routes onto the endpoints, sharing one `RelayContext`."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from relay.context import RelayContext
from relay.oauth import oauth_callback
from relay.serverlink import server_link
from relay.session import ConsoleSession
from relay.webhooks import receive_event


def _bearer(websocket: WebSocket) -> str | None:
    values = [v for k, v in websocket.scope.get("headers", []) if k == b"authorization"]
    if len(values) != 1:
        return None
    scheme, _, token = values[0].decode("latin-1").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def create_app(ctx: RelayContext) -> Starlette:
    """The app for one relay; the context's store and hub must already be open."""
    log = ctx.logger

    async def events(request: Request) -> Response:
        return await receive_event(request, ctx)

    async def start_url(request: Request) -> Response:
        return await server_link(request, ctx)

    async def callback(request: Request) -> Response:
        return await oauth_callback(request, ctx.oauth, log, ctx.bus)

    async def healthz(request: Request) -> Response:
        store = ctx.store
        if ctx.draining:
            return JSONResponse({"ready": False, "reason": "shutting down"}, status_code=503)
        # Once a write failed, only a real write (a small probe) tells that it works again.
        if not (store.healthy or await store.check()):
            return JSONResponse(
                {"ready": False, "reason": "the store cannot write"}, status_code=503
            )
        return JSONResponse({"ready": True, "head": await store.head()})

    async def metrics(request: Request) -> Response:
        text = ctx.metrics.render(
            consoles=ctx.hub.console_count, head=await ctx.store.head(), healthy=ctx.store.healthy
        )
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4; charset=utf-8")

    async def console(websocket: WebSocket) -> None:
        if ctx.draining or ctx.hub.closed:
            await websocket.send_denial_response(
                JSONResponse({"error": "the relay is shutting down"}, status_code=503)
            )
            return
        token = _bearer(websocket)
        name = ctx.tokens.identify(token) if token is not None else None
        if name is None:
            ctx.metrics.count_rejected("console_unauthorized")
            log.info("console refused status=401")
            await websocket.send_denial_response(
                JSONResponse(
                    {"error": "connect with Authorization: Bearer <relay token>"},
                    status_code=401,
                )
            )
            return
        await ConsoleSession(websocket, ctx, token_name=name).run()

    return Starlette(
        routes=[
            Route("/events", events, methods=["POST"]),
            Route("/server-link", start_url, methods=["POST"]),
            Route("/oauth/callback", callback, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
            WebSocketRoute("/ws", console),
        ]
    )
