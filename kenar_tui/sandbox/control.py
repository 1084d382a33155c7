"""`SandboxControl`: the Python API over the sandbox's `/_sandbox/` control surface.

    control = SandboxControl("http://127.0.0.1:8123")
    token = await control.issue_token(["CHAT_SUPPLIER_ALL_CONVERSATIONS_MESSAGE_SEND"])
    chat = await control.inject_message(post_token="gZd7omnS", text="سلام، هنوز موجوده؟")

A refusal raises the KenarAPIError subclass matching its status, with the sandbox's sentence.
"""

from __future__ import annotations

from typing import Any

import httpx

from kenar_core.errors import api_error
from kenar_core.lifecycle import AsyncResource

TIMEOUT = 30.0


class SandboxControl(AsyncResource):
    def __init__(self, base_url: str, client: httpx.AsyncClient | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._own_client = client is None
        self._http = client or httpx.AsyncClient(timeout=TIMEOUT)
        self._closed = False

    def __repr__(self) -> str:
        return f"SandboxControl({self.base_url!r})"

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._own_client:
            await self._http.aclose()

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = await self._http.request(method, f"{self.base_url}/_sandbox/{path}", json=body)
        try:
            data = response.json()
        except ValueError:
            data = None
        if not response.is_success:
            raise api_error(response.status_code, data)
        return data

    # --- what the sandbox saw ------------------------------------------------------------

    async def state(self) -> dict[str, Any]:
        """Posts, conversations, subscriptions, settings, faults, buyers and counters."""
        result: dict[str, Any] = await self._call("GET", "state")
        return result

    async def sent(self) -> list[dict[str, Any]]:
        """Every message the app sent: `{conversation_id, body (exact JSON), kind, at, ...}`."""
        result: list[dict[str, Any]] = await self._call("GET", "sent")
        return result

    async def requests(self) -> list[dict[str, Any]]:
        """Every API request the app made: method, path, header names, body, status, fault."""
        result: list[dict[str, Any]] = await self._call("GET", "requests")
        return result

    async def deliveries(self) -> list[dict[str, Any]]:
        """Every webhook delivery: event type, body, state and each attempt's status."""
        result: list[dict[str, Any]] = await self._call("GET", "deliveries")
        return result

    async def clear(self) -> None:
        """Forget recorded sends, requests and finished deliveries."""
        await self._call("POST", "clear", {})

    async def flush(self, within: float = 10.0) -> bool:
        """Wait until no webhook delivery is pending; False if `within` seconds passed first."""
        result = await self._call("POST", "flush", {"timeout": within})
        return bool(result["idle"])

    # --- acting as Divar and its users ---------------------------------------------------

    async def issue_token(
        self, scopes: list[str], expires_in: int = 3600, *, refreshable: bool = True
    ) -> dict[str, Any]:
        """`{access_token, refresh_token, expires_in, scope, token_type, user_id}` without a
        browser, as if the seller had approved `scopes` (with offline access, unless
        `refreshable=False`)."""
        result: dict[str, Any] = await self._call(
            "POST",
            "tokens",
            {"scopes": list(scopes), "expires_in": expires_in, "refreshable": refreshable},
        )
        return result

    async def open_conversation(
        self,
        post_token: str | None = None,
        *,
        chatbot: bool = False,
        conversation_id: str | None = None,
        restricted: bool = False,
    ) -> dict[str, Any]:
        """A new conversation (a new buyer) on a post, or a chatbot conversation."""
        result: dict[str, Any] = await self._call(
            "POST",
            "conversations",
            {
                "post_token": post_token,
                "chatbot": chatbot,
                "conversation_id": conversation_id,
                "restricted": restricted,
            },
        )
        return result

    async def inject_message(
        self,
        conversation_id: str | None = None,
        *,
        post_token: str | None = None,
        type: str = "TEXT",
        text: str | None = None,
        data: dict[str, Any] | None = None,
        chatbot: bool = False,
    ) -> dict[str, Any]:
        """A buyer's message of any type; `data` holds the payload field, e.g.
        `{"image_data": {...}}` (made up when omitted). Returns `{conversation_id, message,
        delivery}`; a new conversation is opened when only `post_token` is given."""
        result: dict[str, Any] = await self._call(
            "POST",
            "messages",
            {
                "conversation_id": conversation_id,
                "post_token": post_token,
                "type": type,
                "text": text,
                "data": data,
                "chatbot": chatbot,
            },
        )
        return result

    async def press_button(
        self,
        conversation_id: str,
        data: dict[str, Any],
        side: str = "Demand",
        legacy: bool | None = None,
    ) -> dict[str, Any]:
        """Press an open_server_link button: the start-URL request Divar makes and the answer,
        `{legacy, api_version, request, status, answer, url, followed, error}`.
        `legacy=None` uses the configured shape."""
        result: dict[str, Any] = await self._call(
            "POST",
            "press",
            {"conversation_id": conversation_id, "data": data, "side": side, "legacy": legacy},
        )
        return result

    async def post_update(self, post_token: str, type: str = "PUBLISH") -> int | None:
        """A POST_UPDATE (PUBLISH, RETIRE, ONGOING, ARCHIVE); the delivery id if subscribed."""
        result = await self._call("POST", "post-updates", {"post_token": post_token, "type": type})
        delivery: int | None = result["delivery"]
        return delivery

    async def revoke_access(self, user_id: str | None = None) -> int | None:
        """The user (the seller by default) revokes the app: tokens die, and the event goes
        out (its delivery id) if a token held NOTIFICATION_ACCESS_REVOCATION and USER_ID."""
        result = await self._call("POST", "revocations", {"user_id": user_id})
        delivery: int | None = result["delivery"]
        return delivery

    async def payment(self, cost_rials: int = 1_000_000, extra_details: str = "") -> dict[str, Any]:
        """A PAYMENT_TRANSACTION event; returns `{delivery, transaction}`."""
        result: dict[str, Any] = await self._call(
            "POST", "payments", {"cost_rials": cost_rials, "extra_details": extra_details}
        )
        return result

    # --- settings ------------------------------------------------------------------------

    async def set_faults(self, **changes: Any) -> dict[str, Any]:
        """Change some fault settings (see kenar_tui.sandbox.faults.Faults); returns them all."""
        result: dict[str, Any] = await self._call("POST", "faults", changes)
        return result

    async def reset_faults(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("DELETE", "faults")
        return result

    async def configure(self, **changes: Any) -> dict[str, Any]:
        """Change the app's registration: events_url, start_url, identification_key,
        redirect_uris, legacy_server_link, oauth_approve, api_permissions."""
        result: dict[str, Any] = await self._call("POST", "config", changes)
        return result

    async def start_buyers(self, rate: float) -> None:
        """Play the buyers' script at `rate` steps a second."""
        await self._call("POST", "buyers", {"rate": rate})

    async def stop_buyers(self) -> None:
        await self._call("DELETE", "buyers")

    async def advance_clock(self, seconds: float) -> str:
        """Move the sandbox clock forward (token expiry, refresh grace); returns the new time."""
        result = await self._call("POST", "clock", {"advance": seconds})
        now: str = result["now"]
        return now
