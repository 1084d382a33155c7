"""docs/protocol.md and kenar_core/protocol/ say the same thing (issue #18).

Every frame type and entry kind the doc's tables name is a model, and every model is in the
doc; every JSON example in the doc validates (entries inside `entry` frames and `post` frames
too). Read from the doc's own tables, so a frame added to one side only fails here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from kenar_core.protocol import (
    CONSOLE_FRAME,
    CONSOLE_FRAMES,
    ENTRY,
    ENTRY_KINDS,
    POSTED_ENTRY,
    RELAY_FRAME,
    RELAY_FRAME_TYPES,
    EntryFrame,
    PostFrame,
    UnknownRelayFrame,
)

DOC = Path(__file__).resolve().parent.parent / "docs" / "protocol.md"


def section(title: str) -> str:
    """The text under the `## title` heading, up to the next heading of that level or above."""
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"## {title}\n")
    following = re.search(r"^#{1,2} ", text[start + 3 :], flags=re.MULTILINE)
    return text[start : start + 3 + following.start()] if following else text[start:]


def first_column(text: str, header: str) -> list[str]:
    """The backticked names in the first column of the table whose header starts `| header |`."""
    lines = text.splitlines()
    at = next(
        i
        for i, line in enumerate(lines)
        if line.startswith(f"| {header} |") and lines[i + 1].startswith("|---")
    )
    names = []
    for line in lines[at + 2 :]:
        if not line.startswith("|"):
            break
        cell = line.split("|")[1]
        names.extend(re.findall(r"`([a-z_]+)`", cell))
    return names


def examples() -> list[dict[str, Any]]:
    """Every line of the doc's ```json blocks, parsed."""
    text = DOC.read_text(encoding="utf-8")
    found: list[dict[str, Any]] = []
    for block in re.findall(r"```json\n(.*?)```", text, flags=re.DOTALL):
        found.extend(json.loads(line) for line in block.splitlines() if line.strip())
    return found


def test_every_console_frame_in_the_doc_is_a_model_and_back() -> None:
    documented = first_column(section("Frames from the console"), "`type`")
    assert sorted(documented) == sorted(CONSOLE_FRAMES)


def test_every_relay_frame_in_the_doc_is_a_model_and_back() -> None:
    documented = first_column(section("Frames from the relay"), "`type`")
    assert sorted(documented) == sorted(RELAY_FRAME_TYPES)


def test_every_entry_kind_in_the_doc_is_a_model_and_back() -> None:
    documented = first_column(section("Entries"), "`kind`")
    assert sorted(documented) == sorted(ENTRY_KINDS)


@pytest.mark.parametrize("example", examples(), ids=lambda e: str(e.get("type")))
def test_every_example_validates(example: dict[str, Any]) -> None:
    """Each example is a console frame or a relay frame the models know (not an unknown one),
    and the entries it carries validate as entries of their kind."""
    parsed: list[object] = []
    for adapter in (CONSOLE_FRAME, RELAY_FRAME):
        try:
            parsed.append(adapter.validate_python(example))
        except ValidationError:
            continue
    parsed = [frame for frame in parsed if not isinstance(frame, UnknownRelayFrame)]
    assert parsed, f"no model takes {example}"
    for frame in parsed:
        if isinstance(frame, EntryFrame):
            assert type(ENTRY.validate_python(frame.entry)).__name__ != "OtherEntry"
        if isinstance(frame, PostFrame):
            POSTED_ENTRY.validate_python(frame.entry)


def test_the_examples_cover_every_frame_a_console_sends() -> None:
    """The doc shows at least one example of each console frame but `ack` (a bare seq)."""
    shown = {example["type"] for example in examples()}
    assert set(CONSOLE_FRAMES) - {"ack"} <= shown
