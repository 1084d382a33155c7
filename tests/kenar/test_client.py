"""KenarClient against a real HTTP server on loopback."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from kenar_api.bodies import (
    ChatbotMessageBody,
    SendMessageBody,
    SubscriptionEventType,
    SubscriptionRequest,
)
from kenar_api.buttons import Action, Button, ButtonGrid
from kenar_api.client import KenarClient
from kenar_api.retry import RetryPolicy
from kenar_core.errors import (
    AuthError,
    CredentialError,
    KenarAPIError,
    KenarTimeout,
    ProtocolError,
    RateLimited,
    RecipientRestricted,
    ServerError,
    TransportError,
)
from tests.fixtures.http_server import LoopbackServer, refused_port
from tests.kenar.conftest import Reply, ScriptedKenar

API_KEY = "key-7c1d-SECRET-api"
TOKEN = "tok-91ab-SECRET-access"
CONV = "edbb9499-cccc-4d35-b21f-621fa95f2b3e"

Double = tuple[ScriptedKenar, LoopbackServer]


class Sleeps:
    """An injected sleep that records the waits instead of taking them."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_client(kenar_double: Double, sleeps: Sleeps) -> Callable[..., KenarClient]:
    _, server = kenar_double

    def make(**kwargs: object) -> KenarClient:
        options: dict[str, object] = {
            "api_base": server.url,
            "oauth_base": server.url,
            "timeout": 5.0,
            "retries": 3,
            "sleep": sleeps,
        }
        options.update(kwargs)
        return KenarClient(API_KEY, **options)  # type: ignore[arg-type]

    return make


@pytest.fixture
async def kenar(make_client: Callable[..., KenarClient]) -> AsyncIterator[KenarClient]:
    async with make_client() as client:
        yield client


def reply_body() -> SendMessageBody:
    grid = ButtonGrid.of(
        [[Button(action=Action.direct("https://example.com/c"), icon="INFO", caption="مشخصات")]]
    )
    return SendMessageBody(message="سلام، بله موجود است.", receiver_buttons=grid)


async def test_send_message_posts_exact_json_and_current_headers(
    kenar: KenarClient, kenar_double: Double
) -> None:
    """A reply goes to the v2 path with X-API-Key, a Bearer token and exactly our JSON."""
    app, _ = kenar_double
    app.script(Reply(200, {"status": 200, "message": "ok"}))
    body = reply_body()
    answer = await kenar.send_message(CONV, body, access_token=TOKEN)
    assert answer.status == 200
    (got,) = app.received
    assert got.method == "POST"
    assert got.path == f"/v2/open-platform/conversations/{CONV}/messages"
    assert got.headers["x-api-key"] == API_KEY
    assert got.headers["authorization"] == f"Bearer {TOKEN}"
    assert got.headers["content-type"] == "application/json"
    assert got.json() == body.wire()


async def test_chatbot_message_uses_the_api_key_only(
    kenar: KenarClient, kenar_double: Double
) -> None:
    """A chatbot answer goes to the bot path with the API key and no Authorization header."""
    app, _ = kenar_double
    app.script(Reply(200, {"conversation_id": "bot-1"}))
    body = ChatbotMessageBody(text_message="خوش آمدید")
    answer = await kenar.send_chatbot_message("bot-1", body)
    assert answer.conversation_id == "bot-1"
    (got,) = app.received
    assert got.path == "/v1/open-platform/chat/bot/conversations/bot-1/messages"
    assert got.headers["x-api-key"] == API_KEY
    assert "authorization" not in got.headers
    assert got.json() == {"type": "TEXT", "text_message": "خوش آمدید"}


async def test_get_conversation_reads_rfc3339_messages(
    kenar: KenarClient, kenar_double: Double
) -> None:
    """Reading a conversation gives its messages with aware sent_at times from RFC 3339."""
    app, _ = kenar_double
    app.script(
        Reply(
            200,
            {
                "conversation": {"id": CONV, "type": "POST", "post_token": "gZd7omnS"},
                "messages": [
                    {
                        "id": "m1",
                        "conversation": {"id": CONV, "type": "POST"},
                        "sender": {"side": "BUYER", "type": "HUMAN"},
                        "type": "TEXT",
                        "sent_at": "2026-11-25T10:00:00Z",
                        "text": "سلام",
                    }
                ],
            },
        )
    )
    answer = await kenar.get_conversation(CONV, access_token=TOKEN)
    assert answer.conversation.post_token == "gZd7omnS"
    assert answer.messages[0].sent_at == datetime(2026, 11, 25, 10, tzinfo=UTC)
    (got,) = app.received
    assert (got.method, got.path) == ("GET", f"/v1/open-platform/chat/conversations/{CONV}")


