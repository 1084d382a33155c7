"""Button grids under a chat message, with Kenar's limits enforced when a grid is built.

A grid has at most 3 rows of at most 3 buttons. A button has a non-empty caption, an icon
from the spec's list and exactly one action: `open_direct_link` (an http(s) URL) or
`open_server_link` (a `data` object that Divar hands back to the app's start URL).

Incoming bodies may spell the icon `icon_name` (the migration guide's spelling); we always
send `icon`.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_serializer,
    model_validator,
)

from kenar_api.icons import is_icon
from kenar_api.spellings import AcceptsOldSpellings
from kenar_core.errors import ButtonGridError

MAX_ROWS = 3
MAX_BUTTONS_PER_ROW = 3
MAX_CAPTION_LENGTH = 100
POST_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def check_url(url: str) -> str | None:
    """Why `url` is not an http(s) URL a button may open, or None when it is fine."""
    if not url or not url.strip():
        return "the link is empty"
    if url != url.strip() or any(c.isspace() for c in url):
        return "a link may not contain spaces"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return "a link must start with http:// or https://"
    if not parts.hostname:
        return "a link needs a host, e.g. https://example.com/path"
    return None


class OpenServerLink(BaseModel):
    """Divar asks the app's start URL where to go, passing `data` along."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    data: dict[str, Any] = Field(default_factory=dict)


def check_post_token(token: str) -> str | None:
    """Why `token` is not a post token a button may open, or None when it is fine."""
    if not token or not token.strip():
        return "the post token is empty"
    if not POST_TOKEN.fullmatch(token):
        return "a post token is letters, digits, - and _ (like gZd7omnS)"
    return None


class OpenPostPage(BaseModel):
    """Opens a post's public page (docs/widgets/actions/navigation_actions.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    post_token: str

    @model_validator(mode="after")
    def _check(self) -> OpenPostPage:
        problem = check_post_token(self.post_token)
        if problem:
            raise ButtonGridError(problem, field="post_token")
        return self


class OpenPostManagePage(OpenPostPage):
    """Opens a post's management page, which only its owner can see."""


ACTION_NAMES = ("open_direct_link", "open_server_link", "open_post_page", "open_post_manage_page")


class Action(BaseModel):
    """Exactly one of a direct link, a server link, a post page or a post's manage page."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    open_direct_link: str | None = None
    open_server_link: OpenServerLink | None = None
    open_post_page: OpenPostPage | None = None
    open_post_manage_page: OpenPostManagePage | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Action:
        chosen = [getattr(self, name) is not None for name in ACTION_NAMES]
        if sum(chosen) != 1:
            raise ButtonGridError(
                "a button needs exactly one action: "
                + ", ".join(ACTION_NAMES[:-1])
                + f" or {ACTION_NAMES[-1]}",
                field="action",
            )
        if self.open_direct_link is not None:
            problem = check_url(self.open_direct_link)
            if problem:
                raise ButtonGridError(problem, field="action.open_direct_link")
        return self

    @classmethod
    def direct(cls, url: str) -> Action:
        return cls(open_direct_link=url)

    @classmethod
    def server(cls, data: dict[str, Any] | None = None) -> Action:
        return cls(open_server_link=OpenServerLink(data=data or {}))

    @classmethod
    def post_page(cls, post_token: str) -> Action:
        return cls(open_post_page=OpenPostPage(post_token=post_token))

    @classmethod
    def post_manage_page(cls, post_token: str) -> Action:
        return cls(open_post_manage_page=OpenPostManagePage(post_token=post_token))

    @model_serializer(mode="wrap")
    def _only_the_chosen(self, handler: Any) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        return {k: v for k, v in data.items() if v is not None}


class Button(AcceptsOldSpellings):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    action: Action
    # The spec keeps `icon_name` as deprecated beside `icon`; when both come, `icon` wins.
    icon: str = Field(validation_alias=AliasChoices("icon", "icon_name"))
    caption: str

    @model_validator(mode="after")
    def _check(self) -> Button:
        if not self.caption.strip():
            raise ButtonGridError("a button's caption may not be empty", field="caption")
        if len(self.caption) > MAX_CAPTION_LENGTH:
            raise ButtonGridError(
                f"a caption has at most {MAX_CAPTION_LENGTH} characters", field="caption"
            )
        if not is_icon(self.icon):
            raise ButtonGridError(f"unknown icon {self.icon!r}", field="icon")
        return self


class ButtonRow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    buttons: tuple[Button, ...]


class ButtonGrid(BaseModel):
    """Up to 3 rows of up to 3 buttons. An empty grid is valid and is simply not sent."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    rows: tuple[ButtonRow, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _check_counts(cls, data: Any) -> Any:
        # Counted before the buttons are validated, so the user reads the limit first.
        rows = data.get("rows") if isinstance(data, dict) else None
        if isinstance(rows, list | tuple):
            grid_problem(rows)
            # Untrusted dict buttons are checked here, where their row and place are known.
            for number, row in enumerate(rows, start=1):
                buttons: Any = row.get("buttons") if isinstance(row, dict) else ()
                for place, button in enumerate(buttons, start=1):
                    if isinstance(button, dict):
                        _check_button_at(button, number, place)
        return data

    @property
    def is_empty(self) -> bool:
        return not self.rows

    def buttons(self) -> list[Button]:
        return [b for row in self.rows for b in row.buttons]

    @classmethod
    def of(cls, rows: list[list[Button]]) -> ButtonGrid:
        """Build a grid from lists of buttons, raising ButtonGridError past the limits."""
        return cls(rows=tuple(ButtonRow(buttons=tuple(r)) for r in rows))


