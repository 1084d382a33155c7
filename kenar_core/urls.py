"""The one place that says whether a relay URL or an API base is usable, for the console's
settings, its login callback and relay link, the connection screen and the Kenar client.

A relay URL may be written the way docs/deploy.md writes it (wss://relay.example.com), with
its /ws endpoint, or as http(s):// (the same host serves both); ws:// is for loopback. An API
base is http(s) with a host; a trailing slash is dropped so paths join cleanly.
"""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import urlsplit, urlunsplit

from kenar_core.errors import InvalidURL

RELAY_URL_EXAMPLE = "wss://relay.example.com"
_RELAY_SCHEMES = ("ws", "wss", "http", "https")
_HTTP_SCHEMES = ("http", "https")


class RelayAddress(NamedTuple):
    """A relay URL taken apart: websocket scheme, host[:port], and the path the relay is under."""

    scheme: str  # "wss" or "ws"
    netloc: str
    base_path: str  # "" at the root, else "/prefix" (the part a proxy forwards), never "/ws"

    def url(self, path: str) -> str:
        """The relay's URL for `path` ("/ws", "/oauth/callback") with the scheme given."""
        return urlunsplit((self.scheme, self.netloc, f"{self.base_path}{path}", "", ""))


def check_relay_url(url: str) -> str:
    """`url` stripped of spaces when it names a relay; InvalidURL with an example if not."""
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme.lower() not in _RELAY_SCHEMES or not parts.hostname:
        raise InvalidURL(f"the relay URL must look like {RELAY_URL_EXAMPLE} (ws:// on loopback)")
    return text


def relay_address(url: str) -> RelayAddress:
    """Where the relay is, from its URL in any of the usual spellings (see the module)."""
    parts = urlsplit(check_relay_url(url))
    secure = parts.scheme.lower() in ("wss", "https")
    path = parts.path.rstrip("/")
    if path.endswith("/ws"):
        path = path[: -len("/ws")]
    return RelayAddress("wss" if secure else "ws", parts.netloc, path)


def check_http_base(url: str, name: str = "API base") -> str:
    """An http(s) base URL without its trailing slash; InvalidURL naming `name` if not."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in _HTTP_SCHEMES or not parts.hostname:
        raise InvalidURL(f"the {name} must be an http(s) URL like https://open-api.divar.ir")
    return url.rstrip("/")
