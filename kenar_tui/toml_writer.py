"""Just enough TOML writing for files people also edit by hand (tomllib only reads).

Strings are basic strings with escapes, multi-line text uses triple quotes so it reads as
written, keys are bare when TOML allows it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _escape(text: str, *, multiline: bool) -> str:
    out: list[str] = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\n" if multiline else "\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return "".join(out)


def string(text: str) -> str:
    """A TOML basic string; text with newlines becomes a triple-quoted block."""
    if "\n" in text:
        # The newline right after the opening quotes is dropped by TOML readers.
        return '"""\n' + _escape(text, multiline=True) + '"""'
    return '"' + _escape(text, multiline=False) + '"'


def key(name: str) -> str:
    return name if _BARE_KEY.match(name) else string(name)


def value(item: Any) -> str:
    """A TOML value for str, bool, int, float, lists and mappings (inline)."""
    if isinstance(item, str):
        return '"' + _escape(item, multiline=False) + '"'
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, int | float):
        return repr(item)
    if isinstance(item, Mapping):
        return inline_table(item)
    if isinstance(item, list | tuple):
        return "[" + ", ".join(value(v) for v in item) + "]"
    raise TypeError(f"cannot write {type(item).__name__} as TOML")


def inline_table(items: Mapping[str, Any]) -> str:
    if not items:
        return "{}"
    return "{ " + ", ".join(f"{key(k)} = {value(v)}" for k, v in items.items()) + " }"
