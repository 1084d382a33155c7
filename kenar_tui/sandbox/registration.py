"""What the Kenar panel knows about the app: its keys, OAuth client, and URLs.

In Divar these are set by hand in the panel; in the sandbox they are set when it starts
and changed with `SandboxControl.configure`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

# What the API key may do; each endpoint needs one.
SEND_PERMISSION = "CHAT_SEND_MESSAGE_OAUTH"
BOT_PERMISSION = "CHAT_BOT_SEND_MESSAGE"
READ_PERMISSION = "CHAT_READ_CONVERSATION"
SUBSCRIBE_PERMISSION = "EVENTS_REGISTER_SUBSCRIPTION"
USER_PERMISSION = "USER_RETRIEVE"  # GET /v1/open-platform/users (OpenAPI, Finder_GetUser)
# The finder (OpenAPI Finder_GetPost, Finder_GetUserPosts) and chat uploads
# (ChatAPI_GenerateUploadToken; docs/chat/upload_media.md).
GET_POST_PERMISSION = "GET_POST"
USER_POSTS_PERMISSION = "GET_USER_POSTS"
UPLOAD_PERMISSION = "CHAT_UPLOAD_MEDIA"
ALL_PERMISSIONS = (
    SEND_PERMISSION,
    BOT_PERMISSION,
    READ_PERMISSION,
    SUBSCRIBE_PERMISSION,
    USER_PERMISSION,
    GET_POST_PERMISSION,
    USER_POSTS_PERMISSION,
    UPLOAD_PERMISSION,
)

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def is_loopback_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and parts.hostname in LOOPBACK_HOSTS


@dataclass
class Registration:
    """The app as the panel has it. Secrets never appear in its repr."""

    api_key: str = field(default_factory=lambda: f"sbx_{secrets.token_urlsafe(24)}", repr=False)
    identification_key: str = field(
        default_factory=lambda: f"sbx_id_{secrets.token_urlsafe(24)}", repr=False
    )
    client_id: str = "kenar-tui-sandbox"
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24), repr=False)
    redirect_uris: list[str] = field(default_factory=list)
    events_url: str | None = None
    start_url: str | None = None
    legacy_server_link: bool = False
    oauth_approve: bool = True
    api_permissions: list[str] = field(default_factory=lambda: list(ALL_PERMISSIONS))

    def redirect_allowed(self, uri: str) -> bool:
        """Registered exactly; with none registered, any loopback http(s) URI (RFC 8252)."""
        if self.redirect_uris:
            if uri in self.redirect_uris:
                return True
            # A registered loopback URI matches on any port, as RFC 8252 §7.3 asks.
            parts = urlsplit(uri)
            for registered in self.redirect_uris:
                reg = urlsplit(registered)
                if (
                    is_loopback_url(registered)
                    and reg.hostname == parts.hostname
                    and reg.scheme == parts.scheme
                    and reg.path == parts.path
                ):
                    return True
            return False
        return is_loopback_url(uri)

    def public(self) -> dict[str, Any]:
        """The settings without the secrets, for `/_sandbox/state`."""
        return {
            "client_id": self.client_id,
            "redirect_uris": self.redirect_uris,
            "events_url": self.events_url,
            "start_url": self.start_url,
            "legacy_server_link": self.legacy_server_link,
            "oauth_approve": self.oauth_approve,
            "api_permissions": self.api_permissions,
        }


def _check_url(value: str | None) -> str | None:
    if value in (None, ""):
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http(s) URL")
    return value


class RegistrationChange(BaseModel):
    """A `POST /_sandbox/config` body: only the fields given change."""

    model_config = ConfigDict(extra="forbid")
    events_url: str | None = None
    start_url: str | None = None
    identification_key: str | None = Field(default=None, min_length=1)
    redirect_uris: list[str] | None = None
    legacy_server_link: bool | None = None
    oauth_approve: bool | None = None
    api_permissions: list[str] | None = None

    _urls = field_validator("events_url", "start_url")(_check_url)

    @field_validator("redirect_uris")
    @classmethod
    def _uris(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            for uri in value:
                _check_url(uri)
        return value

    @field_validator("api_permissions")
    @classmethod
    def _permissions(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            unknown = sorted(set(value) - set(ALL_PERMISSIONS))
            if unknown:
                raise ValueError(f"unknown permission {unknown[0]}")
        return value

    def apply(self, registration: Registration) -> None:
        # Only the fields present in the request; `events_url: null` clears a URL.
        for name in self.model_fields_set:
            value = getattr(self, name)
            if value is not None or name in ("events_url", "start_url"):
                setattr(registration, name, value)
