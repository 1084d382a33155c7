"""Entry frames as a console's websocket reads them (relay/wire.py frames them with
websockets.frames): every length class of RFC 6455 §5.2, Persian text intact, unmasked."""

from __future__ import annotations

from collections.abc import Generator

import pytest
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from relay.store import StoredEntry
from relay.wire import EntryFrame, text_frame


def _parse(wire: bytes) -> tuple[Frame, bytes]:
    """One frame read the way a websockets client reads it (server frames come unmasked)."""
    reader = StreamReader()
    reader.feed_data(wire)
    parser: Generator[None, None, Frame] = Frame.parse(
        reader.read_exact, mask=False, max_size=None, extensions=()
    )
    try:
        next(parser)
    except StopIteration as done:
        frame: Frame = done.value
    else:
        pytest.fail("the frame was incomplete")
    rest = reader.buffer
    return frame, bytes(rest)


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65_535, 65_536, 200_000])
def test_text_frames_of_every_length_read_back_whole(size: int) -> None:
    text = ("سلام «دنیا» " * (size // 20 + 1)).encode()[:size].decode(errors="ignore")
    frame, rest = _parse(text_frame(text))
    assert frame.opcode is Opcode.TEXT and frame.fin
    assert bytes(frame.data).decode() == text and rest == b""


def test_two_frames_of_one_length_share_the_header_not_the_text() -> None:
    first, second = text_frame("الف"), text_frame("ب۱۲")
    assert len(first) == len(second) and first != second
    assert _parse(first + second)[1] == second


def test_an_entry_frame_carries_its_seq_and_payload() -> None:
    stored = StoredEntry(
        seq=42, payload='{"kind":"note","data":{"text":"تماس گرفتم"}}', received_at_us=1
    )
    frame, _ = _parse(EntryFrame(stored).wire)
    assert bytes(frame.data).decode() == (
        '{"type":"entry","seq":42,"entry":{"kind":"note","data":{"text":"تماس گرفتم"}}}'
    )
