"""Editable button grids: what the composer and templates hold before Kenar's models judge them.

A draft may be incomplete while the user works on it (an empty caption, a half-typed link).
Every limit lives in `kenar_api.buttons` / `kenar_api.bodies`; this module only
asks those models and reports the first refusal as a `Problem` that says where it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError

from kenar_api.bodies import ChatbotMessageBody, SendMessageBody
from kenar_api.buttons import Action, Button, ButtonGrid, grid_problem
from kenar_core.errors import ButtonGridError, ProtocolError

Side = Literal["sender", "receiver"]
ActionKind = Literal["link", "server", "post", "post_manage"]
# The post-page actions (docs/widgets/actions/navigation_actions.md): their one field's name.
POST_ACTIONS: dict[str, str] = {"post": "open_post_page", "post_manage": "open_post_manage_page"}
# How a template file (TOML) names them: post_page = "{post_token}".
POST_ACTION_KEYS: dict[str, ActionKind] = {"post_page": "post", "post_manage_page": "post_manage"}
ReplyBody = SendMessageBody | ChatbotMessageBody

_ROW_FIELD = re.compile(r"rows\[(\d+)\]")


@dataclass
class ButtonDraft:
    """One button being edited: a caption, an icon and its action: a link, server-link data,
    or the post whose page (or management page) it opens."""

    caption: str = ""
    icon: str = ""
    kind: ActionKind = "link"
    url: str = ""
    data: dict[str, str] = field(default_factory=dict)
    post_token: str = ""

    def wire_dict(self) -> dict[str, Any]:
        """The button as Kenar's JSON shape (not yet validated)."""
        action: dict[str, Any]
        if self.kind == "server":
            action = {"open_server_link": {"data": dict(self.data)}}
        elif self.kind in POST_ACTIONS:
            action = {POST_ACTIONS[self.kind]: {"post_token": self.post_token}}
        else:
            action = {"open_direct_link": self.url}
        return {"action": action, "icon": self.icon, "caption": self.caption}

    def to_button(self) -> Button:
        """Kenar's model of this button; raises ButtonGridError with the model's sentence."""
        try:
            return Button.model_validate(self.wire_dict())
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ButtonGridError(f"{where}: {first['msg']}", field=where) from None

    def problems(self) -> list[ButtonGridError]:
        """Every refusal of Kenar's models, one per part (action; caption or icon)."""
        found: list[ButtonGridError] = []
        wire = self.wire_dict()
        try:
            Action.model_validate(wire["action"])
        except ButtonGridError as exc:
            found.append(exc)
        # The same Button model judges caption and icon, with an action known to be valid.
        labels = ButtonDraft(self.caption, self.icon, "server")
        try:
            labels.to_button()
        except ButtonGridError as exc:
            found.append(exc)
        return found

    def copy(self) -> ButtonDraft:
        return ButtonDraft(
            self.caption, self.icon, self.kind, self.url, dict(self.data), self.post_token
        )

    @classmethod
    def from_button(cls, button: Button) -> ButtonDraft:
        server = button.action.open_server_link
        if server is not None:
            data = {str(k): str(v) for k, v in server.data.items()}
            return cls(button.caption, button.icon, "server", "", data)
        action = button.action
        if action.open_post_page is not None:
            return cls(
                button.caption, button.icon, "post", post_token=action.open_post_page.post_token
            )
        if action.open_post_manage_page is not None:
            token = action.open_post_manage_page.post_token
            return cls(button.caption, button.icon, "post_manage", post_token=token)
        return cls(button.caption, button.icon, "link", button.action.open_direct_link or "")


def _as_rows(rows: list[list[ButtonDraft]]) -> list[dict[str, Any]]:
    return [{"buttons": row} for row in rows]


