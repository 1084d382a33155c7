"""The bottom line: the relay connection, the outbox and the most useful keys."""

from __future__ import annotations

from textual.reactive import reactive
from textual.widget import Widget


class StatusBar(Widget):
    """Relay state on the left, outbox counts in the middle, key hints on the right."""

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        background: $panel;
        color: $text-muted;
        padding: 0 1;
    }
    """

    relay: reactive[str] = reactive("relay: connecting…")
    relay_ok: reactive[bool] = reactive(False)
    outbox: reactive[str] = reactive("")
    hints: reactive[str] = reactive("")
    team_filter: reactive[str] = reactive("")  # "showing: mine" while the list is filtered
    keyring: reactive[str] = reactive("")  # "keyring locked: unlock it" (keyring_thread.py)

    # Watchers of the app's reactive state (KenarApp.relay_status, outbox_status, keyring_status).

    def show_relay(self, status: tuple[str, bool]) -> None:
        self.relay, self.relay_ok = status

    def show_outbox(self, summary: str) -> None:
        self.outbox = summary

    def show_keyring(self, problem: str) -> None:
        self.keyring = problem

    def render(self) -> str:
        colour = "$success" if self.relay_ok else "$warning"
        parts = [f"[{colour}]●[/] {self._escape(self.relay)}"]
        if self.keyring:
            parts.append(f"[b $warning]{self._escape(self.keyring)}[/]")
        if self.outbox:
            parts.append(self._escape(self.outbox))
        if self.team_filter:
            parts.append(f"[b $accent]{self._escape(self.team_filter)}[/]")
        left = "  ".join(parts)
        return f"{left}  [dim]{self._escape(self.hints)}[/]" if self.hints else left

    @staticmethod
    def _escape(text: str) -> str:
        return text.replace("[", "\\[")
