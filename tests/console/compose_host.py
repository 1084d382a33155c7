"""A tiny App that opens one of the composer's screens and keeps what it returns."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from textual.app import App
from textual.screen import Screen

NOT_YET = object()


class HostApp(App[None]):
    """Pushes the screen built by `factory` on mount; `result` holds its dismiss value."""

    def __init__(self, factory: Callable[[], Screen[Any]]) -> None:
        super().__init__()
        self._factory = factory
        self.result: Any = NOT_YET
        self.dismissed = asyncio.Event()

    def on_mount(self) -> None:
        self.push_screen(self._factory(), self._done)

    def _done(self, result: Any) -> None:
        self.result = result
        self.dismissed.set()
