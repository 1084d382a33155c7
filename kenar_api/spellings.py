"""Older spellings Divar's migration guide uses, read as the current ones.

Liberal in what we accept: `meta_data` for `metadata`, `icon_name` for `icon`. When both
spellings come, the current one wins and the old one is dropped; we always send the current.
"""

from __future__ import annotations

from typing import Any


def current_spelling(data: Any, old: str, new: str) -> Any:
    """`data` with the key `old` renamed to `new` (kept as is when it is not a dict)."""
    if isinstance(data, dict) and old in data:
        data = dict(data)
        legacy = data.pop(old)
        data.setdefault(new, legacy)
    return data
