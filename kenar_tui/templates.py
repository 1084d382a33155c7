"""Named reply templates kept in a human-editable TOML file in the config directory.

A template is text plus the two button grids, with placeholders such as `{post_title}` filled
from the conversation at hand (`{{` and `}}` are literal braces). Filling also applies to
button captions, links (values percent-encoded there) and server-link data values.

    [[template]]
    name = "قیمت مقطوع"
    text = "قیمت «{post_title}» مقطوع است."
    receiver_buttons = [
        [{ caption = "بازدید", icon = "CALENDAR_TEXT", server_data = { post = "{post_token}" } }],
    ]

Every problem in the file is a ConfigError naming the file and the line. Turning a template
back into TOML (keeping the file's comments) is kenar_tui/template_toml.py.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

import tomlkit
import tomlkit.items
from platformdirs import user_config_path

from kenar_api.buttons import grid_problem
from kenar_core.errors import ButtonGridError, ConfigError
from kenar_core.files import write_atomically
from kenar_tui.button_drafts import POST_ACTION_KEYS, ButtonDraft, GridDraft
from kenar_tui.template_toml import fill_table, new_table, render_template

PLACEHOLDERS = ("post_title", "post_token", "conversation_id", "buyer_last_message")
TEMPLATES_FILE = "templates.toml"
_GRID_KEYS = ("sender_buttons", "receiver_buttons")
_TEMPLATE_KEYS = frozenset({"name", "text", *_GRID_KEYS})
_BUTTON_KEYS = frozenset({"caption", "icon", "link", "server_data", *POST_ACTION_KEYS})
_HEADER = re.compile(r"^\s*\[\[\s*template\s*\]\]\s*(#.*)?$")
_TOML_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_SAMPLE = {name: "x" for name in PLACEHOLDERS}
_KEEP_OR_BRACE = re.compile(r"\{(?:" + "|".join(PLACEHOLDERS) + r")\}|[{}]")

FILE_INTRO = """\
# kenar-tui reply templates: one [[template]] table each, picked by name or number.
# Placeholders: {post_title} {post_token} {conversation_id} {buyer_last_message};
# write {{ and }} for a literal brace.
# sender_buttons (the seller sees them) and receiver_buttons (the buyer sees them) are up to
# 3 rows of up to 3 buttons, each { caption = "...", icon = "CALL", link = "https://..." }
# or { caption = "...", icon = "...", server_data = { key = "value" } }.
"""


def default_templates_path(config_dir: Path | None = None) -> Path:
    """`templates.toml` in the config directory (Settings.config_dir when given)."""
    return (config_dir or user_config_path("kenar-tui")) / TEMPLATES_FILE


def example_templates() -> str:
    """The example templates shipped with kenar-tui."""
    data = resources.files("kenar_tui").joinpath("data/templates.example.toml")
    return data.read_text(encoding="utf-8")


def ensure_templates_file(path: Path) -> Path:
    """Create the templates file from the shipped examples on first use."""
    if not path.exists():
        write_atomically(path, example_templates())
    return path


def _check_format(template: str, where: str, text: str) -> None:
    """Refuse unknown placeholders, format specs and lone braces, naming the template."""
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError:
        raise ConfigError(
            f"template «{template}», {where}: a lone {{ or }} (write {{{{ or }}}} for a brace)"
        ) from None
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            raise ConfigError(
                f"template «{template}», {where}: unknown placeholder {{{name}}}; known: {known}"
            )
        if spec or conversion:
            raise ConfigError(
                f"template «{template}», {where}: placeholders take no format: {{{name}}}"
            )


def keep_literal(text: str) -> str:
    """Template source for composed text: known placeholders stay, other braces are doubled."""
    return _KEEP_OR_BRACE.sub(lambda m: m.group() if len(m.group()) > 1 else m.group() * 2, text)


def _fill(text: str, context: Mapping[str, str], encode: bool = False) -> str:
    out: list[str] = []
    for literal, name, _spec, _conversion in string.Formatter().parse(text):
        out.append(literal)
        if name is not None:
            value = str(context.get(name, ""))
            out.append(quote(value, safe="") if encode else value)
    return "".join(out)


def _map_grid(grid: GridDraft, fill: Callable[[str, bool], str]) -> GridDraft:
    rows: list[list[ButtonDraft]] = []
    for row in grid.rows:
        rows.append(
            [
                ButtonDraft(
                    fill(b.caption, False),
                    b.icon,
                    b.kind,
                    fill(b.url, True),
                    {k: fill(v, False) for k, v in b.data.items()},
                    fill(b.post_token, False),
                )
                for b in row
            ]
        )
    return GridDraft(rows)


@dataclass
class FilledTemplate:
    """A template with its placeholders filled: ready for the composer."""

    name: str
    text: str
    sender: GridDraft
    receiver: GridDraft


@dataclass
class Template:
    name: str
    text: str
    sender: GridDraft = field(default_factory=GridDraft)
    receiver: GridDraft = field(default_factory=GridDraft)

    def check(self) -> None:
        """Raise ConfigError for a bad placeholder anywhere in the template."""
        if not self.name.strip():
            raise ConfigError("a template needs a name")
        _check_format(self.name, "text", self.text)
        for side, grid in (("sender_buttons", self.sender), ("receiver_buttons", self.receiver)):
            for r, row in enumerate(grid.rows, start=1):
                for c, b in enumerate(row, start=1):
                    where = f"{side} row {r} button {c}"
                    _check_format(self.name, f"{where} caption", b.caption)
                    _check_format(self.name, f"{where} link", b.url)
                    _check_format(self.name, f"{where} post token", b.post_token)
                    for k, v in b.data.items():
                        _check_format(self.name, f"{where} server_data.{k}", v)

    def fill(self, context: Mapping[str, str]) -> FilledTemplate:
        """Replace placeholders with the context's values (missing ones become empty)."""
        self.check()

        def fill(text: str, encode: bool) -> str:
            return _fill(text, context, encode)

        return FilledTemplate(
            self.name,
            fill(self.text, False),
            _map_grid(self.sender, fill),
            _map_grid(self.receiver, fill),
        )

    @classmethod
    def from_message(cls, name: str, text: str, sender: GridDraft, receiver: GridDraft) -> Template:
        """A template from a composed message; its braces stay literal unless placeholders."""

        def literal(value: str, _encode: bool) -> str:
            return keep_literal(value)

        return cls(
            name.strip(),
            keep_literal(text),
            _map_grid(sender, literal),
            _map_grid(receiver, literal),
        )


