"""The Sandbox object and its control surface: life cycle, secrets kept out, clear refusals."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from kenar_api import SendMessageBody
from kenar_api.client import KenarClient
from kenar_core.errors import KenarAPIError
from kenar_tui.sandbox import Sandbox
from tests.sandbox.conftest import ALL_SEND, Receiver


async def test_sandbox_binds_an_ephemeral_port_and_closes_idempotently() -> None:
    """Port 0 becomes a real bound port in base_url; closing twice is harmless."""
    sandbox = Sandbox(seed=1)
    async with sandbox:
        assert sandbox.port > 0
        assert sandbox.base_url == f"http://127.0.0.1:{sandbox.port}"
        assert (await sandbox.control.state())["seed"] == 1
    await sandbox.aclose()
    with pytest.raises(RuntimeError, match="cannot be started again"):
        await sandbox.start()


async def test_secrets_stay_out_of_reprs_logs_and_recorded_requests(
    sandbox: Sandbox,
    kenar: KenarClient,
    receiver: Receiver,
    chat: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The API key, tokens and identification key appear in no repr, log line or request record."""
    caplog.set_level(logging.DEBUG)
    token = await sandbox.control.issue_token([ALL_SEND, "offline_access"])
    await kenar.send_message(
        chat["conversation_id"], SendMessageBody(message="سلام"), access_token=token["access_token"]
    )
    await kenar.refresh_token(
        token["refresh_token"],
        access_token=token["access_token"],
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
        redirect_uri="http://127.0.0.1/cb",
    )
    recorded = str(await sandbox.control.requests())
    shown = " ".join([repr(sandbox), repr(sandbox.core.registration), caplog.text, recorded])
    for secret in (
        sandbox.api_key,
        sandbox.identification_key,
        sandbox.client_secret,
        token["access_token"],
        token["refresh_token"],
    ):
        assert secret not in shown
    assert "سلام" not in caplog.text  # chat content is not logged either


async def test_unknown_endpoint_answers_in_kenars_error_shape(sandbox: Sandbox) -> None:
    """An unknown path is a 404 with {code, message, details}, not an HTML page."""
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{sandbox.base_url}/v2/open-platform/chat/conversation")
    assert response.status_code == 404
    assert response.json() == {
        "code": 5,
        "message": "there is no endpoint POST /v2/open-platform/chat/conversation",
        "details": [],
    }


async def test_control_surface_refuses_bad_input_with_a_sentence(sandbox: Sandbox) -> None:
    """Bad control requests are typed 4xx errors naming the problem."""
    with pytest.raises(KenarAPIError) as rate:
        await sandbox.control.set_faults(error_rate=2)
    assert rate.value.status == 400
    assert rate.value.message.startswith("error_rate: input should be less than or equal to 1")
    with pytest.raises(KenarAPIError) as post:
        await sandbox.control.inject_message(post_token="nOpE", text="سلام")
    assert (post.value.status, post.value.message) == (
        404,
        "there is no post nOpE; see /_sandbox/state for the posts",
    )
    with pytest.raises(KenarAPIError) as url:
        await sandbox.control.configure(events_url="ftp://example.com")
    assert "must be an http(s) URL" in url.value.message
    with pytest.raises(KenarAPIError) as press:
        await sandbox.control.press_button("no-chat", {})
    assert press.value.status == 404
    with pytest.raises(KenarAPIError) as location:
        await sandbox.control.inject_message(post_token="gZd7omnS", type="LOCATION", data={})
    assert location.value.message == "a LOCATION message needs location_data in data"


async def test_unsubscribed_press_without_start_url_is_refused(
    sandbox: Sandbox, chat: dict[str, Any]
) -> None:
    """Pressing a button before a start URL is set says so instead of failing silently."""
    with pytest.raises(KenarAPIError) as caught:
        await sandbox.control.press_button(chat["conversation_id"], {"a": 1})
    assert caught.value.message == "no start URL is set; configure start_url first"