@dataclass
class GridDraft:
    """Rows of buttons; every change that would break Kenar's counts is refused."""

    rows: list[list[ButtonDraft]] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not any(self.rows)

    def copy(self) -> GridDraft:
        return GridDraft([[b.copy() for b in row] for row in self.rows])

    def _commit(self, rows: list[list[ButtonDraft]]) -> None:
        # The model's own count check decides; its sentence is what the user reads.
        grid_problem(_as_rows(rows))
        self.rows = rows

    def insert_button(self, row: int, column: int, button: ButtonDraft) -> None:
        """Put `button` at (row, column); a row index past the end starts a new row."""
        rows = [list(r) for r in self.rows]
        if row >= len(rows):
            rows.append([button])
        else:
            rows[row].insert(column, button)
        self._commit(rows)

    def insert_row(self, row: int, button: ButtonDraft) -> None:
        """Start a new row at index `row` holding `button`."""
        rows = [list(r) for r in self.rows]
        rows.insert(row, [button])
        self._commit(rows)

    def check_insert_button(self, row: int) -> None:
        """Raise ButtonGridError if one more button cannot go into `row`."""
        rows = [list(r) for r in self.rows]
        if row >= len(rows):
            rows.append([ButtonDraft()])
        else:
            rows[row].append(ButtonDraft())
        grid_problem(_as_rows(rows))

    def check_insert_row(self) -> None:
        """Raise ButtonGridError if one more row cannot be added."""
        grid_problem(_as_rows([*self.rows, [ButtonDraft()]]))

    def replace(self, row: int, column: int, button: ButtonDraft) -> None:
        self.rows[row][column] = button

    def remove_button(self, row: int, column: int) -> None:
        """Delete a button; a row left empty goes too (Kenar refuses empty rows)."""
        del self.rows[row][column]
        if not self.rows[row]:
            del self.rows[row]

    def remove_row(self, row: int) -> None:
        del self.rows[row]

    def move_within_row(self, row: int, column: int, delta: int) -> tuple[int, int]:
        """Swap a button with its neighbour; returns the button's new place."""
        target = column + delta
        buttons = self.rows[row]
        if not 0 <= target < len(buttons):
            return row, column
        buttons[column], buttons[target] = buttons[target], buttons[column]
        return row, target

    def move_across_rows(self, row: int, column: int, delta: int) -> tuple[int, int]:
        """Move a button to the row above or below (a new row past the last one)."""
        target = row + delta
        if target < 0 or (target >= len(self.rows) and len(self.rows[row]) == 1):
            return row, column
        rows = [list(r) for r in self.rows]
        button = rows[row].pop(column)
        if target >= len(rows):
            rows.append([])
        place = min(column, len(rows[target]))
        rows[target].insert(place, button)
        if not rows[row]:
            del rows[row]
            if target > row:
                target -= 1
        self._commit(rows)
        return target, place

    def move_row(self, row: int, delta: int) -> int:
        target = row + delta
        if not 0 <= target < len(self.rows):
            return row
        self.rows[row], self.rows[target] = self.rows[target], self.rows[row]
        return target

    def to_grid(self) -> ButtonGrid | None:
        """Kenar's grid, or None when there are no buttons (an empty grid is not sent)."""
        if self.is_empty:
            return None
        return ButtonGrid.of([[b.to_button() for b in row] for row in self.rows])

    @classmethod
    def from_grid(cls, grid: ButtonGrid | None) -> GridDraft:
        if grid is None:
            return cls()
        return cls([[ButtonDraft.from_button(b) for b in row.buttons] for row in grid.rows])


@dataclass(frozen=True)
class Problem:
    """Why a message cannot leave the composer, and where: the text or a grid's button/row."""

    message: str
    side: Side | None = None
    row: int | None = None
    column: int | None = None
    field: str = ""


BOT_SENDER_PROBLEM = (
    "a bot conversation has a single grid, shown to the user; remove the seller's buttons"
)


def _grid_problem(side: Side, draft: GridDraft) -> Problem | None:
    try:
        grid_problem(_as_rows(draft.rows))
    except ButtonGridError as exc:
        match = _ROW_FIELD.search(exc.field)
        row = int(match.group(1)) if match else None
        return Problem(str(exc), side, row, None, exc.field or "rows")
    for r, row_buttons in enumerate(draft.rows):
        for c, button in enumerate(row_buttons):
            try:
                button.to_button()
            except ButtonGridError as exc:
                return Problem(str(exc), side, r, c, exc.field)
    return None


def compose_body(
    text: str,
    sender: GridDraft,
    receiver: GridDraft,
    *,
    conversation_type: str = "POST",
) -> ReplyBody | Problem:
    """The body Kenar accepts for this message, or the first Problem that stops it.

    POST conversations get a SendMessageBody with both grids; BOT conversations a
    ChatbotMessageBody whose single grid is the receiver's (what the user sees).
    """
    bot = conversation_type == "BOT"
    if bot and not sender.is_empty:
        return Problem(BOT_SENDER_PROBLEM, "sender", 0, 0, "rows")
    sides: tuple[tuple[Side, GridDraft], ...] = (("sender", sender), ("receiver", receiver))
    for side, draft in sides:
        problem = _grid_problem(side, draft)
        if problem is not None:
            return problem
    try:
        if bot:
            return ChatbotMessageBody(text_message=text, buttons=receiver.to_grid())
        return SendMessageBody(
            message=text, sender_buttons=sender.to_grid(), receiver_buttons=receiver.to_grid()
        )
    except ProtocolError as exc:
        return Problem(str(exc), None, None, None, "message")
    except ValidationError as exc:
        return Problem(exc.errors()[0]["msg"], None, None, None, "message")
