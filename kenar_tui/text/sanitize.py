"""The one cleaner for untrusted text: buyers' messages, file names, post titles, captions,
teammates' notes and operator names.

A terminal obeys control codes wherever they appear in its output, so a buyer who could put
ESC (or its one-byte C1 form, CSI U+009B / OSC U+009D) on our screen could write the seller's
clipboard (OSC 52), retitle the window (OSC 2), plant a `file://` hyperlink (OSC 8) or clear
the screen. Such characters are shown as visible symbols instead: the text stays readable and
the seller can see that something odd was sent. Explicit bidi controls (embeddings,
overrides, isolates and the invisible direction marks) are dropped: the console does its own
bidi, and an override can disguise a link or reverse the digits of a price.

Newline and tab are kept; so are ZWNJ/ZWJ, which Persian spelling needs. Pure functions, no
Textual import: the inbox, exports, notifications and the clipboard all use them.
"""

from __future__ import annotations

import json
import re
from typing import Any

# U+202A-U+202E embeddings and overrides, U+2066-U+2069 isolates, LRM, RLM, ALM.
BIDI_CONTROLS = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)]
    + ["\u200e", "\u200f", "\u061c"]
)


def _visible(code: int) -> str | None:
    """The symbol a control character is shown as; None when the character is fine."""
    if code in (0x09, 0x0A):  # tab and newline are text
        return None
    if code < 0x20:
        return chr(0x2400 + code)  # Control Pictures: ␀ … ␛ (ESC) … ␟
    if code == 0x7F:
        return "\u2421"  # ␡
    if 0x80 <= code <= 0x9F:
        return "\ufffd"  # C1 controls (CSI, OSC, ST...) have no picture of their own
    if code in (0x2028, 0x2029):
        return "\n"  # line and paragraph separators break lines like a newline
    return None


_TABLE: dict[int, str | None] = {ord(ch): None for ch in BIDI_CONTROLS}
_TABLE.update({code: shown for code in range(0x2030) if (shown := _visible(code)) is not None})


def clean_text(text: str) -> str:
    """`text` safe for a terminal: controls as visible symbols, bidi controls dropped."""
    if text.isprintable():
        # Every character the table changes is unprintable to Python (Cc, Cf, Zl, Zp), so
        # printable text is already clean: a scan instead of a copy, for most strings.
        return text
    return text.translate(_TABLE)


def is_clean(text: str) -> bool:
    """Whether `clean_text` would leave `text` unchanged."""
    return text.translate(_TABLE) == text


def clean_tree(value: Any) -> Any:
    """Every string in a JSON-like value cleaned (dict keys too); other values unchanged.

    Used on timeline entries as they enter the console, so everything stored and drawn
    from them (text, names, titles, captions, links, the raw JSON view) is clean.
    """
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_tree(k): clean_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_tree(v) for v in value]
    return value


# What `clean_text` changes that can stand in JSON text as it is (ensure_ascii=False keeps
# them raw): DEL, C1, U+2028/9 and the bidi controls. Controls below U+0020 never do: JSON
# writes them as escapes, which `_ESCAPED_CONTROL` finds (tab and newline, kept, excepted).
_RAW_UNCLEAN = re.compile(
    "[" + "".join(re.escape(chr(c)) for c in sorted(_TABLE) if c >= 0x20) + "]"
)
_ESCAPED_CONTROL = re.compile(r"\\[bfru]")


def clean_json(value: Any) -> tuple[Any, str]:
    """`clean_tree(value)` and its JSON text (`json.dumps(..., ensure_ascii=False)`).

    For a backlog: most entries are clean already, and their JSON is needed anyway (it is
    what the cache seals). One encoding and two scans of it say so; only an entry holding
    something to clean is walked string by string. A backslash before b, f, r or u may be
    a literal one rather than an escaped control: the walk then runs, and finds nothing.
    """
    text = json.dumps(value, ensure_ascii=False)
    if _RAW_UNCLEAN.search(text) is None and _ESCAPED_CONTROL.search(text) is None:
        return value, text
    cleaned = clean_tree(value)
    return cleaned, json.dumps(cleaned, ensure_ascii=False)


def one_line(text: str, limit: int | None = None) -> str:
    """Clean text on a single line (notifications, titles): newlines and tabs become spaces."""
    flat = " ".join(clean_text(text).replace("\t", " ").split("\n"))
    return flat if limit is None else flat[:limit]
