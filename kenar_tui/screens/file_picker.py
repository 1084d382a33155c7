"""Attach a photo or file to a reply: a path typed with completion from the home folder, or
pasted; checked against Divar's formats and limits before anything is uploaded.

kenar-docs docs/chat/upload_media.md: images PNG/JPEG ≤ 5 MB, files PDF/DOC(X)/XLS(X)/PPT(X)
≤ 5 MB, voice M4A/3GP ≤ 1.5 MB, video MP4 ≤ 50 MB. A file that fails says why in one sentence
and the picker stays open; nothing is sent and the reply box keeps its draft.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Input, Static

from kenar_api.media import ALLOWED_WORDS, MediaFile, check_file
from kenar_core.errors import MediaError
from kenar_tui.text.sanitize import clean_text

MAX_LISTED = 500  # entries of one folder read for completion; a huge folder stays responsive


class PathSuggester(Suggester):
    """Completes the last part of a path from what the folder holds (~ is the home folder)."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        return await asyncio.to_thread(complete_path, value)


def complete_path(value: str) -> str | None:
    if not value:
        return None
    typed = Path(os.path.expanduser(value))
    folder, prefix = (typed, "") if value.endswith(os.sep) else (typed.parent, typed.name)
    try:
        with os.scandir(folder) as entries:
            names = sorted(
                entry.name + (os.sep if entry.is_dir() else "")
                for _, entry in zip(range(MAX_LISTED), entries, strict=False)
                if entry.name.startswith(prefix) and not entry.name.startswith(".")
            )
    except OSError:
        return None
    if not names:
        return None
    return value + names[0][len(prefix) :]


def typed_path(value: str) -> Path:
    """A typed or pasted path: quotes and file:// (as terminals paste them) taken off."""
    text = value.strip().strip("'\"")
    if text.startswith("file://"):
        text = text[len("file://") :]
    return Path(os.path.expanduser(text))


class FilePickerScreen(ModalScreen[MediaFile | None]):
    """The path of a photo or file to send; dismissed with the checked MediaFile."""

    DEFAULT_CSS = """
    FilePickerScreen { align: center middle; }
    FilePickerScreen > Vertical {
        width: 84; max-width: 95%; height: auto; padding: 1 2;
        border: round $accent; background: $surface;
    }
    FilePickerScreen #picker-problem { color: $error; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Cancel the attachment", id="attach.close"),
    ]

    def __init__(self, where: str) -> None:
        super().__init__()
        self.where = where

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content.assemble("Send a photo or file to ", (self.where, "bold")))
            yield Static(
                f"Divar's chat takes {ALLOWED_WORDS}. Type a path (Tab or → completes) or "
                "paste one, then Enter.",
                classes="muted",
            )
            yield Input(value="~/", suggester=PathSuggester(), id="picker-path")
            yield Static("", id="picker-problem")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted, "#picker-path")
    def _submitted(self, event: Input.Submitted) -> None:
        self._check(event.value)

    @work(group="attach", exclusive=True)
    async def _check(self, value: str) -> None:
        problem = self.query_one("#picker-problem", Static)
        try:
            media = await asyncio.to_thread(check_file, typed_path(value))
        except MediaError as exc:
            problem.update(Content(clean_text(str(exc))))  # a file name is the user's text
            return
        self.dismiss(media)

    def action_close(self) -> None:
        self.dismiss(None)
