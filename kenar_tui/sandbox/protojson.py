"""Protobuf JSON as Divar's servers write it, for the sandbox's events and answers.

Divar's events and API answers come from protobuf messages (the SDK's models mark every field
optional), so what the app receives follows protobuf's JSON mapping: a field at its zero value
(`""`, `0`, `false`, an empty list or object) is left out, and a 64-bit integer (`int64`,
`uint64`: `sent_at`, `size_bytes`, `cost_rials`) may come as a JSON string. The sandbox sends
some bodies this way and some as the docs print them, so an app must read both.
"""

from __future__ import annotations

from typing import Any

# Fields documented as int64/uint64 (docs/events/chat.md, docs/events/payment.md).
INT64_FIELDS = frozenset({"sent_at", "size_bytes", "cost_rials"})


def _zero(value: Any) -> bool:
    return value is None or value == "" or value is False or value == 0 or value in ([], {})


def protobuf_json(value: Any, *, int64_as_strings: bool = True) -> Any:
    """`value` with zero-valued members left out and 64-bit integers as strings.

    A `metadata` object is the app's own JSON, echoed back as given: it is left alone.
    """
    if isinstance(value, list):
        return [protobuf_json(v, int64_as_strings=int64_as_strings) for v in value]
    if not isinstance(value, dict):
        return value
    shaped: dict[str, Any] = {}
    for key, member in value.items():
        if key == "metadata":
            shaped[key] = member
            continue
        if _zero(member) and not isinstance(member, float):
            continue
        if isinstance(member, float) and member == 0.0:
            continue
        if int64_as_strings and key in INT64_FIELDS and isinstance(member, int):
            shaped[key] = str(member)
            continue
        shaped[key] = protobuf_json(member, int64_as_strings=int64_as_strings)
    return shaped
