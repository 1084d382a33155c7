"""Divar's OAuth server, headless: `/oauth2/auth` approves (or refuses, when told to) at once
and redirects; `/oauth2/token` exchanges codes and rotates tokens.

Client id and redirect URI are checked against the registration before any redirect, as
OAuth requires (a bad redirect URI must never be redirected to).
"""

from __future__ import annotations

import base64
import re
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import Route

from kenar_api.oauth import AUTHORIZE_PATH, TOKEN_PATH
from kenar_tui.sandbox.core import SandboxCore
from kenar_tui.sandbox.rejection import INVALID_ARGUMENT, UNAUTHENTICATED, Rejection
from kenar_tui.sandbox.tokens import TokenProblem

SCOPE_SHAPE = re.compile(r"^(offline_access|[A-Z][A-Z0-9_]*(\.[^\s.][^\s]*)?)$")


def oauth_error(error: str, description: str, *, status: int = 400) -> Rejection:
    """An OAuth error carrying both Divar's status body and RFC 6749's error fields."""
    code = UNAUTHENTICATED if status == 401 else INVALID_ARGUMENT
    return Rejection(
        code,
        f"{error}: {description}",
        status=status,
        extra={"error": error, "error_description": description},
        headers={"Cache-Control": "no-store"},
    )


def _redirect(uri: str, params: dict[str, str]) -> RedirectResponse:
    joiner = "&" if "?" in uri else "?"
    return RedirectResponse(f"{uri}{joiner}{urlencode(params)}", status_code=302)


async def authorize(request: Request) -> RedirectResponse:
    """`GET /oauth2/auth`: the consent page, answered at once."""
    core: SandboxCore = request.app.state.core
    app = core.registration
    query = request.query_params
    client_id = query.get("client_id", "")
    redirect_uri = query.get("redirect_uri", "")
    if client_id != app.client_id:
        raise oauth_error("invalid_client", f"no app is registered with client_id {client_id!r}")
    if not redirect_uri or not app.redirect_allowed(redirect_uri):
        raise oauth_error(
            "invalid_request", "redirect_uri is not one registered for this app in the panel"
        )
    state = query.get("state", "")
    base = {"state": state} if state else {}
    if query.get("response_type") != "code":
        return _redirect(
            redirect_uri,
            {
                "error": "unsupported_response_type",
                "error_description": "response_type must be code",
                **base,
            },
        )
    if not state:
        return _redirect(
            redirect_uri, {"error": "invalid_request", "error_description": "state is required"}
        )
    scopes = tuple(dict.fromkeys(query.get("scope", "").split()))
    bad = next((s for s in scopes if not SCOPE_SHAPE.match(s)), None)
    if not scopes or bad is not None:
        described = f"scope {bad!r} is malformed" if bad else "ask for at least one scope"
        return _redirect(
            redirect_uri, {"error": "invalid_scope", "error_description": described, **base}
        )
    if not app.oauth_approve:
        # "Deny": the redirect has no `code` (docs/oauth/ReadMe.md, step two: "treat its
        # absence as refusal"); every other refusal also has no `error`, only the state.
        core.refusals += 1
        core.log.info("sandbox oauth: refused, as configured")
        if core.refusals % 2:
            return _redirect(redirect_uri, base)
        return _redirect(
            redirect_uri,
            {"error": "access_denied", "error_description": "the user refused", **base},
        )
    code = core.tokens.new_code(
        client_id=client_id, redirect_uri=redirect_uri, scopes=scopes, user_id=core.seller_id
    )
    core.log.info("sandbox oauth: approved %d scopes", len(scopes))
    return _redirect(redirect_uri, {"code": code, **base})


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str]:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip()).decode()
        except ValueError:
            raise oauth_error(
                "invalid_client", "the Basic credentials are malformed", status=401
            ) from None
        client_id, _, secret = decoded.partition(":")
        return client_id, secret
    return form.get("client_id", ""), form.get("client_secret", "")


async def token(request: Request) -> JSONResponse:
    """`POST /oauth2/token`, form-encoded: authorization_code and refresh_token grants."""
    core: SandboxCore = request.app.state.core
    if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
        raise oauth_error(
            "invalid_request", "the token request must be application/x-www-form-urlencoded"
        )
    # Parsed by hand: starlette's form parser needs python-multipart for nothing we use.
    try:
        text = (await request.body()).decode()
    except UnicodeDecodeError:
        raise oauth_error("invalid_request", "the form is not UTF-8") from None
    form = dict(parse_qsl(text, keep_blank_values=True))
    client_id, secret = _client_credentials(request, form)
    app = core.registration
    if client_id != app.client_id or secret != app.client_secret:
        raise oauth_error("invalid_client", "client_id or client_secret is wrong", status=401)
    grant = form.get("grant_type", "")
    try:
        if grant == "authorization_code":
            for name in ("code", "redirect_uri"):
                if not form.get(name):
                    raise oauth_error("invalid_request", f"{name} is required")
            pair = core.tokens.redeem_code(
                form["code"], client_id=client_id, redirect_uri=form["redirect_uri"]
            )
        elif grant == "refresh_token":
            for name in ("refresh_token", "code"):
                if not form.get(name):
                    raise oauth_error(
                        "invalid_request",
                        f"{name} is required"
                        + (" (the current access token)" if name == "code" else ""),
                    )
            pair = core.tokens.rotate(
                form["refresh_token"], current_access=form["code"], client_id=client_id
            )
            ended = core.world.end_subscriptions_of(form["code"], "its token was refreshed")
            core.log.info("sandbox oauth: token refreshed, %d subscriptions ended", ended)
        else:
            raise oauth_error(
                "unsupported_grant_type", "grant_type must be authorization_code or refresh_token"
            )
    except TokenProblem as exc:
        raise oauth_error("invalid_grant", str(exc)) from None
    return JSONResponse(pair.answer(), headers={"Cache-Control": "no-store"})


ROUTES = [
    Route(AUTHORIZE_PATH, authorize, methods=["GET"]),
    Route(TOKEN_PATH, token, methods=["POST"]),
]
