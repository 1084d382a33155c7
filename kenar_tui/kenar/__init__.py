"""Kenar, Divar's open platform: the protocol (pydantic models) and an async API client.

Nothing here imports Textual: the relay and the sandbox use this package too.
"""

from kenar_tui.kenar.bodies import (
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
from kenar_tui.kenar.buttons import (
    Action,
    Button,
    ButtonGrid,
    ButtonRow,
    OpenServerLink,
    parse_grid,
)
from kenar_tui.kenar.events import (
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
from kenar_tui.kenar.messages import (
    Conversation,
    ConversationType,
    Message,
    MessageType,
    Sender,
    Side,
)
from kenar_tui.kenar.serverlink import ServerLinkRequest, parse_server_link

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
