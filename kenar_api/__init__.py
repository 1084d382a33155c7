"""Kenar, Divar's open platform: the protocol (pydantic models) and an async API client.

Imports only kenar_core (and pydantic, httpx): the relay, the console and the sandbox stand on it.
"""

from kenar_api.bodies import (
    ChatbotMessageBody,
    ChatbotMessageResponse,
    ConversationResponse,
    KenarErrorBody,
    SendMessageBody,
    SendMessageResponse,
    SubscriptionEventType,
    SubscriptionRequest,
    TokenResponse,
)
from kenar_api.buttons import (
    Action,
    Button,
    ButtonGrid,
    ButtonRow,
    OpenServerLink,
    parse_grid,
)
from kenar_api.events import (
    Event,
    LegacyChatMessage,
    NewChatbotMessageEvent,
    NewMessageEvent,
    PaymentTransactionEvent,
    PostUpdateEvent,
    UnknownEvent,
    UserAccessRevocationEvent,
    event_message,
    parse_event,
)
from kenar_api.messages import (
    Conversation,
    ConversationType,
    Message,
    MessageType,
    Sender,
    Side,
)
from kenar_api.serverlink import ServerLinkRequest, parse_server_link

__all__ = [
    "Action",
    "Button",
    "ButtonGrid",
    "ButtonRow",
    "ChatbotMessageBody",
    "ChatbotMessageResponse",
    "Conversation",
    "ConversationResponse",
    "ConversationType",
    "Event",
    "KenarErrorBody",
    "LegacyChatMessage",
    "Message",
    "MessageType",
    "NewChatbotMessageEvent",
    "NewMessageEvent",
    "OpenServerLink",
    "PaymentTransactionEvent",
    "PostUpdateEvent",
    "SendMessageBody",
    "SendMessageResponse",
    "Sender",
    "ServerLinkRequest",
    "Side",
    "SubscriptionEventType",
    "SubscriptionRequest",
    "TokenResponse",
    "UnknownEvent",
    "UserAccessRevocationEvent",
    "event_message",
    "parse_event",
    "parse_grid",
    "parse_server_link",
]
