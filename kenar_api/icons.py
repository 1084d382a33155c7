"""The icon names a chat button may carry, as Divar's OpenAPI spec lists them.

The list ships as package data (`data/icons.txt`), regenerated from the spec by
`scripts/gen_icons.py`.
"""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def icon_names() -> tuple[str, ...]:
    """Every allowed icon name, in the spec's order."""
    text = resources.files(__package__).joinpath("data/icons.txt").read_text(encoding="utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip())


@cache
def icon_set() -> frozenset[str]:
    return frozenset(icon_names())


def is_icon(name: str) -> bool:
    return name in icon_set()


def icon_hint(name: str) -> str:
    """A readable hint for an icon name: `CAR_INSPECTION` -> `car inspection`."""
    return name.replace("_", " ").lower()