def grid_problem(rows: Any) -> None:
    """Raise ButtonGridError naming the first row that breaks the count limits."""
    if len(rows) > MAX_ROWS:
        raise ButtonGridError(f"a grid has {len(rows)} rows; at most {MAX_ROWS}", field="rows")
    for number, row in enumerate(rows, start=1):
        buttons = row.get("buttons") if isinstance(row, dict) else getattr(row, "buttons", None)
        if not isinstance(buttons, list | tuple) or len(buttons) == 0:
            raise ButtonGridError(f"row {number} has no buttons", field=f"rows[{number - 1}]")
        if len(buttons) > MAX_BUTTONS_PER_ROW:
            raise ButtonGridError(
                f"row {number} has {len(buttons)} buttons; at most {MAX_BUTTONS_PER_ROW}",
                field=f"rows[{number - 1}]",
            )


def _check_button_at(button: dict[str, Any], row: int, place: int) -> None:
    # An untrusted button (a template, a webhook) is checked here so the sentence says where.
    try:
        Button.model_validate(button)
    except ButtonGridError as exc:
        where = f"rows[{row - 1}].buttons[{place - 1}]"
        raise ButtonGridError(
            f"row {row}, button {place}: {exc}",
            field=f"{where}.{exc.field}" if exc.field else where,
        ) from None
    except ValidationError:
        # Shape errors (a missing caption, a stray key) are reported by the grid's own parse.
        pass


def parse_grid(data: Any) -> ButtonGrid:
    """Parse an untrusted grid, turning every failure into one ButtonGridError sentence."""
    try:
        return ButtonGrid.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"])
        where = where.lstrip(".") or "grid"
        raise ButtonGridError(f"{_readable(first['loc'])}: {first['msg']}", field=where) from None


def _readable(loc: tuple[int | str, ...]) -> str:
    """('rows', 1, 'buttons', 0, 'caption') -> 'row 2, button 1, caption'."""
    parts: list[str] = []
    items = list(loc)
    while items:
        key = items.pop(0)
        index = items[0] if items else None
        if key in ("rows", "buttons") and isinstance(index, int):
            items.pop(0)
            parts.append(f"{str(key)[:-1]} {index + 1}")
        else:
            parts.append(str(key))
    return ", ".join(parts) or "the grid"
