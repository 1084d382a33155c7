"""The sandbox's ASGI app: Divar's open API, OAuth, and the `/_sandbox/` control surface.

recorder (logs API requests) -> faults (latency, 5xx, 429, drops) -> starlette routes
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp

from kenar_tui.sandbox import api, control_routes, finder, oauth, upload
from kenar_tui.sandbox.buyers import BuyerSimulator
from kenar_tui.sandbox.core import SandboxCore
from kenar_tui.sandbox.faults import FaultMiddleware
from kenar_tui.sandbox.recorder import RecorderMiddleware
from kenar_tui.sandbox.rejection import NOT_FOUND, Rejection

INTERNAL = 13


async def _rejected(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Rejection)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
        code = 12  # UNIMPLEMENTED
    elif exc.status_code == 404:
        message = f"there is no endpoint {request.method} {request.url.path}"
        code = NOT_FOUND
    else:
        message, code = str(exc.detail), 3
    return JSONResponse(
        {"code": code, "message": message, "details": []}, status_code=exc.status_code
    )


def build_app(core: SandboxCore, buyers: BuyerSimulator) -> ASGIApp:
    routes = [
        *api.ROUTES,
        *finder.ROUTES,
        *upload.ROUTES,
        *oauth.ROUTES,
        *control_routes.ROUTES,
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={Rejection: _rejected, HTTPException: _http_error},
    )
    app.state.core = core
    app.state.buyers = buyers

    async def _crashed(request: Request, exc: Exception) -> Response:
        # A bug in the sandbox, not the caller's fault: say so without a traceback.
        core.log.exception("sandbox failed on %s %s", request.method, request.url.path)
        return JSONResponse(
            {"code": INTERNAL, "message": "the sandbox failed on this request", "details": []},
            status_code=500,
        )

    app.add_exception_handler(Exception, _crashed)
    return RecorderMiddleware(FaultMiddleware(app, core.faults), core.requests, core.clock)