class _Source:
    """The file being read, for pointing errors at lines."""

    def __init__(self, path: Path, raw: str) -> None:
        self.path = path
        self.lines = raw.splitlines()
        self.headers = [n for n, line in enumerate(self.lines, start=1) if _HEADER.match(line)]

    def line_of(self, index: int, key: str | None = None) -> int:
        if index >= len(self.headers):
            return 1
        start = self.headers[index]
        end = self.headers[index + 1] if index + 1 < len(self.headers) else len(self.lines) + 1
        if key:
            pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
            for n in range(start, end):
                if pattern.match(self.lines[n - 1]):
                    return n
        return start

    def error(self, message: str, index: int = 0, key: str | None = None) -> ConfigError:
        return ConfigError(f"{self.path}, line {self.line_of(index, key)}: {message}")


def _parse_button(src: _Source, index: int, name: str, where: str, raw: Any) -> ButtonDraft:
    def bad(message: str) -> ConfigError:
        return src.error(f"template «{name}», {where}: {message}", index, where.split()[0])

    if not isinstance(raw, dict):
        raise bad("a button is an inline table { caption = ..., icon = ..., link = ... }")
    unknown = sorted(set(raw) - _BUTTON_KEYS)
    if unknown:
        raise bad(f"unknown key {unknown[0]!r}; a button has caption, icon and an action")
    caption, icon = raw.get("caption", ""), raw.get("icon", "")
    if not isinstance(caption, str) or not isinstance(icon, str):
        raise bad("caption and icon are strings")
    actions = [key for key in ("link", "server_data", *POST_ACTION_KEYS) if key in raw]
    if len(actions) != 1:
        raise bad("a button has one of link, server_data, post_page or post_manage_page")
    if actions[0] in POST_ACTION_KEYS:
        if not isinstance(raw[actions[0]], str):
            raise bad(f'{actions[0]} is a post token, e.g. "{{post_token}}"')
        return ButtonDraft(caption, icon, POST_ACTION_KEYS[actions[0]], post_token=raw[actions[0]])
    if "link" in raw:
        if not isinstance(raw["link"], str):
            raise bad("link is a string")
        return ButtonDraft(caption, icon, "link", raw["link"])
    data = raw["server_data"]
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise bad('server_data is a table of strings, e.g. { action = "book_viewing" }')
    return ButtonDraft(caption, icon, "server", "", dict(data))


