"""Arbitrary headers and bodies at both POST endpoints: never a 5xx, and the relay stays up."""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fixtures.relay import RunningRelay

HEADER_NAMES = st.sampled_from(
    [
        "Authorization",
        "Content-Type",
        "API_VERSION",
        "api-version",
        "X-Forwarded-For",
        "Content-Encoding",
        "X-Extra",
    ]
)
HEADER_VALUES = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40).map(
    str.strip
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
TYPES = st.sampled_from(
    [
        "NEW_MESSAGE",
        "NEW_CHATBOT_MESSAGE",
        "POST_UPDATE",
        "USER_ACCESS_REVOCATION",
        "PAYMENT_TRANSACTION",
        "CHAT_MESSAGE",
        "X",
    ]
)
EVENTISH = st.fixed_dictionaries(
    {"type": TYPES},
    optional={
        "new_message": JSON,
        "new_chatbot_message": JSON,
        "post_update": JSON,
        "payload": JSON,
        "user_access_revocation": JSON,
        "extra_data": JSON,
        "post_token": JSON,
        "source": JSON,
    },
)
BODIES = st.one_of(
    st.binary(max_size=300),
    JSON.map(lambda v: json.dumps(v).encode()),
    EVENTISH.map(lambda v: json.dumps(v, ensure_ascii=False).encode()),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(["/events", "/server-link"]),
    key=st.sampled_from(["right", "wrong", "none"]),
    headers=st.dictionaries(HEADER_NAMES, HEADER_VALUES, max_size=4),
    body=BODIES,
)
async def test_arbitrary_requests_never_get_a_5xx(
    relay: RunningRelay, path: str, key: str, headers: dict[str, str], body: bytes
) -> None:
    """Whatever arrives, the answer is 2xx or 4xx, and /healthz stays ready."""
    sent: dict[str, Any] = dict(headers)
    if key == "right":
        sent["Authorization"] = relay.identification_key
    elif key == "wrong":
        sent["Authorization"] = "wrong-" + relay.identification_key
    async with httpx.AsyncClient(timeout=10.0, trust_env=False) as http:
        answer = await http.post(relay.url + path, content=body, headers=sent)
        assert answer.status_code < 500, (answer.status_code, answer.text)
        if answer.status_code >= 400:
            assert answer.json()["error"]
        health = await http.get(relay.url + "/healthz")
    assert health.status_code == 200
