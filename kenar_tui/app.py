"""`KenarApp`: the Textual application. Build it with `kenar_tui.factory.make_app`.

The app owns no I/O of its own: it drives the Inbox (the model), consumes the RelayLink's
events in a worker, submits replies to the Outbox and asks the CredentialStore what may be
sent. Everything that can fail runs in a worker that tells the user in words.

Its controllers (kenar_tui/controllers/) post messages; the app keeps the relay's, the
outbox's and the keyring's state in reactives the status bar watches, and passes what a
screen draws on `screen_news`, a signal the main screen subscribes to. The services are
typed by the Protocols of kenar_tui/services.py.

What the screens ask of a conversation (send, edit, act on a message, export) is its base class
`ActingApp` (app_actions.py); the help screen's key groups and the command palette's entries are
in app_commands.py.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import SystemCommand
from textual.binding import Binding, BindingType
from textual.color import Color
from textual.message import Message
from textual.reactive import var
from textual.screen import Screen
from textual.signal import Signal

from kenar_core.errors import CredentialError
from kenar_tui.app_actions import ActingApp
from kenar_tui.app_commands import binding_groups, palette_commands, short_key
from kenar_tui.config import Settings
from kenar_tui.controllers.live_feed import LiveFeed
from kenar_tui.controllers.messages import (
    ConversationChanged,
    KeyringStateChanged,
    OutboxChanged,
    RelayStateChanged,
)
from kenar_tui.controllers.outbox_watch import OutboxWatch
from kenar_tui.controllers.team_desk import TeamDesk
from kenar_tui.controllers.token_watch import TokenWatch
from kenar_tui.dialogs.confirm import ConfirmScreen
from kenar_tui.dialogs.help import HelpScreen, binding_rows
from kenar_tui.draw_log import DrawLog
from kenar_tui.keyring_thread import KEYRING_HEALTH, keyring_call
from kenar_tui.media.pictures import PictureStore
from kenar_tui.screens.main import MainScreen
from kenar_tui.text import format_time
from kenar_tui.text.formats import format_price
from kenar_tui.widgets.message_lines import RenderOptions
from kenar_tui.widgets.notifier import desktop_notification

if TYPE_CHECKING:
    from kenar_api.client import KenarClient
    from kenar_tui.inbox.models import ConversationSummary
    from kenar_tui.posts import PostCatalogue
    from kenar_tui.services import (
        CredentialService,
        InboxService,
        KeeperService,
        LinkService,
        OutboxService,
    )


# Columns from which a new-message toast leaves the history readable beside it.
TOAST_MIN_WIDTH = 120


class KenarApp(ActingApp):
    """The console. `exit` results: None (quit), "demo" (start the demo), "restart"."""

    TITLE = "kenar-tui"
    CSS_PATH = "kenar_tui.tcss"
    ENABLE_COMMAND_PALETTE = True

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1,question_mark", "help", "Show every key", id="app.help"),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
        Binding("alt+k", "login", "Log in to Divar for a post or all posts", id="auth.login"),
    ]

    # What the status bar shows, kept here so it is right whichever screen is on top.
    relay_status: var[tuple[str, bool]] = var(("relay: connecting…", False))
    outbox_status: var[str] = var("")  # "outbox: 1 retrying", or "" with nothing pending
    keyring_status: var[str] = var("")  # "keyring locked: unlock it" (keyring_thread.py)

    def __init__(
        self,
        settings: Settings,
        *,
        inbox: InboxService,
        credentials: CredentialService,
        link: LinkService | None = None,
        outbox: OutboxService | None = None,
        clock: Callable[[], datetime] | None = None,
        logger: logging.Logger | None = None,
        welcome: bool = False,
        kenar: KenarClient | None = None,
        keeper: KeeperService | None = None,
        keeper_note: str | None = None,
        posts: PostCatalogue | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.inbox = inbox
        self.credentials = credentials
        # None when no relay is configured: the console shows the local cache only.
        self.link = link
        self.outbox = outbox
        # What the controllers tell the screens (controllers/messages.py).
        self.screen_news: Signal[Message] = Signal(self, "screen-news")
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.logger = logger or logging.getLogger("kenar_tui.app")
        self.welcome = welcome
        self.palette: dict[str, str] = {}
        self.team = TeamDesk(self)
        self.render_options = RenderOptions(
            bidi=settings.bidi,
            mask_phones=settings.mask_phones,
            format_time=self.format_time,
            palette=self.palette,
            me=lambda: self.team.me,
        )
        self.feed = LiveFeed(self)
        self.outbox_watch = OutboxWatch(self)
        # Buyers' photos in the history: fetched only from the configured Divar (or sandbox).
        self.pictures = PictureStore([settings.api_base, settings.upload_base])
        # None without a relay; keeper_note says why tokens are not refreshed without a keeper.
        self.kenar = kenar
        self.keeper = keeper
        self.keeper_note = keeper_note
        # Post titles and prices from Divar's finder, fetched in the background (posts/).
        self.posts = posts
        self.tokens = TokenWatch(self)
        # The app's own screen, kept (as Posting does) for what the app itself asks of it:
        # the draft on quitting, the open conversation for a login. Controllers never use it.
        self.main_screen = MainScreen()
        if settings.keymap:
            self.set_keymap(dict(settings.keymap))
        # Draw times for bench/screen.py; None unless its environment variables are set.
        self.draw_log = DrawLog.from_environ()

    def post_display_hook(self) -> None:
        """Textual wrote a frame to the terminal: stamp the marked messages it carried."""
        if self.draw_log is not None:
            self.draw_log.drawn()

    # --- set-up ----------------------------------------------------------------------------

    def get_default_screen(self) -> Screen[Any]:
        self.palette.update(self._theme_colours())
        return self.main_screen

    def _theme_colours(self) -> dict[str, str]:
        # Rich styles need opaque colours: translucent ones are laid over the background.
        variables = self.get_css_variables()
        background = Color.parse(variables.get("background", "#000000"))
        colours: dict[str, str] = {}
        for name, value in variables.items():
            try:
                colour = Color.parse(value)
            except Exception:  # not a colour (a number, a style)
                continue
            colours[name] = (background + colour).hex6
        return colours

    def on_mount(self) -> None:
        self._keyring_unlisten = KEYRING_HEALTH.listen(self._keyring_changed)
        self.run_worker(self._read_tokens(), name="tokens", group="keyring")
        self.tokens.start()
        if self.outbox is not None:
            self.outbox.on_change = self.outbox_watch.changed
            self.outbox_watch.count(self.outbox)
        if self.posts is not None:
            self.posts.on_known = self._post_known
            self.posts.start()
            self.posts.want_all(post.token for post in self.inbox.posts())
        if self.link is not None:
            self.feed.start()
            self.team.start()
            return
        self.relay_status = ("no relay configured: showing the local cache", False)
        if self.welcome:
            from kenar_tui.screens.welcome import WelcomeScreen

            self.push_screen(WelcomeScreen(self.settings, self.credentials), self._welcome_done)

    async def _read_tokens(self) -> None:
        """Read the stored tokens off the loop, so "can send" is known without a keyring call."""
        with contextlib.suppress(CredentialError):  # said in the status bar (keyring_thread)
            await keyring_call(self.credentials.tokens)
            self.tokens.credentials_changed()

    def _keyring_changed(self, problem: str | None) -> None:
        short = ""
        if problem is not None:
            locked = problem.startswith("the keyring is locked")
            short = "keyring locked: unlock it" if locked else "keyring not answering"
        self.post_message(KeyringStateChanged(short))
        if problem is None:  # it answers again: the replies waiting for it go now
            self.tokens.credentials_changed()

    def _post_known(self, post_token: str) -> None:
        """A post's title arrived from the finder: redraw the list and its conversations."""
        posts = [post for post in self.inbox.posts() if post.token == post_token]
        cids = [c.id for post in posts for c in post.conversations]
        self.screen_news.publish(ConversationChanged(cids))

    def on_unmount(self) -> None:
        self._keyring_unlisten()

    def _welcome_done(self, answer: tuple[str, ...] | None) -> None:
        if answer is None:
            return
        if answer[0] == "demo":
            self.exit("demo")
        elif answer[0] == "connect":
            self.exit("restart")

    def action_connection(self) -> None:
        """The relay URL and token, tested before they are saved (screens/connection.py)."""
        from kenar_tui.screens.connection import ConnectionScreen

        if not isinstance(self.screen, ConnectionScreen):
            self.push_screen(ConnectionScreen(self.settings, self.credentials), self._reconnect)

    def _reconnect(self, answer: str | None) -> None:
        """Saved: start again with the new settings (cli restarts; the outbox resumes)."""
        if answer == "saved":
            with contextlib.suppress(Exception):  # the draft is a nicety; reconnecting is not
                self.main_screen.save_draft()
            self.exit("restart")

    # --- what the controllers say -------------------------------------------------------

    def on_relay_state_changed(self, message: RelayStateChanged) -> None:
        self.relay_status = (message.text, message.ok)

    def on_outbox_changed(self, message: OutboxChanged) -> None:
        self.outbox_status = message.summary

    def on_keyring_state_changed(self, message: KeyringStateChanged) -> None:
        self.keyring_status = message.problem

    # --- helpers the screens use -----------------------------------------------------------

    def format_time(self, moment: datetime) -> str:
        return format_time(
            moment,
            tz=self.settings.timezone,
            calendar=self.settings.calendar,
            digits=self.settings.digits,
            now=self.clock(),
        )

    def format_price(self, price: int | None) -> str:
        return format_price(price, self.settings.digits)

    def can_send(self, summary: ConversationSummary) -> bool:
        try:
            # From the tokens last read: the screen never waits on the keyring.
            return bool(self.credentials.known_can_send(summary.id, summary.post_token))
        except Exception as exc:  # the keyring may be unusable; say so once
            self.logger.warning("credential check failed: %s", type(exc).__name__, exc_info=exc)
            return False

    @classmethod
    def key_groups(cls) -> list[tuple[str, Iterable[BindingType]]]:
        """Every binding the help screen lists, by where it works (app_commands.py)."""
        return binding_groups(cls.BINDINGS)

    def keys_for(self, binding_id: str) -> str:
        for _, bindings in self.key_groups():
            for binding in bindings:
                if isinstance(binding, Binding) and binding.id == binding_id:
                    keys = self.settings.keymap.get(binding_id, binding.key)
                    return short_key(keys.split(",")[0].strip())
        return "?"

    def hints(self) -> str:
        pairs = [
            ("conversation.next_unanswered", "next waiting"),
            ("search.open", "search"),
            ("composer.focus", "reply"),
            ("app.help", "help"),
        ]
        return " · ".join(f"{self.keys_for(i)} {what}" for i, what in pairs)

    # --- actions ---------------------------------------------------------------------------

    def action_login(self) -> None:
        """The login screen, its posts field holding the open conversation's post."""
        from kenar_tui.screens.login import LoginScreen

        if isinstance(self.screen, LoginScreen):
            return
        cid = self.main_screen.cid
        summary = self.inbox.conversation(cid) if cid else None
        self.push_screen(
            LoginScreen(
                self.settings,
                self.credentials,
                kenar=self.kenar,
                link=self.link,
                post=getattr(summary, "post_token", None),
                format_time=self.format_time,
                on_login=lambda outcome: self.tokens.logged_in(),
            )
        )

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(binding_rows(self.key_groups(), self.settings.keymap)))

    async def action_quit(self) -> None:
        """Quit, keeping the half-written reply; ask first while replies are still on their way."""
        try:
            self.main_screen.save_draft()
        except Exception as exc:  # the cache may be gone already; quitting must still work
            self.logger.info("draft not saved: %s", type(exc).__name__)
        # A reply waiting for the keyring has not left: quitting loses nothing, so no question.
        pending = sum(
            1
            for item in (self.outbox.items("sending", "retrying") if self.outbox else ())
            if not (item.state == "retrying" and (item.reason or "").startswith("waiting:"))
        )
        if not pending or isinstance(self.screen, ConfirmScreen):
            self.exit()
            return

        def answered(quit_now: bool | None) -> None:
            if quit_now:
                self.exit()

        self.push_screen(
            ConfirmScreen(
                f"{pending} repl{'y is' if pending == 1 else 'ies are'} still being sent. Quit "
                "anyway? They stay in the outbox and are sent when the console starts again."
            ),
            answered,
        )

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        return palette_commands(self, screen, super().get_system_commands(screen))

    # --- notifying --------------------------------------------------------------------------

    def notify_new_message(self, title: str, preview: str) -> None:
        """Toast, bell and desktop notification, each as the settings say."""
        # A toast sits over the history: on a narrow terminal it would cover the very text
        # being read, and the list already shows the new message, so it toasts only when wide.
        if self.settings.notify_toast and self.size.width >= TOAST_MIN_WIDTH:
            self.notify(preview, title=title, timeout=4, markup=False)
        if self.settings.notify_bell:
            self.bell()
        if self.settings.notify_desktop:
            driver = getattr(self, "_driver", None)  # the only way to write an OSC sequence
            if driver is not None and not self.is_headless:
                driver.write(desktop_notification(title, preview, os.environ))
