"""The app's keys as the help screen, the status bar and the command palette show them.

`binding_groups` (behind `KenarApp.key_groups`) lists every binding by where it works (the help
screen and the tests walk it); `short_key` is the status bar's compact form of a key;
`palette_commands` is what Ctrl+P offers (Textual's own commands, ours, and the main screen's
actions while it is on top).
They live here to keep app.py about wiring and status.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from textual.app import SystemCommand
from textual.binding import BindingType
from textual.screen import Screen

from kenar_tui.screens.compose import ButtonComposerScreen
from kenar_tui.screens.main import MainScreen
from kenar_tui.widgets.button_grid import ButtonGridEditor
from kenar_tui.widgets.composer import Composer
from kenar_tui.widgets.conversation_list import ConversationList
from kenar_tui.widgets.history_view import HistoryView

if TYPE_CHECKING:
    from kenar_tui.app import KenarApp


def short_key(key: str) -> str:
    """ "ctrl+g" -> "^G", "f1" -> "F1": the compact form for the status bar."""
    if key.startswith("ctrl+") and len(key) == 6:
        return "^" + key[-1].upper()
    return key.upper() if key.startswith("f") and key[1:].isdigit() else key


def binding_groups(app_bindings: Iterable[BindingType]) -> list[tuple[str, Iterable[BindingType]]]:
    """Every binding the help screen lists, by where it works."""
    return [
        ("everywhere", app_bindings),
        ("main screen", MainScreen.BINDINGS),  # the list, the history and the reply box
        ("conversation list", ConversationList.BINDINGS),
        ("history", HistoryView.BINDINGS),
        ("reply box", Composer.BINDINGS),
        ("button composer", ButtonComposerScreen.BINDINGS),
        ("button grid", ButtonGridEditor.BINDINGS),
    ]


# The main screen's actions the palette offers: title, help text, the screen's action.
MAIN_SCREEN_COMMANDS = (
    ("Next unanswered buyer", "Go to the buyer who has waited longest", "next_unanswered"),
    ("Next conversation", "Select the next conversation", "step(1)"),
    ("Previous conversation", "Select the previous conversation", "step(-1)"),
    ("Jump to a post", "Pick a post by title or token", "jump_post"),
    ("Search messages", "Search every stored message", "search"),
    ("Open a conversation by id", "Read or start any conversation", "open_conversation"),
    ("Mark read or unread", "Toggle the open conversation's unread mark", "toggle_unread"),
    ("Export the conversation", "Write it to a text file", "export"),
    ("Reply", "Focus the reply box", "focus_reply"),
    ("Notices", "Access revocations, gaps and payments", "notices"),
    ("Take or release", "Assign the open conversation to yourself, or release it", "take"),
    ("Give to a teammate", "Assign the open conversation to someone", "give"),
    ("Filter the list", "Everyone's, mine, unassigned", "cycle_filter"),
)


def palette_commands(
    app: KenarApp, screen: Screen[Any], textual_commands: Iterable[SystemCommand]
) -> Iterable[SystemCommand]:
    """Textual's commands (less its "Keys"), then ours; the main screen's while it is on top."""
    for command in textual_commands:
        if command.title != "Keys":  # ours below lists every binding; one "Keys" entry
            yield command
    yield SystemCommand("Connection", "Relay URL and token: test, save", app.action_connection)
    if not isinstance(screen, MainScreen):
        return
    for title, help_text, action in MAIN_SCREEN_COMMANDS:
        yield SystemCommand(title, help_text, lambda a=action: app.call_later(screen.run_action, a))
    yield SystemCommand("Log in to Divar", "For a post or all posts", app.action_login)
    yield SystemCommand("Keys", "Show every key binding", app.action_help)
