"""Reading the examples copied from Divar's docs (tests/data/kenar/docs, see its README).

The files are byte-for-byte copies of the pages' code blocks. Some print what is not valid
JSON; they are read the way a reader of the page would, and each repair is named here:
- `{{name}}` placeholders standing for a value become the string "name" (chatbot event);
- a trailing comma before `}` or `]` is dropped (chatbot event);
- an unquoted key (`user_id:`) is quoted (open_server_link request);
- a `// comment` after a value is dropped (get_user's json5 answer).
An `.http` file is a request or answer: its first line, headers, a blank line, the body.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fixtures.paths import KENAR_DATA

DOCS = KENAR_DATA / "docs"

_PLACEHOLDER_VALUE = re.compile(r"(:\s*)\{\{\s*(\w+)\s*\}\}")
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_BARE_KEY = re.compile(r"^(\s*)([A-Za-z_][A-Za-z0-9_]*)(\s*):", re.M)
_COMMENT = re.compile(r"(?<=[\"\d\]}eul,])[ \t]*//[^\n]*")


def doc_json(text: str) -> Any:
    """A page's JSON example, with the repairs above."""
    text = _COMMENT.sub("", text)
    text = _PLACEHOLDER_VALUE.sub(r'\1"\2"', text)
    text = _TRAILING_COMMA.sub(r"\1", text)
    text = _BARE_KEY.sub(r'\1"\2"\3:', text)
    return json.loads(text)


@dataclass(frozen=True)
class HttpExample:
    """One printed request or answer: `start` is its first line (method and URL, or status)."""

    start: str
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None

    @property
    def status(self) -> int | None:
        parts = self.start.split()
        return int(parts[1]) if parts and parts[0].startswith("HTTP/") else None


def http_example(name: str) -> HttpExample:
    text = (DOCS / name).read_text(encoding="utf-8")
    head, _, body = text.partition("\n\n")
    lines = head.strip().splitlines()
    headers: dict[str, str] = {}
    # An answer like "HTTP/1.1  412" may run straight into its body with no blank line.
    if lines and lines[0].startswith("HTTP/") and len(lines) > 1 and lines[1].startswith("{"):
        body = "\n".join(lines[1:]) + "\n" + body
        lines = lines[:1]
    for line in lines[1:]:
        name_, _, value = line.partition(":")
        headers[name_.strip()] = value.strip()
    return HttpExample(lines[0], headers, doc_json(body) if body.strip() else None)


def json_example(name: str) -> Any:
    return doc_json((DOCS / name).read_text(encoding="utf-8"))


def listed_examples() -> list[str]:
    """Every file the README lists: the test module must use each of them."""
    readme = (DOCS / "README.md").read_text(encoding="utf-8")
    return re.findall(r"^\| ([\w.-]+\.(?:json5?|http|url)) \|", readme, re.M)


def all_files() -> list[Path]:
    return sorted(p for p in DOCS.iterdir() if p.name != "README.md")
