"""POST /server-link in every form Divar documents: each gets 200 and a URL.

docs/flow/touchpoints.md (API-Version: 2; completion_url, provider_data, source, user_side),
docs/widgets/actions/open_server_link.md (API_VERSION: 2; extra_data, nullable fields), and
templates that name `provider_data` keys and `completion_url`.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from kenar_core.errors import ConfigError
from relay.config import RelayConfig
from tests.fixtures.relay import RelayFactory
from tests.relay.helpers import console, post_json

TEMPLATE = (
    "https://seller.example/flow/{source}?step={some_key}&back={completion_url}"
    "&side={user_side}&post={post_token}"
)
TOUCHPOINT = {
    "completion_url": "https://open-platform-redirect.divar.ir/completion",
    "post_token": "gZd7omnS",
    "conversation_id": "edbb9499-cccc-4d35-b21f-621fa95f2b3e",
    "user_side": "DEMAND",
    "source": "CHAT",
    "provider_data": {"some_key": "book", "nested": {"some_other_key": "some_value"}},
}


async def test_the_touch_points_body_with_api_version_dash(
    relay_factory: RelayFactory, http: httpx.AsyncClient
) -> None:
    """provider_data keys and completion_url fill the template; the entry carries them all."""
    relay = await relay_factory(server_link_url=TEMPLATE)
    async with console(relay.ws_url, relay.token) as client:
        await client.until("live")
        answer = await post_json(
            http,
            relay.url + "/server-link",
            TOUCHPOINT,
            key=relay.identification_key,
            headers={"API-Version": "2"},
        )
        (frame,) = await client.entries(1)
    assert answer.status_code == 200 and set(answer.json()) == {"url"}
    url = urlsplit(answer.json()["url"])
    assert url.path == "/flow/CHAT"
    assert parse_qs(url.query) == {
        "step": ["book"],
        "back": ["https://open-platform-redirect.divar.ir/completion"],
        "side": ["DEMAND"],
        "post": ["gZd7omnS"],
    }
    data = frame["entry"]["data"]
    assert frame["entry"]["kind"] == "button_pressed" and frame["entry"]["raw"] == TOUCHPOINT
    assert data["provider_data"] == TOUCHPOINT["provider_data"]
    assert data["extra_data"] == TOUCHPOINT["provider_data"]  # the button's data, one place
    assert data["completion_url"] == TOUCHPOINT["completion_url"]
    assert (data["source"], data["user_side"], data["url"]) == ("CHAT", "DEMAND", url.geturl())


@pytest.mark.parametrize(
    "headers", [{"API_VERSION": "2"}, {"API-Version": "2"}, {}], ids=["underscore", "dash", "none"]
)
async def test_nullable_fields_sent_as_null_never_make_a_400(
    relay_factory: RelayFactory, http: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    """Every field the docs call nullable, sent as null (or the whole button data as null)."""
    relay = await relay_factory(server_link_url=TEMPLATE)
    body = {
        "source": "POST_ADDON",
        "post_token": None,
        "conversation_id": None,
        "user_side": None,
        "user_id": None,
        "extra_data": None,
        "provider_data": None,
        "completion_url": None,
    }
    answer = await post_json(
        http, relay.url + "/server-link", body, key=relay.identification_key, headers=headers
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "url": "https://seller.example/flow/POST_ADDON?step=&back=&side=&post="
    }


@pytest.mark.parametrize(
    "template",
    [
        "https://{host}/start",
        "https://seller.{post_token}.example/start",
        "https://seller.example:{port}/start",
        "{scheme}://seller.example/start",
    ],
)
def test_a_placeholder_outside_path_query_and_fragment_is_refused(template: str) -> None:
    """Issue #21: a button's data must never choose the host the buyer is sent to."""
    with pytest.raises(ConfigError) as error:
        RelayConfig.load(None, server_link_url=template)
    assert "placeholders only in the path, query and fragment" in str(error.value)


def test_placeholders_in_path_query_and_fragment_are_accepted() -> None:
    template = "https://seller.example/{source}/x?back={completion_url}#{conversation_id}"
    assert RelayConfig.load(None, server_link_url=template).server_link_url == template