def _parse_grid(src: _Source, index: int, name: str, side: str, raw: Any) -> GridDraft:
    if not isinstance(raw, list) or not all(isinstance(row, list) for row in raw):
        raise src.error(
            f"template «{name}»: {side} is a list of rows, each a list of buttons", index, side
        )
    rows = [
        [
            _parse_button(src, index, name, f"{side} row {r} button {c}", b)
            for c, b in enumerate(row, start=1)
        ]
        for r, row in enumerate(raw, start=1)
    ]
    try:
        grid_problem([{"buttons": row} for row in rows])
        sample = _map_grid(GridDraft(rows), lambda text, encode: _fill(text, _SAMPLE, encode))
        for r, row in enumerate(sample.rows, start=1):
            for c, button in enumerate(row, start=1):
                try:
                    button.to_button()
                except ButtonGridError as exc:
                    raise ButtonGridError(f"row {r} button {c}: {exc}") from None
    except ButtonGridError as exc:
        raise src.error(f"template «{name}», {side}: {exc}", index, side) from None
    return GridDraft(rows)


def _parse_template(src: _Source, index: int, raw: Any, seen: set[str]) -> Template:
    if not isinstance(raw, dict):
        raise src.error("a template is a [[template]] table", index)
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise src.error('a template needs a name (name = "...")', index, "name")
    if name in seen:
        raise src.error(f"a second template is named «{name}»", index, "name")
    unknown = sorted(set(raw) - _TEMPLATE_KEYS)
    if unknown:
        keys = ", ".join(sorted(_TEMPLATE_KEYS))
        raise src.error(f"template «{name}»: unknown key {unknown[0]!r}; known: {keys}", index)
    text = raw.get("text", "")
    if not isinstance(text, str):
        raise src.error(f"template «{name}»: text is a string", index, "text")
    grids = {side: _parse_grid(src, index, name, side, raw.get(side, [])) for side in _GRID_KEYS}
    template = Template(name, text, grids["sender_buttons"], grids["receiver_buttons"])
    try:
        template.check()
    except ConfigError as exc:
        raise src.error(str(exc), index) from None
    return template


def parse_templates(raw: str, path: Path) -> list[Template]:
    """Templates from TOML text; `path` only names the file in errors."""
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        at = _TOML_AT.search(message)
        if at:
            reason = message[: at.start()]
            raise ConfigError(
                f"{path}, line {at.group(1)}, column {at.group(2)}: {reason}"
            ) from None
        line = max(1, len(raw.splitlines()))
        raise ConfigError(f"{path}, line {line}: {message}") from None
    src = _Source(path, raw)
    unknown = sorted(set(data) - {"template"})
    if unknown:
        raise ConfigError(
            f"{path}: unknown key {unknown[0]!r}; the file holds [[template]] tables only"
        )
    tables = data.get("template", [])
    if not isinstance(tables, list):
        raise src.error("write each template as a [[template]] table")
    seen: set[str] = set()
    templates: list[Template] = []
    for index, table in enumerate(tables):
        template = _parse_template(src, index, table, seen)
        seen.add(template.name)
        templates.append(template)
    return templates


def load_templates(path: Path) -> list[Template]:
    """Read the templates file; a missing file holds no templates."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except UnicodeDecodeError:
        raise ConfigError(f"{path}, line 1: the file is not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    return parse_templates(raw, path)


def save_template(path: Path, template: Template) -> None:
    """Add `template` to the file, or replace the one with the same name in place.

    tomlkit keeps the rest of the file (comments, order, other templates) as written; a file
    that does not parse is left untouched and its error raised.
    """
    template.check()
    if not path.exists():
        write_atomically(path, FILE_INTRO + "\n" + render_template(template))
        return
    raw = path.read_text(encoding="utf-8")
    templates = parse_templates(raw, path)  # our checks, with line numbers, before any edit
    document = tomlkit.parse(raw)
    names = [t.name for t in templates]
    tables = document.get("template")
    if isinstance(tables, tomlkit.items.AoT) and template.name in names:
        fill_table(tables[names.index(template.name)], template)
    elif isinstance(tables, tomlkit.items.AoT):
        if not document.as_string().endswith("\n\n"):
            tables[-1].add(tomlkit.nl())  # a blank line between templates
        tables.append(new_table(template))
    else:
        # None yet, or an inline array of tables: written out as [[template]] tables.
        kept = [template if t.name == template.name else t for t in templates]
        if template.name not in names:
            kept.append(template)
        document.pop("template", None)
        document.append("template", tomlkit.aot())
        for each in kept:
            document["template"].append(new_table(each))
    write_atomically(path, tomlkit.dumps(document))
