"""Writing reply templates as TOML tables a person would have written, comments kept.

It is its own part because writing is a different job from reading: reading checks a file and
points at its lines (kenar_tui/templates.py), writing turns a `Template` back into a
`[[template]]` table with tomlkit, each grid one row of inline tables a line, and edits an
existing table key by key so that the comments around it stay where the user put them.
`save_template` in kenar_tui/templates.py decides which table to write; `render_template`
is re-exported there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import tomlkit
import tomlkit.items

from kenar_tui.button_drafts import POST_ACTIONS, ButtonDraft, GridDraft

if TYPE_CHECKING:  # templates.py imports this module: the class is only named here
    from kenar_tui.templates import Template

__all__ = ["fill_table", "new_table", "render_template"]


def _button_table(button: ButtonDraft) -> dict[str, Any]:
    table: dict[str, Any] = {"caption": button.caption, "icon": button.icon}
    if button.kind == "server":
        table["server_data"] = dict(button.data)
    elif button.kind in POST_ACTIONS:
        table[POST_ACTIONS[button.kind].removeprefix("open_")] = button.post_token
    else:
        table["link"] = button.url
    return table


def _string(text: str) -> tomlkit.items.String:
    """A basic string; text with newlines as a triple-quoted block so it reads as written."""
    return tomlkit.string(text, multiline="\n" in text)


def _grid_array(grid: GridDraft) -> tomlkit.items.Array:
    """`[[{...}, {...}], ...]`: one row of inline tables a line, as a person would write it."""
    rows = tomlkit.array()
    for row in grid.rows:
        buttons = tomlkit.array()
        for button in row:
            table = tomlkit.inline_table()
            table.update(_button_table(button))
            buttons.append(table)
        rows.append(buttons)
    return rows.multiline(True)


def fill_table(table: tomlkit.items.Table, template: Template) -> None:
    """Write `template` into `table` key by key, so the table's own comments stay put.

    Comments and blank lines at the table's end belong to the next template (tomlkit files
    them under this one): new keys go above them.
    """
    body = table.value.body
    trailing: list[tomlkit.items.Comment | tomlkit.items.Whitespace] = []
    while body and body[-1][0] is None:
        item = body.pop()[1]
        assert isinstance(item, tomlkit.items.Comment | tomlkit.items.Whitespace)  # keyless
        trailing.insert(0, item)
    table["name"] = _string(template.name)
    table["text"] = _string(template.text)
    for side, grid in (
        ("sender_buttons", template.sender),
        ("receiver_buttons", template.receiver),
    ):
        if grid.is_empty:
            table.pop(side, None)
        else:
            table[side] = _grid_array(grid)
    for kept in trailing:
        table.add(kept)


def render_template(template: Template) -> str:
    """One [[template]] table, as a person would write it."""
    document = tomlkit.document()
    document.append("template", tomlkit.aot())
    document["template"].append(new_table(template))
    return tomlkit.dumps(document)


def new_table(template: Template) -> tomlkit.items.Table:
    table = tomlkit.table()
    fill_table(table, template)
    return table
