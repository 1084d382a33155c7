"""Entries that belong to no conversation: access revocations, purged gaps, payments."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from kenar_tui.text import display


class NoticesScreen(ModalScreen[None]):
    """The latest notices, newest last; Escape closes."""

    DEFAULT_CSS = """
    NoticesScreen { align: center middle; }
    NoticesScreen > Vertical {
        width: 90%; max-width: 110; height: 70%;
        border: round $warning; background: $surface;
    }
    NoticesScreen DataTable { height: 1fr; }
    NoticesScreen Static { height: auto; padding: 0 1; color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close the notices", id="notices.close"),
    ]

    def __init__(self, notices: list[Any], format_time: Callable[[datetime], str]) -> None:
        super().__init__()
        self.notices = notices
        self.format_time = format_time

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                "Notices: events that belong to no conversation"
                if self.notices
                else "No notices: no access revocation, gap or payment has arrived."
            )
            table: DataTable[str | Text] = DataTable(cursor_type="row", zebra_stripes=True)
            table.add_columns("When", "Kind", "What happened")
            for notice in self.notices:
                # Text, not str: a DataTable reads str cells as markup, and these are Divar's.
                table.add_row(self.format_time(notice.at), notice.kind, Text(display(notice.text)))
            yield table

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.focus()
        if self.notices:
            table.move_cursor(row=len(self.notices) - 1)

    def action_close(self) -> None:
        self.dismiss(None)
