"""Requests Divar sends to the app's start URL (session initialization).

Divar's docs show three forms, and all are read into one normalised model:
- docs/widgets/actions/open_server_link.md: header `API_VERSION: 2`, body with `source`,
  `post_token`, `conversation_id`, `user_side` ("Supply"), `extra_data` (the button's data),
  `user_id`; every field but `extra_data` documented as nullable;
- docs/flow/touchpoints.md: header `API-Version: 2`, body with `completion_url`,
  `post_token`, `conversation_id`, `user_side` (`SUPPLY`/`DEMAND`), `source` (`CHAT`,
  `POST_ADDON`, ...) and `provider_data` (the data set on the action, any JSON object);
- the legacy one (no version header): `callback_url`, `supplier`, `demand`, `peer_id` and
  `extra_data.provider_data`.
The version header is read in either spelling, and a body that has none of the legacy keys
is read as the current form even without it. `null` is accepted wherever a value may be
absent (protobuf JSON writes absent fields as null or leaves them out).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kenar_core.errors import ProtocolError

LEGACY_KEYS = frozenset({"callback_url", "supplier", "demand", "peer_id"})


def _object_or_empty(value: Any) -> Any:
    # `null` (or a field left out) is an empty object; anything else is validated as is.
    return {} if value is None else value


class ServerLinkRequest(BaseModel):
    """The current shape (both documented bodies), which the legacy one is normalised to too.

    `extra_data` is the button's data whichever body carried it: the touch-points body's
    `provider_data` fills it when there is no `extra_data`, and stays beside it as sent.
    """

    model_config = ConfigDict(extra="allow")
    source: str = "CHAT_MESSAGE_ACTION"
    post_token: str | None = None
    conversation_id: str | None = None
    user_side: str | None = None
    extra_data: dict[str, Any] = Field(default_factory=dict)
    provider_data: dict[str, Any] = Field(default_factory=dict)
    completion_url: str | None = None
    user_id: str | None = None

    @field_validator("source", mode="before")
    @classmethod
    def _source(cls, value: Any) -> Any:
        return "CHAT_MESSAGE_ACTION" if value in (None, "") else value

    @field_validator("extra_data", "provider_data", mode="before")
    @classmethod
    def _objects(cls, value: Any) -> Any:
        return _object_or_empty(value)

    def model_post_init(self, context: Any, /) -> None:
        if not self.extra_data and self.provider_data:
            self.extra_data = dict(self.provider_data)

    @property
    def is_seller(self) -> bool:
        """Whether the presser is the post's owner (`Supply`, `SUPPLY`)."""
        return str(self.user_side or "").upper() in ("SUPPLY", "SELLER")


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

    @field_validator("extra_data", mode="before")
    @classmethod
    def _objects(cls, value: Any) -> Any:
        return _object_or_empty(value)

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


VERSION_HEADERS = ("API-Version", "API_VERSION", "api-version", "api_version")


def is_v2(headers: Any, body: Any = None) -> bool:
    """Whether the request is in the current form.

    The header says so (`API-Version: 2` per docs/flow/touchpoints.md, `API_VERSION: 2` per
    docs/widgets/actions/open_server_link.md; proxies often drop underscored names), or,
    with no version header, the body has none of the legacy form's keys.
    """
    for name in VERSION_HEADERS:
        value = headers.get(name)
        if value is not None:
            return str(value).strip() == "2"
    return isinstance(body, dict) and not (LEGACY_KEYS & body.keys())


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
