"""Reply templates: a human-editable TOML file, filled per conversation, errors by file and line."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.widgets import OptionList

from kenar_api.bodies import SendMessageBody
from kenar_core.errors import ConfigError
from kenar_tui.button_drafts import ButtonDraft, GridDraft, compose_body
from kenar_tui.dialogs.template_picker import TemplatePickerScreen
from kenar_tui.templates import (
    PLACEHOLDERS,
    Template,
    default_templates_path,
    ensure_templates_file,
    example_templates,
    load_templates,
    parse_templates,
    save_template,
)
from tests.console.compose_host import HostApp

CONTEXT = {
    "post_title": "پژو ۲۰۶ مدل ۱۳۹۸",
    "post_token": "gZd7omnS",
    "conversation_id": "edbb9499-cccc-4d35-b21f-621fa95f2b3e",
    "buyer_last_message": "سلام، هنوز موجوده؟",
}

VIEWING = """\
[[template]]
name = "viewing"
text = "«{post_title}» موجود است. {{آکولاد}}"
sender_buttons = [
    [{ caption = "آگهی {post_token}", icon = "LINK", link = "https://divar.ir/s?q={post_title}" }],
]
receiver_buttons = [
[{ caption = "v", icon = "CALL", server_data = { p = "{post_token}", c = "{conversation_id}" } }],
]
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "templates.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_fill_replaces_placeholders_in_text_captions_links_and_data(tmp_path: Path) -> None:
    """Placeholders are filled everywhere; link values are percent-encoded, braces kept."""
    (template,) = load_templates(_write(tmp_path, VIEWING))
    filled = template.fill(CONTEXT)
    assert filled.text == "«پژو ۲۰۶ مدل ۱۳۹۸» موجود است. {آکولاد}"
    link = filled.sender.rows[0][0]
    assert link.caption == "آگهی gZd7omnS"
    assert link.url.startswith("https://divar.ir/s?q=%D9%BE%DA%98%D9%88%20")
    server = filled.receiver.rows[0][0]
    assert server.data == {"p": "gZd7omnS", "c": CONTEXT["conversation_id"]}
    body = compose_body(filled.text, filled.sender, filled.receiver)
    assert isinstance(body, SendMessageBody)


def test_shipped_examples_load_fill_and_make_valid_bodies() -> None:
    """Every example template fills into a body Kenar accepts."""
    templates = parse_templates(example_templates(), Path("templates.example.toml"))
    assert len(templates) >= 4
    for template in templates:
        filled = template.fill(CONTEXT)
        body = compose_body(filled.text, filled.sender, filled.receiver)
        assert isinstance(body, SendMessageBody), (template.name, body)
    first = templates[0].fill(CONTEXT).receiver.rows[0][0]
    assert (first.caption, first.kind) == ("رزرو بازدید", "server")


def test_examples_are_copied_to_the_config_dir_on_first_use() -> None:
    """The templates file appears in the (isolated) config directory, holding the examples."""
    path = default_templates_path()
    assert not path.exists()
    ensure_templates_file(path)
    assert path.read_text(encoding="utf-8") == example_templates()
    path.write_text("# mine\n", encoding="utf-8")
    ensure_templates_file(path)
    assert path.read_text(encoding="utf-8") == "# mine\n"


def test_malformed_toml_names_file_and_line(tmp_path: Path) -> None:
    """A TOML syntax error is a ConfigError naming the file, line and column."""
    path = _write(tmp_path, '[[template]]\nname = "a"\ntext = "unclosed\n')
    with pytest.raises(ConfigError) as caught:
        load_templates(path)
    assert str(caught.value).startswith(f"{path}, line 3, column ")


def test_unknown_placeholder_names_template_and_line(tmp_path: Path) -> None:
    """`{price}` is not a placeholder: the error names the template, the placeholder and line."""
    text = VIEWING + '\n[[template]]\nname = "price"\n\ntext = "قیمت {price}"\n'
    with pytest.raises(ConfigError) as caught:
        load_templates(_write(tmp_path, text))
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'templates.toml'}, line 11: template «price»")
    assert "unknown placeholder {price}" in message
    assert all("{" + p + "}" in message for p in PLACEHOLDERS)


def test_lone_brace_is_explained(tmp_path: Path) -> None:
    """A single `{` tells the user to double it."""
    with pytest.raises(ConfigError, match=r"line 1: template «b», text: a lone \{ or \}"):
        load_templates(_write(tmp_path, '[[template]]\nname = "b"\ntext = "x { y"\n'))


def test_schema_errors_point_at_the_key_in_the_right_template(tmp_path: Path) -> None:
    """A grid breaking Kenar's limits is reported at that template's grid line."""
    four = ", ".join(['{ caption = "c", icon = "CALL", link = "https://divar.ir/" }'] * 4)
    text = VIEWING + f'\n[[template]]\nname = "four"\ntext = "x"\nreceiver_buttons = [[{four}]]\n'
    with pytest.raises(ConfigError) as caught:
        load_templates(_write(tmp_path, text))
    assert str(caught.value) == (
        f"{tmp_path / 'templates.toml'}, line 14: template «four», receiver_buttons: "
        "row 1 has 4 buttons; at most 3"
    )


