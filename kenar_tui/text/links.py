"""Which links the console may hand to the browser: the one rule behind the "open link" key.

A link comes from a buyer's message or the relay, so it is untrusted. `webbrowser.open` passes
it to a command (xdg-open, a browser) as an argument: `file:///…`, `javascript:…` or a string
starting with `-` (read as an option) must never get there. Only https:// opens; http:// opens
with a warning; anything else is shown and copied, never opened.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from kenar_tui.text.sanitize import is_clean

MAX_LINK = 4096  # longer is not a link a person sends


@dataclass(frozen=True)
class LinkVerdict:
    """Whether to open `url`, and what to tell the user either way."""

    url: str
    openable: bool
    warning: str | None = None  # opened, but the user should know (plain http)
    reason: str | None = None  # not opened: why, in a sentence


def judge_link(url: str) -> LinkVerdict:
    """The verdict for one link: open it (https, or http with a warning) or only copy it."""
    refuse = "only https:// links are opened; this one was copied to the clipboard instead"
    if not url or len(url) > MAX_LINK or url[0] == "-" or url != url.strip():
        return LinkVerdict(url, openable=False, reason=refuse)
    if not is_clean(url) or any(ch.isspace() or not ch.isprintable() for ch in url):
        return LinkVerdict(url, openable=False, reason=refuse)
    try:
        parts = urlsplit(url)
    except ValueError:  # a malformed IPv6 host, say
        return LinkVerdict(url, openable=False, reason=refuse)
    if not parts.hostname or parts.username is not None or parts.password is not None:
        return LinkVerdict(url, openable=False, reason=refuse)
    scheme = parts.scheme.lower()
    if scheme == "https" and url[:8].lower() == "https://":
        return LinkVerdict(url, openable=True)
    if scheme == "http" and url[:7].lower() == "http://":
        return LinkVerdict(
            url,
            openable=True,
            warning="this link is not encrypted (http://): anyone on the way can read or change it",
        )
    return LinkVerdict(url, openable=False, reason=refuse)
