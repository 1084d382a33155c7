"""The encrypted file keyring's passphrase, asked inside the console once per session.

On a machine with no desktop keyring the console's secrets live in kenar-tui's encrypted file
(keyring_file.py). Its passphrase is asked here, in the console's own screen, before anything
reads the keyring, so no prompt ever waits hidden under the screen.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from kenar_tui.key_order import OrderedKeysApp
from kenar_tui.keyring_file import KeyringFileError, SessionFileKeyring
from kenar_tui.keyring_thread import keyring_call


class PassphraseScreen(ModalScreen[bool]):
    """Answers True once `keyring` is unlocked, False when the user gives up (Escape)."""

    DEFAULT_CSS = """
    PassphraseScreen { align: center middle; }
    PassphraseScreen > VerticalScroll {
        width: 72; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 2;
    }
    PassphraseScreen #passphrase-error { color: $error; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "give_up", "Quit without unlocking", id="passphrase.cancel"),
    ]

    def __init__(self, keyring: SessionFileKeyring) -> None:
        super().__init__()
        self.keyring = keyring
        self.new = not keyring.exists

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            if self.new:
                yield Static(
                    "No desktop keyring here: kenar-tui keeps its secrets in an encrypted file "
                    f"({self.keyring.file_path}). Choose its passphrase (asked once per session)."
                )
            elif self.keyring.migrating:
                yield Static(
                    f"Unlock kenar-tui's keyring ({self.keyring.legacy_path}): with its "
                    f"passphrase it moves to a stronger format, {self.keyring.file_path}."
                )
            else:
                yield Static(f"Unlock kenar-tui's keyring ({self.keyring.file_path}).")
            yield Label("Passphrase")
            yield Input(password=True, id="passphrase")
            if self.new:
                yield Label("The same passphrase again")
                yield Input(password=True, id="passphrase-again")
            yield Static("", id="passphrase-error")

    def on_mount(self) -> None:
        self.query_one("#passphrase", Input).focus()

    def action_give_up(self) -> None:
        self.dismiss(False)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        error = self.query_one("#passphrase-error", Static)
        passphrase = self.query_one("#passphrase", Input).value
        if not passphrase.strip():
            error.update("Type the passphrase (it cannot be empty).")
            return
        if self.new:
            again = self.query_one("#passphrase-again", Input)
            if event.input.id == "passphrase":
                again.focus()
                return
            if again.value != passphrase:
                error.update("The two passphrases differ; type them again.")
                return
        error.update("Unlocking…")
        self._unlock(passphrase)

    @work(exclusive=True, group="passphrase")
    async def _unlock(self, passphrase: str) -> None:
        error = self.query_one("#passphrase-error", Static)
        try:
            ok = await keyring_call(self.keyring.unlock, passphrase)
        except KeyringFileError as exc:  # damaged or replaced: its own sentence, no markup
            error.update(Text(str(exc)))
            return
        except Exception as exc:  # an unreadable file: say so, the user may quit
            error.update(f"The keyring file cannot be read ({type(exc).__name__}).")
            return
        if not ok:
            error.update("That is not this keyring's passphrase.")
            self.query_one("#passphrase", Input).value = ""
            return
        self.dismiss(True)


class UnlockApp(OrderedKeysApp[bool]):
    """Just the passphrase dialog: run before the console opens its cache."""

    def __init__(self, keyring: SessionFileKeyring) -> None:
        super().__init__()
        self.keyring = keyring

    def on_mount(self) -> None:
        self.push_screen(PassphraseScreen(self.keyring), self.exit)
