"""Chat messages as Kenar delivers them in events and in the read-conversation API.

Liberal in what we accept: unknown message types and unknown fields are kept whole
(`extra="allow"`), `sent_at` may be microseconds since the epoch (number or digit string)
or an RFC 3339 string, and the migration guide's `sender: {"type": "SELLER"}` means the
seller's side. Divar writes protobuf JSON (docs/events/chat.md, the SDK's models, where every
field is optional): a field at its zero value is left out, a 64-bit integer may come as a
string, an absent message may be `null`. So every field has a default and `null` means absent.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator


class MessageType(StrEnum):
    TEXT = "TEXT"
    IMAGE = "IMAGE"
    FILE = "FILE"
    VOICE = "VOICE"
    LOCATION = "LOCATION"
    VIDEO = "VIDEO"
    CONTACT = "CONTACT"


class ConversationType(StrEnum):
    POST = "POST"
    BOT = "BOT"


class Side(StrEnum):
    BUYER = "BUYER"
    SELLER = "SELLER"


def without_nulls(data: Any) -> Any:
    """A JSON object with its `null` members left out: protobuf JSON's "absent"."""
    if isinstance(data, dict) and any(v is None for v in data.values()):
        return {k: v for k, v in data.items() if v is not None}
    return data


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")

    @model_validator(mode="before")
    @classmethod
    def _nulls_are_absent(cls, data: Any) -> Any:
        return without_nulls(data)


class Conversation(_Open):
    id: str = ""
    type: str = ConversationType.POST
    post_token: str | None = None

    @property
    def is_bot(self) -> bool:
        return self.type == ConversationType.BOT


class Sender(_Open):
    side: str | None = None
    type: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _side_in_type(cls, data: Any) -> Any:
        # The migration guide puts the side in `type`: {"type": "SELLER"}.
        data = without_nulls(data)
        if (
            isinstance(data, dict)
            and not data.get("side")
            and data.get("type") in ("SELLER", "BUYER")
        ):
            return {**data, "side": data["type"], "type": "HUMAN"}
        return data

    @property
    def is_buyer(self) -> bool:
        """Only the buyer's own words: never the seller's side, never a bot (our echo too).

        A chatbot message carries no side (`{"type": "HUMAN"}`, docs/chat/chatbot_conversations.md):
        it comes from the user talking to the bot, so a sideless human counts as the buyer.
        """
        if self.side == Side.SELLER or (self.type or "").upper() == "BOT":
            return False
        return self.side in (None, "", Side.BUYER)


class ImageData(_Open):
    link: str = ""
    size_bytes: int | None = None
    height_px: int | None = None
    width_px: int | None = None


class FileData(_Open):
    link: str = ""
    name: str | None = None
    size_bytes: int | None = None


class VoiceData(_Open):
    link: str = ""
    size_bytes: int | None = None
    duration_seconds: float | None = None


class VideoData(_Open):
    link: str = ""
    thumbnail_link: str | None = None
    size_bytes: int | None = None


class LocationData(_Open):
    latitude: float = 0.0  # 0.0 is left out of protobuf JSON, like every zero value
    longitude: float = 0.0


class ContactData(_Open):
    name: str | None = None
    phone: str = ""


def parse_sent_at(value: Any) -> datetime:
    """Microseconds since the epoch (int or digit string) or RFC 3339, as an aware datetime."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, bool):
        raise ValueError("sent_at must be a time, not a boolean")
    if isinstance(value, int | float):
        if isinstance(value, int) and abs(value) > 10**18:
            raise ValueError("sent_at is out of range")
        return _from_epoch(float(value))
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return _from_epoch(int(text))
        try:
            return _from_epoch(float(text))  # "1729429926.14": seconds with a fraction
        except ValueError:
            pass
        if not text:
            raise ValueError("sent_at is empty")
        if text[-1] in "zZ":
            text = text[:-1] + "+00:00"
        parsed = datetime.fromisoformat(text)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise ValueError(f"sent_at has an unexpected type {type(value).__name__}")


def to_micros(moment: datetime) -> int:
    """Microseconds since the epoch, exactly."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _from_epoch(number: float) -> datetime:
    # Events carry microseconds; tolerate seconds and milliseconds by magnitude.
    try:
        if abs(number) >= 1e14:
            return _EPOCH + timedelta(microseconds=int(number))
        seconds = number / 1_000 if abs(number) >= 1e11 else number
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"sent_at {number!r} is not a representable time") from None


def _now() -> datetime:
    return datetime.now(UTC)


class Message(_Open):
    id: str = ""
    conversation: Conversation = Field(default_factory=Conversation)
    sender: Sender = Field(default_factory=Sender)
    type: str = MessageType.TEXT
    # Never left out in Divar's examples; if it were, the moment we read it is the best guess.
    sent_at: AwareDatetime = Field(default_factory=_now)
    text: str | None = None
    image_data: ImageData | None = None
    file_data: FileData | None = None
    voice_data: VoiceData | None = None
    location_data: LocationData | None = None
    video_data: VideoData | None = None
    contact_data: ContactData | None = None

    @field_validator("sent_at", mode="before")
    @classmethod
    def _sent_at(cls, value: Any) -> datetime:
        return parse_sent_at(value)

    @property
    def known_type(self) -> MessageType | None:
        try:
            return MessageType(self.type)
        except ValueError:
            return None

    @property
    def conversation_id(self) -> str:
        return self.conversation.id

    @property
    def post_token(self) -> str | None:
        return self.conversation.post_token

    def preview(self) -> str:
        """A one-line summary for lists and notifications."""
        match self.known_type:
            case MessageType.TEXT:
                return (self.text or "").replace("\n", " ")
            case MessageType.IMAGE:
                return "[image]"
            case MessageType.FILE:
                name = self.file_data.name if self.file_data else None
                return f"[file] {name}" if name else "[file]"
            case MessageType.VOICE:
                return "[voice]"
            case MessageType.VIDEO:
                return "[video]"
            case MessageType.LOCATION:
                return "[location]"
            case MessageType.CONTACT:
                return "[contact]"
        return f"[unsupported message: {self.type}]"

    def wire(self) -> dict[str, Any]:
        """The JSON form, with `sent_at` as microseconds like events carry it."""
        data = self.model_dump(mode="json", exclude_none=True)
        data["sent_at"] = to_micros(self.sent_at)
        return data
