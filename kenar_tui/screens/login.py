"""Logging in to Divar from the console: for some posts or all, through the relay or a paste.

The same steps as `kenar-tui login` (kenar_tui.auth): the screen builds a `LoginFlow`, announces
its state on the console's own relay connection, then shows the authorize URL (and a QR code
when it fits), opens a browser when there is a display, and waits for the code, or for the
address the browser landed on, pasted. The code is exchanged, the tokens stored and the
subscriptions made; the screen says what was granted and until when, or what went wrong.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, SelectionList, Static

from kenar_core.errors import CredentialError, KenarTuiError
from kenar_tui.auth.cli_support import redirect_uri_of
from kenar_tui.auth.login import LoginFlow, LoginOutcome, finish_login
from kenar_tui.auth.presenting import has_display, open_in_browser, qr_text, text_size
from kenar_tui.auth.requirements import login_problems
from kenar_tui.keyring_thread import keyring_call
from kenar_tui.screens.post_choices import UserPostChoices, load_user_posts

_log = logging.getLogger("kenar_tui.screens.login")

# The user's time to approve in the browser; after it the screen says so.
APPROVAL_S = 600.0


def split_posts(text: str) -> list[str]:
    """Post tokens typed with spaces or commas between them."""
    return [p for p in text.replace(",", " ").split() if p]


class LoginScreen(ModalScreen[LoginOutcome | None]):
    """Answers the finished login (or None when closed before one finished)."""

    DEFAULT_CSS = """
    LoginScreen { align: center middle; }
    LoginScreen > VerticalScroll {
        width: 100; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 2;
    }
    LoginScreen .title { text-style: bold; color: $accent; }
    LoginScreen .muted { color: $text-muted; }
    LoginScreen Horizontal { height: auto; }
    LoginScreen #login-posts { width: 1fr; }
    LoginScreen #login-problems { color: $error; height: auto; }
    LoginScreen #login-url { color: $accent; height: auto; }
    LoginScreen #login-qr { height: auto; width: auto; }
    LoginScreen #login-status { height: auto; }
    LoginScreen .-failed { color: $error; }
    LoginScreen .-done { color: $success; }
    LoginScreen .-hidden { display: none; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close the login", id="login.close"),
        Binding("f2", "copy_url", "Copy the login address", id="login.copy"),
        Binding("f3", "open_url", "Open the login address in the browser", id="login.open"),
    ]

    def __init__(
        self,
        settings: Any,
        credentials: Any,
        *,
        kenar: Any | None,
        link: Any | None,
        post: str | None = None,
        format_time: Callable[[datetime], str] = lambda moment: f"{moment:%Y-%m-%d %H:%M %Z}",
        on_login: Callable[[LoginOutcome], None] | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.credentials = credentials
        self.link = link
        self.post = post or ""
        self.format_time = format_time
        self.on_login = on_login
        self.flow: LoginFlow | None = None
        self.outcome: LoginOutcome | None = None
        self._kenar = kenar
        self._own_kenar: Any | None = None  # opened here when the console has none (no relay)

    # --- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        problems: list[str] = []  # read off the loop once mounted (_check_problems)
        with VerticalScroll():
            yield Static("Log in to Divar", classes="title")
            yield Static(
                "Lets this console read and answer the chats of some posts, or of all your "
                "posts. Divar asks you to approve in a browser (or on your phone).",
                classes="muted",
            )
            yield Static(
                "\n".join(f"✗ {escape(p)}" for p in problems),
                id="login-problems",
                classes="" if problems else "-hidden",
            )
            yield Checkbox("All my posts", id="login-all")
            # Filled from Divar's user-posts off the loop (screens/post_choices.py).
            yield Static("", id="login-choices-note", classes="muted")
            yield UserPostChoices(id="login-choices", classes="-hidden")
            with Horizontal():
                yield Label("Posts ")
                yield Input(
                    value=self.post, placeholder="post tokens, e.g. gZd7omnS", id="login-posts"
                )
            with Horizontal():
                yield Button(
                    "Get the login address",
                    id="login-start",
                    variant="primary",
                    disabled=bool(problems),
                )
                yield Button("Close", id="login-close")
            yield Static("", id="login-url", classes="-hidden")
            yield Input(
                placeholder="…or paste the address the browser landed on, then Enter",
                id="login-paste",
                classes="-hidden",
            )
            yield Static("", id="login-status")
            yield Static("", id="login-qr", classes="-hidden")

    @work(group="login-problems")
    async def _check_problems(self) -> None:
        # The keyring is read off the loop (keyring_thread.py): a locked one never freezes it.
        try:
            problems = await keyring_call(login_problems, self.settings, self.credentials)
        except CredentialError as exc:
            problems = [str(exc)]
        shown = self.query_one("#login-problems", Static)
        shown.update("\n".join(f"✗ {escape(p)}" for p in problems))
        shown.set_class(not problems, "-hidden")
        start = self.query_one("#login-start", Button)
        start.disabled = bool(problems)
        if problems and start.has_focus:
            self.query_one("#login-close").focus()

    def on_mount(self) -> None:
        focus = (
            "#login-posts"
            if not self.query_one("#login-start", Button).disabled
            else "#login-close"
        )
        self.query_one(focus).focus()
        self._check_problems()
        self._list_posts()

    @work(group="login-posts")
    async def _list_posts(self) -> None:
        """Offer the seller's posts by title (docs/post/get_user_posts.md), not typed tokens."""
        try:
            kenar = self._kenar or await self._open_kenar()
        except CredentialError as exc:
            self.query_one("#login-choices-note", Static).update(Content(str(exc)))
            return
        posts, note = await load_user_posts(kenar, self.credentials)
        self.query_one("#login-choices-note", Static).update(Content(note))
        choices = self.query_one("#login-choices", UserPostChoices)
        ticked = set(split_posts(self.query_one("#login-posts", Input).value))
        choices.show(posts, bidi=self.settings.bidi, ticked=ticked)
        choices.set_class(not posts, "-hidden")

    @on(SelectionList.SelectedChanged, "#login-choices")
    def _ticked(self) -> None:
        chosen = self.query_one("#login-choices", UserPostChoices).chosen
        self.query_one("#login-posts", Input).value = " ".join(chosen)

    async def on_unmount(self) -> None:
        if self._own_kenar is not None:
            await self._own_kenar.aclose()
            self._own_kenar = None

    # --- what the screen says ---------------------------------------------------------------

    def say(self, text: str, *, state: str = "") -> None:
        """The status line: `state` is "", "failed" or "done"."""
        status = self.query_one("#login-status", Static)
        status.update(text)
        status.set_class(state == "failed", "-failed")
        status.set_class(state == "done", "-done")

    def _show_address(self, url: str) -> None:
        shown = self.query_one("#login-url", Static)
        shown.update(
            f"Open this address to let kenar-tui answer these chats (F2 copies it, F3 opens it):\n"
            f"{escape(url)}"
        )
        shown.remove_class("-hidden")
        qr = self.query_one("#login-qr", Static)
        code = qr_text(url)
        columns, lines = text_size(code) if code else (0, 0)
        # The dialog's frame and the lines around the code take about 16 lines and 6 columns.
        if (
            code is not None
            and columns + 6 <= self.app.size.width
            and lines + 16 <= self.app.size.height
        ):
            qr.update(code)
        else:
            qr.update(
                "(no room for a QR code here: enlarge the terminal, or copy the address with F2)"
                if code is not None
                else "(the address is too long for a QR code; copy it with F2)"
            )
        qr.remove_class("-hidden")
        self.query_one("#login-paste", Input).remove_class("-hidden")

    # --- starting ---------------------------------------------------------------------------

    @on(Button.Pressed, "#login-start")
    @on(Input.Submitted, "#login-posts")
    def start(self) -> None:
        """A new login (a fresh state) for the chosen posts."""
        if self.query_one("#login-start", Button).disabled:
            return
        all_posts = self.query_one("#login-all", Checkbox).value
        posts = [] if all_posts else split_posts(self.query_one("#login-posts", Input).value)
        if not all_posts and not posts:
            self.say(
                "✗ Type the post tokens to log in for, or tick “All my posts”.", state="failed"
            )
            return
        self._begin(posts, all_posts)

    @work(group="login", exclusive=True)
    async def _begin(self, posts: list[str], all_posts: bool) -> None:
        self.outcome = None
        try:
            kenar = self._kenar or await self._open_kenar()
            relay = self.link
            redirect_uri = redirect_uri_of(
                self.settings, relay_url=self.settings.relay_url if relay is not None else None
            )
            flow = LoginFlow(
                kenar,
                self.credentials,
                client_id=self.settings.client_id or "",
                redirect_uri=redirect_uri,
                posts=posts,
                all_posts=all_posts,
            )
        except KenarTuiError as exc:
            self.say(f"✗ {escape(str(exc))}", state="failed")
            return
        self.flow = flow
        waiting: asyncio.Task[str] | None = None
        if relay is not None:
            waiting = asyncio.create_task(flow.code_from_link(relay, timeout=APPROVAL_S))
            # Announce the state to the relay before anyone can follow the address: the
            # task sends `oauth_state` as soon as it runs.
            for _ in range(3):
                await asyncio.sleep(0)
        self._show_address(flow.url)
        self._open_browser(flow.url)
        if waiting is None:
            self.say("After approving, paste the address your browser landed on (above).")
            return
        self.say(
            "Waiting for Divar to send you back (through the relay)… "
            "or paste the address your browser landed on."
        )
        try:
            code = await waiting
        except KenarTuiError as exc:
            self.say(f"✗ {escape(str(exc))}", state="failed")
            return
        finally:
            waiting.cancel()
        await self._finish(flow, code)

    async def _open_kenar(self) -> Any:
        from kenar_api.client import KenarClient

        if self._own_kenar is None:
            self._own_kenar = KenarClient(
                await keyring_call(self.credentials.require, "api-key"),
                api_base=self.settings.api_base,
                oauth_base=self.settings.oauth_base,
            )
        return self._own_kenar

    # --- the pasted address -----------------------------------------------------------------

    @on(Input.Submitted, "#login-paste")
    def _pasted(self, event: Input.Submitted) -> None:
        flow = self.flow
        if flow is None:
            return
        try:
            code = flow.code_from_redirect(event.value)
        except KenarTuiError as exc:
            self.say(f"✗ {escape(str(exc))}", state="failed")
            return
        event.input.value = ""
        self._finish_pasted(flow, code)

    @work(group="login", exclusive=True)  # replaces the wait for the relay
    async def _finish_pasted(self, flow: LoginFlow, code: str) -> None:
        await self._finish(flow, code)

    # --- finishing --------------------------------------------------------------------------

    async def _finish(self, flow: LoginFlow, code: str) -> None:
        self.say("Approved; fetching the tokens…")
        try:
            kenar = self._kenar or await self._open_kenar()
            outcome = await finish_login(flow, kenar, code)
        except KenarTuiError as exc:
            self.say(f"✗ The login failed: {escape(str(exc))}", state="failed")
            return
        except Exception as exc:  # never a traceback on screen: say what kind of failure
            _log.warning("login failed: %s", type(exc).__name__, exc_info=exc)
            self.say(f"✗ The login failed unexpectedly ({type(exc).__name__}).", state="failed")
            return
        self.flow = None
        self.outcome = outcome
        self.query_one("#login-paste", Input).add_class("-hidden")
        self.say(self.describe(outcome), state="" if outcome.subscribe_error else "done")
        if self.on_login is not None:
            self.on_login(outcome)

    def describe(self, outcome: LoginOutcome) -> str:
        token = outcome.token
        lines = [
            f"✓ Logged in: {len(token.scopes)} scope(s), expires "
            f"{escape(self.format_time(token.expires_at))}"
            + (" (refreshed by itself before then)" if token.refresh_token else ""),
            *(f"  · {escape(scope)}" for scope in token.scopes),
        ]
        if outcome.subscribe_error is not None:
            lines.append(
                f"[$warning]✗ Subscribing to new messages failed: "
                f"{escape(outcome.subscribe_error)}; try `kenar-tui subscribe`.[/]"
            )
        elif outcome.subscribed:
            lines.append(f"✓ Subscribed to {', '.join(outcome.subscriptions)}")
        lines.append("Escape closes.")
        return "\n".join(lines)

    # --- keys -------------------------------------------------------------------------------

    @on(Button.Pressed, "#login-close")
    def action_close(self) -> None:
        self.dismiss(self.outcome)

    def action_copy_url(self) -> None:
        if self.flow is None:
            self.notify("There is no login address yet.", severity="warning")
            return
        self.app.copy_to_clipboard(self.flow.url)
        self.notify("The login address is on the clipboard.")

    def action_open_url(self) -> None:
        if self.flow is None:
            self.notify("There is no login address yet.", severity="warning")
            return
        self._open_browser(self.flow.url, asked=True)

    @work(thread=True, group="login-browser")
    def _open_browser(self, url: str, asked: bool = False) -> None:
        # Opening by itself only where a graphical browser can (the CLI's choice); F3 tries.
        if not (asked or has_display()):
            return
        if open_in_browser(url):
            self.app.call_from_thread(self.notify, "Opened in your browser.")
        elif asked:
            self.app.call_from_thread(
                self.notify,
                "No browser could open it here; copy the address (F2) or scan the QR code.",
                severity="warning",
            )