async def test_subscribe_posts_the_subscription(kenar: KenarClient, kenar_double: Double) -> None:
    """Subscribing posts the request body to the events endpoint with the user's token."""
    app, _ = kenar_double
    request = SubscriptionRequest(
        event_type=SubscriptionEventType.NEW_MESSAGE_ON_POST,
        event_resource_id="gZd7omnS",
        metadata={"subscription": "post-gZd7omnS"},
    )
    await kenar.subscribe(request, access_token=TOKEN)
    (got,) = app.received
    assert got.path == "/v1/open-platform/events/subscriptions"
    assert got.headers["authorization"] == f"Bearer {TOKEN}"
    assert got.json() == {
        "event_type": "NEW_MESSAGE_ON_POST",
        "event_resource_id": "gZd7omnS",
        "metadata": {"subscription": "post-gZd7omnS"},
    }


async def test_a_503_on_a_read_is_retried_then_succeeds(
    kenar: KenarClient, kenar_double: Double, sleeps: Sleeps
) -> None:
    """A GET (reading history) is safe to repeat: a 503 is retried after a jittered back-off."""
    app, _ = kenar_double
    app.script(
        Reply(503, {"code": 14, "message": "unavailable"}),
        Reply(200, {"conversation": {"id": CONV}, "messages": []}),
    )
    answer = await kenar.get_conversation(CONV, access_token=TOKEN)
    assert answer.conversation.id == CONV
    assert len(app.received) == 2
    assert len(sleeps.waits) == 1
    assert 0.0 <= sleeps.waits[0] <= kenar.policy.base


async def test_a_503_on_a_send_is_never_repeated(
    kenar: KenarClient, kenar_double: Double, sleeps: Sleeps
) -> None:
    """A 5xx may follow the delivery (no idempotency key): one call, maybe_delivered."""
    app, _ = kenar_double
    app.script(Reply(503, {"code": 14, "message": "unavailable"}), Reply(200, {"status": 200}))
    with pytest.raises(ServerError) as caught:
        await kenar.send_message(CONV, reply_body(), access_token=TOKEN)
    assert caught.value.maybe_delivered
    assert len(app.received) == 1
    assert sleeps.waits == []


async def test_retry_after_seconds_on_429_is_honoured(
    kenar: KenarClient, kenar_double: Double, sleeps: Sleeps
) -> None:
    """A 429 with Retry-After: 2 waits exactly 2 seconds, then succeeds."""
    app, _ = kenar_double
    app.script(Reply(429, {"code": 8, "message": "slow down"}, {"Retry-After": "2"}), Reply(200))
    await kenar.send_message(CONV, reply_body(), access_token=TOKEN)
    assert sleeps.waits == [2.0]
    assert len(app.received) == 2


async def test_retry_after_http_date_is_honoured_and_capped(
    make_client: Callable[..., KenarClient], kenar_double: Double, sleeps: Sleeps
) -> None:
    """A Retry-After HTTP date is waited for, but never longer than the cap."""
    app, _ = kenar_double
    far = format_datetime(datetime.now(UTC) + timedelta(hours=3), usegmt=True)
    app.script(Reply(429, {"code": 8, "message": "slow"}, {"Retry-After": far}), Reply(200))
    async with make_client(max_retry_after=7.5) as kenar:
        await kenar.send_message(CONV, reply_body(), access_token=TOKEN)
    assert sleeps.waits == [7.5]


async def test_429_after_every_retry_is_rate_limited(
    make_client: Callable[..., KenarClient], kenar_double: Double, sleeps: Sleeps
) -> None:
    """When 429 persists past the retries, RateLimited carries the server's Retry-After."""
    app, _ = kenar_double
    app.script(*[Reply(429, {"code": 8, "message": "slow"}, {"Retry-After": "1"})] * 3)
    async with make_client(retries=2) as kenar:
        with pytest.raises(RateLimited) as caught:
            await kenar.send_message(CONV, reply_body(), access_token=TOKEN)
    assert caught.value.retry_after == 1.0
    assert len(app.received) == 3
    assert sleeps.waits == [1.0, 1.0]


async def test_5xx_after_every_retry_is_server_error(
    make_client: Callable[..., KenarClient], kenar_double: Double, sleeps: Sleeps
) -> None:
    """Persistent 500s on a read end in ServerError carrying Kenar's code and message."""
    app, _ = kenar_double
    app.script(*[Reply(500, {"code": 13, "message": "internal"})] * 2)
    async with make_client(retries=1) as kenar:
        with pytest.raises(ServerError) as caught:
            await kenar.get_conversation(CONV, access_token=TOKEN)
    assert (caught.value.status, caught.value.code, caught.value.message) == (500, 13, "internal")
    assert not caught.value.maybe_delivered  # a read changes nothing
    assert len(app.received) == 2


