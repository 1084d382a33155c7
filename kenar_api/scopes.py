"""OAuth scopes (`SCOPE` or `SCOPE.<identifier>`) and what each lets a token do.

One place decides whether a set of scopes covers reading or sending in a conversation: the
sandbox uses it to authorise, the console to pick the narrowest token for a send.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

SEND_ONE = "CONVERSATION_SEND_MESSAGE"
SEND_POST = "CHAT_POST_CONVERSATIONS_MESSAGE_SEND"
SEND_ALL = "CHAT_SUPPLIER_ALL_CONVERSATIONS_MESSAGE_SEND"
READ_ONE = "CHAT_CONVERSATION_READ"
READ_POST = "CHAT_POST_CONVERSATIONS_READ"
READ_ALL = "CHAT_SUPPLIER_ALL_CONVERSATIONS_READ"
BOT_SEND = "CHAT_BOT_USER_MESSAGE_SEND"
POSTS_GET = "USER_POSTS_GET"
OFFLINE = "offline_access"
# docs/events/auth.md: a token holding both is told (USER_ACCESS_REVOCATION) when its user
# withdraws the app's access; USER_ID also lets GET /v1/open-platform/users name the user.
REVOCATION_NOTICE = "NOTIFICATION_ACCESS_REVOCATION"
USER_ID = "USER_ID"
REVOCATION_SCOPES = (REVOCATION_NOTICE, USER_ID)


@dataclass(frozen=True, slots=True)
class Scope:
    name: str
    resource: str | None = None

    @classmethod
    def parse(cls, text: str) -> Scope:
        name, dot, resource = text.partition(".")
        return cls(name, resource if dot else None)

    def __str__(self) -> str:
        return f"{self.name}.{self.resource}" if self.resource is not None else self.name


def parse_scopes(scopes: Iterable[str] | str) -> list[Scope]:
    items = scopes.split() if isinstance(scopes, str) else scopes
    return [Scope.parse(s) for s in items if s]


def send_breadth(scopes: Iterable[str], conversation_id: str, post_token: str | None) -> int | None:
    """How broad the narrowest scope allowing a send here is (0 one chat, 1 one post, 2 all)."""
    return _breadth(scopes, conversation_id, post_token, (SEND_ONE, SEND_POST, SEND_ALL))


def read_breadth(scopes: Iterable[str], conversation_id: str, post_token: str | None) -> int | None:
    return _breadth(scopes, conversation_id, post_token, (READ_ONE, READ_POST, READ_ALL))


def can_send(scopes: Iterable[str], conversation_id: str, post_token: str | None) -> bool:
    return send_breadth(scopes, conversation_id, post_token) is not None


def can_read(scopes: Iterable[str], conversation_id: str, post_token: str | None) -> bool:
    return read_breadth(scopes, conversation_id, post_token) is not None


def _breadth(
    scopes: Iterable[str], conversation_id: str, post_token: str | None, names: tuple[str, str, str]
) -> int | None:
    one, post, everything = names
    best: int | None = None
    for scope in parse_scopes(list(scopes)):
        level = None
        if scope.name == one and scope.resource == conversation_id:
            level = 0
        elif scope.name == post and post_token and scope.resource == post_token:
            level = 1
        elif scope.name == everything and scope.resource is None:
            level = 2
        if level is not None and (best is None or level < best):
            best = level
    return best


def subscribable_posts(scopes: Iterable[str]) -> tuple[bool, list[str]]:
    """(covers all posts, the posts read scopes name) for NEW_MESSAGE_ON_POST subscriptions."""
    parsed = parse_scopes(list(scopes))
    everything = any(s.name == READ_ALL and s.resource is None for s in parsed)
    posts = sorted({s.resource for s in parsed if s.name == READ_POST and s.resource})
    return everything, posts
