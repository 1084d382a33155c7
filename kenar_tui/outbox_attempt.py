"""One attempt at Divar for a reply, and what its failure means: the body in the model the
conversation takes, the media upload, the send, and the failure turned into one of three
answers the outbox acts on (outbox.py): `AnswerLost` (it may have reached the buyer, so it is
never resent by itself), `Transient` (nothing reached Divar; retried after a back-off), or the
error itself (final; `failure_words` says what to do).

Split from outbox.py, which keeps the states, the rows and the retries.
"""

from __future__ import annotations

from typing import Any

from kenar_api.bodies import ChatbotMessageBody, SendMessageBody
from kenar_core.errors import (
    AuthError,
    CredentialError,
    KenarAPIError,
    KenarError,
    KenarTimeout,
    MediaError,
    ProtocolError,
    RateLimited,
    RecipientRestricted,
    ServerError,
    TransportError,
)
from kenar_tui.keyring_thread import keyring_call
from kenar_tui.media import sending as media_sending
from kenar_tui.outbox_items import UNKNOWN, Credentials, Kenar
from kenar_tui.store import OutboxRow


class AnswerLost(Exception):
    """The send may have reached the buyer; its answer did not reach us."""

    def __init__(self, words: str) -> None:
        super().__init__(words)
        self.words = words


class Transient(Exception):
    """Nothing reached the buyer and trying again later may work."""

    def __init__(self, words: str, wait_at_least: float = 0.0) -> None:
        super().__init__(words)
        self.words = words
        self.wait_at_least = wait_at_least


def build_body(conversation_type: str, body: Any) -> SendMessageBody | ChatbotMessageBody:
    """The body to send: text becomes the right model; a model must fit the conversation."""
    if isinstance(body, str):
        if conversation_type == "BOT":
            return ChatbotMessageBody(text_message=body)
        return SendMessageBody(message=body)
    if conversation_type == "BOT" and isinstance(body, SendMessageBody):
        return ChatbotMessageBody(
            text_message=body.message, media_token=body.media_token, buttons=body.receiver_buttons
        )
    if conversation_type != "BOT" and isinstance(body, ChatbotMessageBody):
        return SendMessageBody(
            message=body.text_message, media_token=body.media_token, receiver_buttons=body.buttons
        )
    if isinstance(body, SendMessageBody | ChatbotMessageBody):
        return body
    raise ProtocolError("a reply body must be text, SendMessageBody or ChatbotMessageBody")


def failure_words(exc: Exception, post_token: str | None) -> str:
    """Why a send failed for good, in words that say what to do."""
    post = f"post {post_token}" if post_token else "this conversation"
    login = f"kenar-tui login --post {post_token}" if post_token else "kenar-tui login"
    if isinstance(exc, RecipientRestricted):
        return "the buyer restricts messages: this conversation cannot be written to"
    if isinstance(exc, AuthError):
        return (
            f"Kenar refused the token (HTTP {exc.status}): it has expired or lacks a scope for "
            f"{post}; run `{login}`"
        )
    if isinstance(exc, KenarAPIError):
        return f"Kenar rejected the message: {exc.message} (HTTP {exc.status})"
    return str(exc)


def lost_words(exc: KenarError) -> str:
    """How the answer of a send that may have arrived was lost, and what the user can do."""
    if isinstance(exc, ServerError):
        how = f"Kenar or a gateway answered HTTP {exc.status} after the message was sent"
    elif isinstance(exc, KenarTimeout):
        how = "Kenar did not answer in time"
    else:
        how = "the connection broke before Kenar's answer came"
    return f"{how}; it turns to sent when Divar's copy appears, or send it again (r)"


async def upload_media(row: OutboxRow, kenar: Kenar) -> str:
    """Upload a media reply's file; its media_token. Raises MediaError or Transient."""
    try:
        return await media_sending.upload(row.body, kenar)  # type: ignore[arg-type]
    except KenarError as exc:
        if exc.maybe_delivered:
            # No buyer saw anything; the file may sit unused at Divar. Not repeated.
            raise MediaError(
                "the upload's answer was lost; nothing was sent to the buyer. "
                "Send it again (r) to upload it anew"
            ) from None
        if isinstance(exc, RateLimited | ServerError | TransportError):
            raise Transient("the upload could not be made") from None
        raise


async def send_row(row: OutboxRow, kenar: Kenar, credentials: Credentials) -> None:
    """Send a stored reply (its media already uploaded) once, with the token that covers it."""
    cid = row.conversation_id
    body = media_sending.wire_body(row.body)
    try:
        if row.conversation_type == "BOT":
            if not await keyring_call(lambda: credentials.api_key):
                raise CredentialError(
                    "no API key is stored, and chatbot replies need one: "
                    "run `kenar-tui auth set api-key`"
                )
            await kenar.send_chatbot_message(cid, ChatbotMessageBody.model_validate(body))
            return
        token = await keyring_call(credentials.token_for_send, cid, row.post_token)
        if token is None:
            where = f"post {row.post_token}" if row.post_token else "this conversation"
            login = (
                f"kenar-tui login --post {row.post_token}"
                if row.post_token
                else "kenar-tui login --all-posts"
            )
            raise CredentialError(
                f"no token covers this conversation: run `{login}` to send into {where}"
            )
        await kenar.send_message(
            cid, SendMessageBody.model_validate(body), access_token=token.access_token
        )
    except KenarError as exc:
        if exc.maybe_delivered:
            raise AnswerLost(f"{UNKNOWN}: {lost_words(exc)}") from None
        if isinstance(exc, RateLimited):
            raise Transient("Kenar is rate limiting this app", exc.retry_after or 0.0) from None
        if isinstance(exc, ServerError):
            raise Transient(f"Kenar failed on its side (HTTP {exc.status})") from None
        if isinstance(exc, TransportError):
            raise Transient("Kenar could not be reached") from None
        raise
