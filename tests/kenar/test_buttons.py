"""Button grids: valid ones round-trip, none past Kenar's limits can be built."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kenar_api.buttons import Action, Button, ButtonGrid, OpenServerLink, parse_grid
from kenar_core.errors import ButtonGridError
from tests.kenar import strategies as s


def wire(grid: ButtonGrid) -> object:
    return json.loads(json.dumps(grid.model_dump(mode="json"), ensure_ascii=False))


@given(s.grids)
def test_valid_grids_round_trip(grid: ButtonGrid) -> None:
    """Any valid grid survives model -> wire JSON -> model unchanged."""
    data = wire(grid)
    assert ButtonGrid.model_validate(data) == grid
    assert parse_grid(data) == grid
    for button in (b for row in data["rows"] for b in row["buttons"]):  # type: ignore[index]
        assert set(button) == {"action", "icon", "caption"}
        assert len(button["action"]) == 1


@settings(max_examples=40)
@given(st.lists(s.rows, min_size=4, max_size=5))
def test_more_than_three_rows_cannot_be_built(rows: list[list[Button]]) -> None:
    """A grid of 4+ rows is refused, naming the count and the limit."""
    message = f"a grid has {len(rows)} rows; at most 3"
    with pytest.raises(ButtonGridError, match=message):
        ButtonGrid.of(rows)
    data = {"rows": [{"buttons": [b.model_dump(mode="json") for b in r]} for r in rows]}
    with pytest.raises(ButtonGridError, match=message):
        parse_grid(data)


@settings(max_examples=40)
@given(s.row_lists, st.data())
def test_a_row_of_four_or_more_cannot_be_built(
    rows: list[list[Button]], data: st.DataObject
) -> None:
    """A row of 4+ buttons is refused, naming the row (1-based) and its count."""
    crowded = data.draw(st.lists(s.buttons, min_size=4, max_size=6))
    where = data.draw(st.integers(min_value=0, max_value=min(len(rows), 2)))
    rows = [*rows[:where], crowded, *rows[where:]][:3]
    with pytest.raises(ButtonGridError) as caught:
        ButtonGrid.of(rows)
    assert str(caught.value) == f"row {where + 1} has {len(crowded)} buttons; at most 3"
    assert caught.value.field == f"rows[{where}]"


def test_the_documented_sentence_for_a_crowded_row() -> None:
    """The user reads exactly "row 2 has 4 buttons; at most 3"."""
    button = Button(action=Action.direct("https://divar.ir"), icon="INFO", caption="دیوار")
    with pytest.raises(ButtonGridError, match=r"^row 2 has 4 buttons; at most 3$"):
        ButtonGrid.of([[button], [button] * 4])


@given(s.row_lists, st.data())
def test_an_empty_row_cannot_be_built(rows: list[list[Button]], data: st.DataObject) -> None:
    """An empty row is refused, naming which one."""
    where = data.draw(st.integers(min_value=0, max_value=min(len(rows), 2)))
    rows = [*rows[:where], [], *rows[where:]][:3]
    with pytest.raises(ButtonGridError, match=rf"^row {where + 1} has no buttons$"):
        ButtonGrid.of(rows)


@given(s.icons, s.actions, st.text(alphabet=" \t\n\u3000", max_size=5))
def test_an_empty_caption_cannot_be_built(icon: str, action: Action, caption: str) -> None:
    """A blank caption is refused."""
    with pytest.raises(ButtonGridError, match="caption may not be empty") as caught:
        Button(action=action, icon=icon, caption=caption)
    assert caught.value.field == "caption"


@given(s.actions, s.captions, s.unknown_icons)
def test_an_unknown_icon_cannot_be_built(action: Action, caption: str, icon: str) -> None:
    """An icon outside the spec's list is refused, naming it."""
    with pytest.raises(ButtonGridError) as caught:
        Button(action=action, icon=icon, caption=caption)
    assert str(caught.value) == f"unknown icon {icon!r}"


BAD_URLS = [
    ("", "the link is empty"),
    ("   ", "the link is empty"),
    ("ftp://example.com/file", "a link must start with http:// or https://"),
    ("javascript:alert(1)", "a link must start with http:// or https://"),
    ("divar.ir/v/gZd7omnS", "a link must start with http:// or https://"),
    ("https://exa mple.com", "a link may not contain spaces"),
    (" https://example.com", "a link may not contain spaces"),
    ("https:///path-only", "a link needs a host"),
]


@pytest.mark.parametrize(("url", "problem"), BAD_URLS)
def test_a_bad_url_cannot_be_built(url: str, problem: str) -> None:
    """A direct link that is not an http(s) URL with a host is refused with the reason."""
    with pytest.raises(ButtonGridError) as caught:
        Action.direct(url)
    assert str(caught.value).startswith(problem)
    assert caught.value.field == "action.open_direct_link"


@given(s.urls, s.link_data)
def test_both_actions_cannot_be_built(url: str, data: dict[str, object]) -> None:
    """A button with both a direct and a server link is refused."""
    with pytest.raises(ButtonGridError, match="exactly one action"):
        Action(open_direct_link=url, open_server_link=OpenServerLink(data=data))


def test_no_action_cannot_be_built() -> None:
    """A button with no action at all is refused."""
    with pytest.raises(ButtonGridError, match="exactly one action"):
        Action()
    with pytest.raises(ButtonGridError, match="row 1, button 1: a button needs exactly one action"):
        parse_grid({"rows": [{"buttons": [{"action": {}, "icon": "INFO", "caption": "م"}]}]})


def test_parse_grid_names_the_bad_button() -> None:
    """An untrusted grid's error says which row and button is wrong."""
    good = {"action": {"open_direct_link": "https://divar.ir"}, "icon": "INFO", "caption": "خوب"}
    bad = {**good, "icon": "NOT_AN_ICON"}
    with pytest.raises(ButtonGridError) as caught:
        parse_grid({"rows": [{"buttons": [good]}, {"buttons": [good, bad]}]})
    assert str(caught.value) == "row 2, button 2: unknown icon 'NOT_AN_ICON'"
    assert caught.value.field == "rows[1].buttons[1].icon"
    with pytest.raises(ButtonGridError, match="row 1, button 1, caption: Field required"):
        parse_grid({"rows": [{"buttons": [{"action": good["action"], "icon": "INFO"}]}]})


def test_dynamic_actions_are_refused_in_chat() -> None:
    """open_post_page and open_post_manage_page are chat actions (addonsAction;
    docs/widgets/actions/navigation_actions.md, tests/kenar/test_posts_media.py); the add-ons'
    get_dynamic_action is not one we send, so it is refused in words."""
    with pytest.raises(ButtonGridError, match="get_dynamic_action"):
        parse_grid(
            {
                "rows": [
                    {
                        "buttons": [
                            {
                                "action": {"get_dynamic_action": {"data": {}}},
                                "icon": "INFO",
                                "caption": "آگهی",
                            }
                        ]
                    }
                ]
            }
        )


def test_empty_grid_is_valid_and_empty() -> None:
    """A grid with no rows is allowed (and simply not sent)."""
    assert ButtonGrid().is_empty
    assert ButtonGrid.of([]).buttons() == []