async def test_no_retry_on_400(kenar: KenarClient, kenar_double: Double, sleeps: Sleeps) -> None:
    """A 400 is final: one request, no wait, Kenar's code and message in the error."""
    app, _ = kenar_double
    app.script(Reply(400, {"code": 3, "message": "invalid icon", "details": []}))
    with pytest.raises(KenarAPIError) as caught:
        await kenar.send_message(CONV, reply_body(), access_token=TOKEN)
    assert type(caught.value) is KenarAPIError
    assert (caught.value.status, caught.value.code) == (400, 3)
    assert "invalid icon" in str(caught.value)
    assert len(app.received) == 1
    assert sleeps.waits == []


async def test_401_is_auth_error_with_a_hint(kenar: KenarClient, kenar_double: Double) -> None:
    """A 401 raises AuthError whose text says the token lacks a scope or expired."""
    app, _ = kenar_double
    app.script(Reply(401, {"code": 16, "message": "unauthenticated"}))
    with pytest.raises(AuthError) as caught:
        await kenar.send_message(CONV, reply_body(), access_token=TOKEN)
    text = str(caught.value)
    assert "scope" in text and "expired" in text
    assert len(app.received) == 1


async def test_403_is_auth_error(kenar: KenarClient, kenar_double: Double) -> None:
    """A 403 (scope missing) is an AuthError too, not retried."""
    app, _ = kenar_double
    app.script(Reply(403, {"code": 7, "message": "permission denied"}))
    with pytest.raises(AuthError):
        await kenar.get_conversation(CONV, access_token=TOKEN)
    assert len(app.received) == 1


async def test_412_code_9_is_recipient_restricted(kenar: KenarClient, kenar_double: Double) -> None:
    """Kenar's 412 code 9 raises RecipientRestricted naming the buyer's restriction."""
    app, _ = kenar_double
    message = "message delivery failed due to recipient's restriction"
    app.script(Reply(412, {"code": 9, "message": message}))
    with pytest.raises(RecipientRestricted) as caught:
        await kenar.send_message(CONV, reply_body(), access_token=TOKEN)
    assert caught.value.code == 9
    assert message in str(caught.value)
    assert "restricts messages" in str(caught.value)
    assert len(app.received) == 1


async def test_non_json_error_body_still_gives_a_typed_error(
    kenar: KenarClient, kenar_double: Double
) -> None:
    """A proxy's plain-text 404 becomes a KenarAPIError with that text as its message."""
    app, _ = kenar_double
    app.script(Reply(404, "404 page not found"))
    with pytest.raises(KenarAPIError) as caught:
        await kenar.send_message(CONV, reply_body(), access_token=TOKEN)
    assert caught.value.status == 404
    assert caught.value.code is None
    assert "404 page not found" in str(caught.value)


async def test_timeout_after_retries_is_kenar_timeout(
    make_client: Callable[..., KenarClient], kenar_double: Double, sleeps: Sleeps
) -> None:
    """A read slower than the timeout ends in KenarTimeout after every attempt timed out."""
    app, _ = kenar_double
    app.script(Reply(stall=True), Reply(stall=True))
    async with make_client(timeout=0.2, retries=1) as kenar:
        with pytest.raises(KenarTimeout) as caught:
            await kenar.get_conversation(CONV, access_token=TOKEN)
    assert isinstance(caught.value, TransportError)
    assert "no answer within 0.2s" in str(caught.value)
    assert len(app.received) == 2
    assert len(sleeps.waits) == 1


async def test_a_send_that_times_out_reading_is_not_repeated(
    make_client: Callable[..., KenarClient], kenar_double: Double, sleeps: Sleeps
) -> None:
    """A read timeout on a POST: the message may be delivered, so one call and maybe_delivered."""
    app, _ = kenar_double
    app.script(Reply(stall=True), Reply(200, {"status": 200}))
    async with make_client(timeout=0.2, retries=2) as kenar:
        with pytest.raises(KenarTimeout) as caught:
            await kenar.send_message(CONV, reply_body(), access_token=TOKEN)
    assert caught.value.maybe_delivered
    assert len(app.received) == 1
    assert sleeps.waits == []


async def test_timeout_then_success(
    make_client: Callable[..., KenarClient], kenar_double: Double
) -> None:
    """One stalled read is retried and the next, prompt one succeeds."""
    app, _ = kenar_double
    app.script(Reply(stall=True), Reply(200, {"conversation": {"id": CONV}}))
    async with make_client(timeout=0.2, retries=2) as kenar:
        answer = await kenar.get_conversation(CONV, access_token=TOKEN)
    assert answer.conversation.id == CONV
    assert len(app.received) == 2


