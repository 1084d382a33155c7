"""ButtonGridEditor: one side's button grid, edited from the keyboard.

Arrows move between buttons; buttons and rows are added, deleted and reordered here, and
every change goes through `GridDraft`, whose refusals carry Kenar's own sentence. Editing
a button's fields is the screen's job: the editor asks with `EditRequested`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.events import Resize
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from kenar_api.buttons import MAX_BUTTONS_PER_ROW, MAX_ROWS
from kenar_core.errors import ButtonGridError
from kenar_tui.button_drafts import ButtonDraft, GridDraft, Problem, Side
from kenar_tui.widgets.button_boxes import box_of, draw_row
from kenar_tui.widgets.rtl import bidi_of


class ButtonGridEditor(Widget, can_focus=True):
    """A grid of up to 3×3 buttons with a cursor, its counts and its latest problem."""

    DEFAULT_CSS = """
    ButtonGridEditor {
        height: auto;
        min-height: 8;
        border: round $surface-lighten-2;
        padding: 0 0 0 1;
    }
    ButtonGridEditor:focus-within, ButtonGridEditor:focus {
        border: round $accent;
    }
    ButtonGridEditor .grid-title { text-style: bold; }
    ButtonGridEditor .grid-problem { color: $error; text-style: bold; }
    ButtonGridEditor .grid-status { color: $success; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move_cursor(-1, 0)", "up", show=False, id="grid.cursor_up"),
        Binding("down", "move_cursor(1, 0)", "down", show=False, id="grid.cursor_down"),
        Binding("left", "move_cursor(0, -1)", "left", show=False, id="grid.cursor_left"),
        Binding("right", "move_cursor(0, 1)", "right", show=False, id="grid.cursor_right"),
        Binding("enter", "edit", "edit", id="grid.edit"),
        Binding("a", "add_button", "add", id="grid.add_button"),
        Binding("n", "add_row", "new row", id="grid.add_row"),
        Binding("d,delete", "delete_button", "delete", id="grid.delete_button"),
        Binding("D", "delete_row", "delete row", show=False, id="grid.delete_row"),
        Binding("shift+left", "move_button(0, -1)", "move left", show=False, id="grid.move_left"),
        Binding("shift+right", "move_button(0, 1)", "move right", show=False, id="grid.move_right"),
        Binding("shift+up", "move_button(-1, 0)", "to row above", show=False, id="grid.move_up"),
        Binding("shift+down", "move_button(1, 0)", "to row below", show=False, id="grid.move_down"),
        Binding("ctrl+up", "move_row(-1)", "row up", show=False, id="grid.row_up"),
        Binding("ctrl+down", "move_row(1)", "row down", show=False, id="grid.row_down"),
    ]

    @dataclass
    class Changed(Message):
        """The grid's buttons changed."""

        editor: ButtonGridEditor

        @property
        def control(self) -> ButtonGridEditor:
            return self.editor

    @dataclass
    class EditRequested(Message):
        """Open the button editor for (row, column); `is_new` when adding."""

        editor: ButtonGridEditor
        row: int
        column: int
        button: ButtonDraft
        is_new: bool
        new_row: bool = False

        @property
        def control(self) -> ButtonGridEditor:
            return self.editor

    def __init__(
        self,
        draft: GridDraft,
        *,
        side: Side,
        title: str,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.draft = draft
        self.side: Side = side
        self.title = title
        self.cursor: tuple[int, int] = (0, 0)
        self._problem = ""
        self._status = ""
        self._flagged: tuple[int, int] | None = None

    def compose(self) -> ComposeResult:
        yield Static(classes="grid-title")
        yield Static(classes="grid-canvas")
        yield Static(classes="grid-problem")

    def on_mount(self) -> None:
        self.redraw()

    def on_resize(self, event: Resize) -> None:
        self.redraw()

    # -- what the screen reads and sets ------------------------------------------------

    @property
    def problem(self) -> str:
        return self._problem

    def show_problem(self, problem: Problem | None) -> None:
        """Show a problem found when the message was checked, with its button highlighted."""
        if problem is None:
            self._problem, self._flagged = "", None
        else:
            where = ""
            if problem.row is not None:
                where = f"row {problem.row + 1}"
                if problem.column is not None:
                    where += f", button {problem.column + 1}"
                    self._flagged = (problem.row, problem.column)
                    self.cursor = (problem.row, problem.column)
                where += ": "
            self._problem = where + problem.message
        self.redraw()

    def apply_edit(self, message: EditRequested, button: ButtonDraft) -> None:
        """Store the edited button where the request said (a new one is inserted)."""
        try:
            if message.new_row:
                self.draft.insert_row(message.row, button)
            elif message.is_new:
                self.draft.insert_button(message.row, message.column, button)
            else:
                self.draft.replace(message.row, message.column, button)
        except ButtonGridError as exc:
            self._refuse(exc)
            return
        self.cursor = (message.row, message.column)
        self._changed("")

    # -- drawing ---------------------------------------------------------------------

    def redraw(self) -> None:
        if not self.is_mounted:
            return
        rows = self.draft.rows
        count = f"rows {len(rows)}/{MAX_ROWS}"
        self.query_one(".grid-title", Static).update(
            Text.assemble(self.title, "  ", (count, "dim"))
        )
        width = max(30, self.content_region.width or 46)
        canvas = Text()
        bidi = bidi_of(self)
        if not rows:
            canvas.append("no buttons yet: a adds one", "dim italic")
        for r, row in enumerate(rows):
            if r:
                canvas.append("\n")
            canvas.append(f"row {r + 1}: {len(row)}/{MAX_BUTTONS_PER_ROW}\n", "dim")
            cursor = self.cursor[1] if self.cursor[0] == r and self.has_focus else None
            flagged = self._flagged[1] if self._flagged and self._flagged[0] == r else None
            canvas.append_text(
                draw_row([box_of(b, bidi=bidi) for b in row], width, cursor=cursor, flagged=flagged)
            )
        self.query_one(".grid-canvas", Static).update(canvas)
        line = Text(self._problem, "bold") if self._problem else Text(self._status, "dim")
        self.query_one(".grid-problem", Static).update(line)

    def on_focus(self) -> None:
        self.redraw()

    def on_blur(self) -> None:
        self.redraw()

    # -- actions ---------------------------------------------------------------------

    def _clamp(self, row: int, column: int) -> tuple[int, int]:
        rows = self.draft.rows
        if not rows:
            return (0, 0)
        row = max(0, min(row, len(rows) - 1))
        return row, max(0, min(column, len(rows[row]) - 1))

    def _refuse(self, exc: ButtonGridError) -> None:
        self._problem = str(exc)
        self.redraw()
        self.app.bell()

    def _changed(self, status: str) -> None:
        self._problem, self._flagged, self._status = "", None, status
        self.cursor = self._clamp(*self.cursor)
        self.redraw()
        self.post_message(self.Changed(self))

    def action_move_cursor(self, rows: int, columns: int) -> None:
        row, column = self.cursor
        self.cursor = self._clamp(row + rows, column + columns)
        self.redraw()

    def action_edit(self) -> None:
        if not self.draft.rows:
            self.action_add_button()
            return
        row, column = self.cursor
        button = self.draft.rows[row][column].copy()
        self.post_message(self.EditRequested(self, row, column, button, is_new=False))

    def action_add_button(self) -> None:
        """Add a button after the cursor, in the cursor's row (the first row when empty)."""
        row, column = self.cursor
        try:
            self.draft.check_insert_button(row)
        except ButtonGridError as exc:
            self._refuse(exc)
            return
        at = column + 1 if self.draft.rows else 0
        self.post_message(self.EditRequested(self, row, at, ButtonDraft(), is_new=True))

    def action_add_row(self) -> None:
        """Start a new row below the cursor's row with one new button."""
        try:
            self.draft.check_insert_row()
        except ButtonGridError as exc:
            self._refuse(exc)
            return
        row = self.cursor[0] + 1 if self.draft.rows else 0
        self.post_message(
            self.EditRequested(self, row, 0, ButtonDraft(), is_new=True, new_row=True)
        )

    def action_delete_button(self) -> None:
        if not self.draft.rows:
            return
        row, column = self.cursor
        caption = self.draft.rows[row][column].caption
        self.draft.remove_button(row, column)
        self._changed(f"deleted «{caption}»")

    def action_delete_row(self) -> None:
        if not self.draft.rows:
            return
        row = self.cursor[0]
        self.draft.remove_row(row)
        self._changed(f"deleted row {row + 1}")

    def action_move_button(self, rows: int, columns: int) -> None:
        if not self.draft.rows:
            return
        try:
            if rows:
                self.cursor = self.draft.move_across_rows(*self.cursor, rows)
            else:
                self.cursor = self.draft.move_within_row(*self.cursor, columns)
        except ButtonGridError as exc:
            self._refuse(exc)
            return
        self._changed("")

    def action_move_row(self, delta: int) -> None:
        if not self.draft.rows:
            return
        row = self.draft.move_row(self.cursor[0], delta)
        self.cursor = (row, self.cursor[1])
        self._changed("")
