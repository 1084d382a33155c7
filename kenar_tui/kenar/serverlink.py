"""Requests Divar sends to the app's start URL when a user presses an `open_server_link` button.

Two shapes exist: the current one, sent with the header `API_VERSION: 2`, and the legacy one.
`parse_server_link` tells them apart by that header and gives one normalised model.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kenar_tui.errors import ProtocolError


class ServerLinkRequest(BaseModel):
    """The current (API_VERSION 2) shape, which is also what the legacy one is normalised to."""

    model_config = ConfigDict(extra="allow")
    source: str = "CHAT_MESSAGE_ACTION"
    post_token: str | None = None
    conversation_id: str | None = None
    user_side: str | None = None
    extra_data: dict[str, Any] = Field(default_factory=dict)
    user_id: str | None = None


class LegacyServerLinkRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    callback_url: str | None = None
    post_token: str | None = None
    user_id: str | None = None
    peer_id: str | None = None
    supplier: dict[str, Any] | None = None
    demand: dict[str, Any] | None = None
    extra_data: dict[str, Any] = Field(default_factory=dict)
    conversation_id: str | None = None

    def normalised(self) -> ServerLinkRequest:
        data = self.extra_data.get("provider_data", self.extra_data)
        supplier_id = (self.supplier or {}).get("id")
        demand_id = (self.demand or {}).get("id")
        side = None
        if self.user_id is not None and supplier_id is not None:
            side = "Supply" if self.user_id == supplier_id else "Demand"
        elif self.user_id is not None and demand_id is not None:
            side = "Demand" if self.user_id == demand_id else "Supply"
        return ServerLinkRequest(
            source="CHAT_MESSAGE_ACTION",
            post_token=self.post_token,
            conversation_id=self.conversation_id,
            user_side=side,
            extra_data=data if isinstance(data, dict) else {"provider_data": data},
            user_id=self.user_id,
        )


def is_v2(headers: Any) -> bool:
    """Whether the request carries `API_VERSION: 2` (either spelling a proxy may leave)."""
    for name in ("API_VERSION", "api_version", "API-VERSION", "api-version"):
        value = headers.get(name)
        if value is not None:
            return str(value).strip() == "2"
    return False


def parse_server_link(body: Any, *, v2: bool) -> ServerLinkRequest:
    if not isinstance(body, dict):
        raise ProtocolError("a start-URL request must be a JSON object")
    try:
        if v2:
            return ServerLinkRequest.model_validate(body)
        return LegacyServerLinkRequest.model_validate(body).normalised()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise ProtocolError(f"start-URL request: {where}: {first['msg']}") from None
