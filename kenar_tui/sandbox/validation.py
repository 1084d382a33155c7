"""Checking the app's request bodies as strictly as Divar: the protocol models of
`kenar_api` decide, and every refusal becomes one sentence naming the field.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from kenar_api.bodies import ChatbotMessageBody, SendMessageBody, SubscriptionRequest
from kenar_api.buttons import Button, grid_problem, parse_grid
from kenar_core.errors import ButtonGridError, ProtocolError
from kenar_tui.sandbox.rejection import invalid

_Model = TypeVar("_Model", bound=BaseModel)

SEND_FIELDS = ("type", "message", "media_token", "sender_buttons", "receiver_buttons")
CHATBOT_FIELDS = ("type", "text_message", "media_token", "buttons", "conversation_id")
SUBSCRIPTION_FIELDS = ("event_type", "event_resource_id", "metadata", "meta_data")


def json_object(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object, or a 400 saying why it is not one."""
    if not raw.strip():
        raise invalid("the body is empty; send a JSON object")
    try:
        body = json.loads(raw)
    except UnicodeDecodeError:
        raise invalid("the body is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise invalid(f"the body is not valid JSON ({exc.msg} at character {exc.pos})") from None
    if not isinstance(body, dict):
        raise invalid("the body must be a JSON object")
    return body


def describe(exc: ValidationError, prefix: str = "") -> tuple[str, str]:
    """One sentence for a pydantic failure, and the dotted field it is about."""
    first = exc.errors()[0]
    loc = [str(p) for p in first["loc"] if p not in ("function-after", "function-before")]
    where = ".".join(filter(None, [prefix, *loc])) or "body"
    kind = first["type"]
    if kind == "extra_forbidden":
        parent = ".".join(filter(None, [prefix, *loc[:-1]]))
        sentence = f"unknown field '{loc[-1]}'"
        return (f"{parent}: {sentence}" if parent else sentence), where
    if kind == "missing":
        return f"{where} is required", where
    return f"{where}: {first['msg'][0].lower()}{first['msg'][1:]}", where


def _check_fields(body: dict[str, Any], allowed: tuple[str, ...], what: str) -> None:
    for name in body:
        if name not in allowed:
            shown = ", ".join(a for a in allowed if a != "meta_data")
            raise invalid(f"unknown field '{name}'; {what} takes {shown}", field=name)


def check_grid(field: str, grid: Any) -> None:
    """Check a button grid field by field, naming the row and button that break a rule."""
    if grid is None:
        return
    if not isinstance(grid, dict):
        raise invalid(f"{field} must be an object with 'rows'", field=field)
    for name in grid:
        if name != "rows":
            raise invalid(f"{field}: unknown field '{name}'", field=f"{field}.{name}")
    rows = grid.get("rows", [])
    if not isinstance(rows, list):
        raise invalid(f"{field}.rows must be a list of rows", field=f"{field}.rows")
    try:
        grid_problem(rows)
    except ButtonGridError as exc:
        raise invalid(f"{field}: {exc}", field=f"{field}.{exc.field}") from None
    for r, row in enumerate(rows, start=1):
        where = f"{field} row {r}"
        if not isinstance(row, dict):
            raise invalid(f"{where} must be an object with 'buttons'", field=field)
        for name in row:
            if name != "buttons":
                raise invalid(f"{where}: unknown field '{name}'", field=f"{field}.rows.{r - 1}")
        for b, button in enumerate(row["buttons"], start=1):
            path = f"{field}.rows.{r - 1}.buttons.{b - 1}"
            try:
                Button.model_validate(button)
            except ButtonGridError as exc:
                raise invalid(f"{where} button {b}: {exc}", field=f"{path}.{exc.field}") from None
            except ValidationError as exc:
                sentence, loc = describe(exc)
                raise invalid(f"{where} button {b}: {sentence}", field=f"{path}.{loc}") from None
    try:
        parse_grid(grid)
    except ButtonGridError as exc:  # anything the per-button pass could not see
        raise invalid(f"{field}: {exc}", field=field) from None


def _model(model: type[_Model], body: dict[str, Any]) -> _Model:
    try:
        return model.model_validate(body)
    except ProtocolError as exc:
        raise invalid(str(exc)) from None
    except ValidationError as exc:
        sentence, where = describe(exc)
        raise invalid(sentence, field=where) from None


def send_message_body(body: dict[str, Any]) -> SendMessageBody:
    """A v2 send-message body, or the 400 Divar would answer."""
    _check_fields(body, SEND_FIELDS, "a send-message body")
    for field in ("sender_buttons", "receiver_buttons"):
        check_grid(field, body.get(field))
    return _model(SendMessageBody, body)


def chatbot_body(body: dict[str, Any], conversation_id: str) -> ChatbotMessageBody:
    """A chatbot message body; the spec's optional `conversation_id` must match the path."""
    _check_fields(body, CHATBOT_FIELDS, "a chatbot message body")
    body = dict(body)
    named = body.pop("conversation_id", None)
    if named is not None and named != conversation_id:
        raise invalid(
            "conversation_id in the body differs from the one in the path", field="conversation_id"
        )
    check_grid("buttons", body.get("buttons"))
    return _model(ChatbotMessageBody, body)


def subscription_body(body: dict[str, Any]) -> SubscriptionRequest:
    _check_fields(body, SUBSCRIPTION_FIELDS, "a subscription")
    if "event_type" not in body:
        raise invalid(
            "event_type is required: NEW_MESSAGE_ON_POST or POST_UPDATE", field="event_type"
        )
    resource = body.get("event_resource_id", "")
    if not isinstance(resource, str):
        raise invalid("event_resource_id must be a string", field="event_resource_id")
    return _model(SubscriptionRequest, body)


def server_link_data(grid: Any) -> list[dict[str, Any]]:
    """The `data` of each open_server_link button in an (already validated) grid."""
    if grid is None:
        return []
    found = []
    for button in parse_grid(grid.model_dump() if isinstance(grid, BaseModel) else grid).buttons():
        link = button.action.open_server_link
        if link is not None:
            found.append(dict(link.data))
    return found