@pytest.mark.parametrize(
    ("button", "expected"),
    [
        ('{ caption = "c", icon = "NOPE", link = "https://divar.ir/" }', "unknown icon 'NOPE'"),
        ('{ caption = "", icon = "CALL", link = "https://divar.ir/" }', "caption may not be empty"),
        ('{ caption = "c", icon = "CALL", link = "divar.ir" }', "must start with http"),
        (
            '{ caption = "c", icon = "CALL" }',
            "one of link, server_data, post_page or post_manage_page",
        ),
        ('{ caption = "c", icon = "CALL", server_data = { n = 1 } }', "table of strings"),
    ],
)
def test_bad_buttons_are_refused_with_the_models_sentence(
    tmp_path: Path, button: str, expected: str
) -> None:
    """Each button is judged by Kenar's model (with placeholders filled) at load time."""
    text = f'[[template]]\nname = "t"\ntext = "x"\n\nsender_buttons = [[{button}]]\n'
    with pytest.raises(ConfigError, match=r"line 5: template «t», sender_buttons") as caught:
        load_templates(_write(tmp_path, text))
    assert expected in str(caught.value)


def test_duplicate_names_are_refused(tmp_path: Path) -> None:
    """Two templates with one name are an error at the second one."""
    text = '[[template]]\nname = "a"\n\n[[template]]\nname = "a"\n'
    with pytest.raises(ConfigError, match="line 5: a second template is named «a»"):
        load_templates(_write(tmp_path, text))


def _sample(name: str, text: str) -> Template:
    sender = GridDraft(
        [[ButtonDraft('say "hi" \\ ok', "CALL", "link", "https://divar.ir/v/{post_token}")]]
    )
    receiver = GridDraft(
        [
            [
                ButtonDraft(
                    "رزرو", "CALENDAR_TEXT", "server", "", {"a b": "x\ny", "post": "{post_token}"}
                )
            ],
            [ButtonDraft("نقشه", "MAP_MARKER", "server")],
        ]
    )
    return Template(name, text, sender, receiver)


def test_save_round_trips_and_replaces_in_place(tmp_path: Path) -> None:
    """Saving appends or replaces by name, keeps comments and other templates, reads back equal."""
    path = _write(tmp_path, "# my own notes\n\n" + VIEWING + "\n# about the next one\n")
    first = _sample("new", 'line one\n\tline «two» with "quotes" and {{braces}}\n')
    save_template(path, first)
    assert load_templates(path)[1] == first
    replaced = Template("viewing", "دیگر موجود نیست.")
    save_template(path, replaced)
    raw = path.read_text(encoding="utf-8")
    assert raw.startswith('# my own notes\n\n[[template]]\nname = "viewing"\n')
    assert "# about the next one\n" in raw
    assert load_templates(path) == [replaced, first]


def test_save_leaves_a_broken_file_alone(tmp_path: Path) -> None:
    """A file that does not parse is not overwritten; its error is raised instead."""
    path = _write(tmp_path, "[[template]\n")
    with pytest.raises(ConfigError, match="line 1"):
        save_template(path, Template("x", "y"))
    assert path.read_text(encoding="utf-8") == "[[template]\n"


async def test_picker_number_key_fills_the_template(tmp_path: Path) -> None:
    """Pressing 2 picks the second template, filled from the conversation."""
    path = tmp_path / "templates.toml"
    app = HostApp(lambda: TemplatePickerScreen(path, CONTEXT))
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("2")
        await asyncio.wait_for(app.dismissed.wait(), timeout=10)
    expected = load_templates(path)[1].fill(CONTEXT)
    assert app.result == expected
    assert "پژو ۲۰۶ مدل ۱۳۹۸" in app.result.text


async def test_picker_fuzzy_search_then_enter(tmp_path: Path) -> None:
    """Typing part of a name narrows the list; Enter picks the best match."""
    path = _write(tmp_path, VIEWING + '\n[[template]]\nname = "price is final"\ntext = "ثابت"\n')
    app = HostApp(lambda: TemplatePickerScreen(path, CONTEXT))
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("p", "r", "f")
        assert app.screen.query_one(OptionList).option_count == 1
        await pilot.press("enter")
        await asyncio.wait_for(app.dismissed.wait(), timeout=10)
    assert app.result.name == "price is final"


async def test_picker_shows_a_broken_file_and_keeps_running(tmp_path: Path) -> None:
    """A malformed templates file is reported by file and line; the console carries on."""
    path = _write(tmp_path, '[[template]]\nname = "a"\ntext = "{who}"\n')
    app = HostApp(lambda: TemplatePickerScreen(path, CONTEXT))
    async with app.run_test(size=(100, 32)) as pilot:
        picker = app.screen
        assert isinstance(picker, TemplatePickerScreen)
        assert picker.problem.startswith(f"{path}, line 1: template «a»")
        assert "unknown placeholder {who}" in picker.problem
        path.write_text('[[template]]\nname = "a"\ntext = "{post_token}"\n', encoding="utf-8")
        picker.reload()
        assert picker.problem == ""
        await pilot.press("1")
        await asyncio.wait_for(app.dismissed.wait(), timeout=10)
    assert app.result.text == "gZd7omnS"


async def test_picker_search_is_persian_aware(tmp_path: Path) -> None:
    """Typing with Arabic ي/ك finds a template written with Persian ی/ک."""
    path = tmp_path / "templates.toml"
    app = HostApp(lambda: TemplatePickerScreen(path, CONTEXT))
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press(*"قيمت")
        await pilot.press("enter")
        await asyncio.wait_for(app.dismissed.wait(), timeout=10)
    assert app.result.name == "قیمت مقطوع است"
