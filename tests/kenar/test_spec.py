"""Every body we send validates against Divar's OpenAPI spec itself (openapi-v3.json).

The spec's schemas are OpenAPI 3.0 Schema Objects; the subset it uses (type, properties,
items, enum, required, $ref, additionalProperties) means the same in JSON Schema 2020-12, so
the whole document is registered as one 2020-12 resource and `#/components/...` references
resolve inside it. A second, strict copy also forbids keys the spec does not declare, to catch
a misspelt field that the spec's open objects would let through.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from kenar_api.bodies import ChatbotMessageBody, SendMessageBody, SubscriptionRequest
from kenar_api.client import (
    CHATBOT_MESSAGE_PATH,
    SEND_MESSAGE_PATH,
    SUBSCRIPTIONS_PATH,
)
from kenar_api.icons import icon_names
from tests.kenar import strategies as s
from tests.kenar.conftest import load

SPEC_URI = "urn:divar:kenar:openapi-v3"

# API.md documents `"type": "TEXT"` on both message bodies; the spec's schemas omit it.
DOCUMENTED_EXTRA_KEYS = {"type"}


def _strict(node: Any) -> Any:
    """A copy where every object schema with properties forbids undeclared keys."""
    if isinstance(node, dict):
        out = {k: _strict(v) for k, v in node.items()}
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [_strict(v) for v in node]
    return node


class Spec:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        strict = _strict(copy.deepcopy(document))
        self.registry: Registry[Any] = (
            Registry()
            .with_resource(SPEC_URI, DRAFT202012.create_resource(document))
            .with_resource(SPEC_URI + ":strict", DRAFT202012.create_resource(strict))
        )

    def request_schema_ref(self, path_template: str) -> str:
        """The JSON pointer of the request body schema the spec wires to POST <path>."""
        path = path_template.replace("{id}", "{conversation_id}")
        body: dict[str, Any] = self.document["paths"][path]["post"]["requestBody"]
        if "$ref" in body:
            body = self._resolve(body["$ref"])
        ref: str = body["content"]["application/json"]["schema"]["$ref"]
        return ref

    def _resolve(self, ref: str) -> dict[str, Any]:
        node: Any = self.document
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        return dict(node)

    def validator(self, ref: str, *, strict: bool = False) -> Draft202012Validator:
        uri = SPEC_URI + (":strict" if strict else "")
        return Draft202012Validator({"$ref": f"{uri}{ref}"}, registry=self.registry)

    def check(self, path_template: str, body: dict[str, Any]) -> None:
        """Validate against the spec, then strictly (minus API.md's documented extras)."""
        ref = self.request_schema_ref(path_template)
        self.validator(ref).validate(body)
        declared = {k: v for k, v in body.items() if k not in DOCUMENTED_EXTRA_KEYS}
        self.validator(ref, strict=True).validate(declared)


@pytest.fixture(scope="module")
def spec(kenar_data: Path) -> Spec:
    return Spec(json.loads((kenar_data / "openapi-v3.json").read_text(encoding="utf-8")))


def test_the_validator_really_checks(spec: Spec) -> None:
    """The harness rejects what the spec rejects: an unknown icon, a missing message."""
    ref = spec.request_schema_ref(SEND_MESSAGE_PATH)
    validator = spec.validator(ref)
    bad_icon = {
        "message": "x",
        "receiver_buttons": {
            "rows": [{"buttons": [{"action": {}, "icon": "NOPE", "caption": "c"}]}]
        },
    }
    assert not validator.is_valid(bad_icon)
    assert not validator.is_valid({"type": "TEXT"})
    assert not spec.validator(ref, strict=True).is_valid({"message": "x", "sender_btn": {}})


def test_shipped_icons_are_the_specs_icons(spec: Spec) -> None:
    """The icon list shipped as package data is exactly the spec's enum, in order."""
    enum = spec.document["components"]["schemas"]["DivarIconsIconName"]["enum"]
    assert list(icon_names()) == enum


def test_send_message_sample_validates(spec: Spec, samples: Path) -> None:
    """The documented send body, re-serialised by our model, validates against the spec."""
    body = SendMessageBody.model_validate(load(samples / "send-message-request.json"))
    spec.check(SEND_MESSAGE_PATH, body.wire())


def test_subscription_sample_validates(spec: Spec, samples: Path) -> None:
    """The subscription body we send validates against the spec."""
    body = SubscriptionRequest.model_validate(load(samples / "subscription-request.json"))
    spec.check(SUBSCRIPTIONS_PATH, body.wire())


def test_media_token_body_validates(spec: Spec) -> None:
    """A media message (media_token, empty message) still carries the required message."""
    body = SendMessageBody(media_token="media_token_12345")
    wired = body.wire()
    assert wired["message"] == ""
    spec.check(SEND_MESSAGE_PATH, wired)
    spec.check(CHATBOT_MESSAGE_PATH, ChatbotMessageBody(media_token="m-1").wire())


@settings(max_examples=60)
@given(s.send_bodies)
def test_generated_send_bodies_validate(spec: Spec, body: SendMessageBody) -> None:
    """Any send-message body we can build validates against the spec."""
    wired = body.wire()
    assert wired["type"] == "TEXT"
    spec.check(SEND_MESSAGE_PATH, wired)


@settings(max_examples=60)
@given(s.chatbot_bodies)
def test_generated_chatbot_bodies_validate(spec: Spec, body: ChatbotMessageBody) -> None:
    """Any chatbot body we can build validates against the spec."""
    spec.check(CHATBOT_MESSAGE_PATH, body.wire())


@settings(max_examples=60)
@given(s.subscriptions)
def test_generated_subscriptions_validate(spec: Spec, body: SubscriptionRequest) -> None:
    """Any subscription request we can build validates against the spec."""
    spec.check(SUBSCRIPTIONS_PATH, body.wire())