async def test_connection_refused_is_transport_error_after_retries(sleeps: Sleeps) -> None:
    """Nobody listening: TransportError after the retries, each wait within the back-off."""
    base = f"http://127.0.0.1:{refused_port()}"
    policy = RetryPolicy(retries=2, base=0.5, cap=8.0)
    async with KenarClient(API_KEY, api_base=base, sleep=sleeps, policy=policy) as kenar:
        with pytest.raises(TransportError) as caught:
            await kenar.send_message(CONV, reply_body(), access_token=TOKEN)
    assert not isinstance(caught.value, KenarTimeout)
    assert not caught.value.maybe_delivered  # never reached anyone: safe to repeat
    assert "could not connect" in str(caught.value)
    assert len(sleeps.waits) == 2
    assert 0.0 <= sleeps.waits[0] <= 0.5
    assert 0.0 <= sleeps.waits[1] <= 1.0


async def test_one_pooled_connection_is_reused(kenar: KenarClient, kenar_double: Double) -> None:
    """Consecutive sends reuse one kept-alive connection instead of opening new ones."""
    app, _ = kenar_double
    for _ in range(5):
        await kenar.send_message(CONV, reply_body(), access_token=TOKEN)
    assert len(app.received) == 5
    assert len({r.client_port for r in app.received}) == 1


async def test_no_secret_in_logs_or_errors(
    make_client: Callable[..., KenarClient],
    kenar_double: Double,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Keys and tokens never reach a log line or an error, even when the server echoes them."""
    app, _ = kenar_double
    echo = f"bad token {TOKEN} for key {API_KEY}"
    app.script(Reply(429, {"code": 8, "message": echo}), Reply(401, {"code": 16, "message": echo}))
    logger = logging.getLogger("test.kenar.client")
    caplog.set_level(logging.DEBUG)
    async with make_client(logger=logger) as kenar:
        with pytest.raises(AuthError) as caught:
            await kenar.send_message(CONV, reply_body(), access_token=TOKEN)
        assert TOKEN not in repr(kenar) and API_KEY not in repr(kenar)
    text = str(caught.value) + repr(caught.value) + caught.value.message
    assert "<hidden>" in text
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert any(r.name == "test.kenar.client" for r in caplog.records)
    for secret in (TOKEN, API_KEY):
        assert secret not in text
        assert secret not in logged
    assert CONV not in "\n".join(
        r.getMessage() for r in caplog.records if r.name == "test.kenar.client"
    )


async def test_missing_token_is_refused_before_sending(
    kenar: KenarClient, kenar_double: Double
) -> None:
    """Sending without an access token fails locally with a sentence, no request made."""
    app, _ = kenar_double
    with pytest.raises(CredentialError, match="log in"):
        await kenar.send_message(CONV, reply_body(), access_token="")
    assert app.received == []


async def test_aclose_is_idempotent_and_use_after_close_fails(
    make_client: Callable[..., KenarClient],
) -> None:
    """Closing twice is harmless; a call on a closed client raises a TransportError."""
    kenar = make_client()
    async with kenar:
        pass
    await kenar.aclose()
    assert kenar.closed
    with pytest.raises(TransportError, match="closed"):
        await kenar.send_message(CONV, reply_body(), access_token=TOKEN)


async def test_mock_transport_is_injectable() -> None:
    """An injected transport receives the requests (for rare errors tests cannot stage)."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        raise httpx.RemoteProtocolError("peer closed", request=request)

    sleeps = Sleeps()
    transport = httpx.MockTransport(handler)
    async with KenarClient(API_KEY, transport=transport, retries=1, sleep=sleeps) as kenar:
        with pytest.raises(TransportError, match="closed the connection") as caught:
            await kenar.send_chatbot_message("bot-1", ChatbotMessageBody(text_message="سلام"))
    assert caught.value.maybe_delivered  # the chatbot message may be in the chat already
    assert len(seen) == 1
    assert str(seen[0].url).startswith("https://open-api.divar.ir/v1/open-platform/chat/bot/")


async def test_odd_success_body_on_send_is_not_an_error(
    kenar: KenarClient, kenar_double: Double
) -> None:
    """A 2xx send with an unreadable body still counts as sent (no retry, no duplicate)."""
    app, _ = kenar_double
    app.script(Reply(200, "OK"))
    answer = await kenar.send_message(CONV, reply_body(), access_token=TOKEN)
    assert answer.status is None
    assert len(app.received) == 1


async def test_odd_conversation_body_is_a_protocol_error(
    kenar: KenarClient, kenar_double: Double
) -> None:
    """A conversation read whose answer lacks the conversation is reported, not guessed."""
    app, _ = kenar_double
    app.script(Reply(200, {"messages": []}))
    with pytest.raises(ProtocolError, match="conversation answer"):
        await kenar.get_conversation(CONV, access_token=TOKEN)
