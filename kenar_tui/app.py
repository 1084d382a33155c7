"""`KenarApp`: the Textual application. Build it with `kenar_tui.factory.make_app`.

The app owns no I/O of its own: it drives the Inbox (the model), consumes the RelayLink's
events in a worker, submits replies to the Outbox and asks the CredentialStore what may be
sent. Everything that can fail runs in a worker that tells the user in words.

Its controllers (kenar_tui/controllers/) post messages; the app keeps the relay's, the
outbox's and the keyring's state in reactives the status bar watches, and passes what a
screen draws on `screen_news`, a signal the main screen subscribes to. The services are
typed by the Protocols of kenar_tui/services.py.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import subprocess
import tempfile
import webbrowser
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import httpx
from textual import work
from textual.app import SystemCommand
from textual.binding import Binding, BindingType
from textual.color import Color
from textual.message import Message
from textual.reactive import var
from textual.screen import Screen
from textual.signal import Signal

from kenar_api.bodies import ChatbotMessageBody, SendMessageBody
from kenar_api.media import MediaFile
from kenar_core.errors import CredentialError, MediaError, ProtocolError
from kenar_tui.config import Settings
from kenar_tui.controllers.live_feed import LiveFeed
from kenar_tui.controllers.messages import (
    ConversationChanged,
    KeyringStateChanged,
    OutboxChanged,
    RelayStateChanged,
)
from kenar_tui.controllers.team_desk import TeamDesk
from kenar_tui.controllers.token_watch import TokenWatch
from kenar_tui.dialogs.confirm import ConfirmScreen
from kenar_tui.dialogs.help import HelpScreen, binding_rows
from kenar_tui.draw_log import DrawLog
from kenar_tui.key_order import OrderedKeysApp
from kenar_tui.keyring_thread import KEYRING_HEALTH, keyring_call
from kenar_tui.media.download import MediaLink, media_of, save
from kenar_tui.media.pictures import PictureStore
from kenar_tui.screens.compose import ButtonComposerScreen
from kenar_tui.screens.main import MainScreen
from kenar_tui.text import format_time
from kenar_tui.text.formats import format_price
from kenar_tui.text.links import judge_link
from kenar_tui.text.sanitize import clean_text
from kenar_tui.widgets.button_grid import ButtonGridEditor
from kenar_tui.widgets.composer import Composer
from kenar_tui.widgets.conversation_list import ConversationList
from kenar_tui.widgets.export import export_note, export_path, write_export
from kenar_tui.widgets.history_view import HistoryView
from kenar_tui.widgets.message_lines import RenderOptions, item_copy_text, item_link, item_raw_json
from kenar_tui.widgets.notifier import desktop_notification

if TYPE_CHECKING:
    from kenar_api.client import KenarClient
    from kenar_tui.history import HistoryItem
    from kenar_tui.inbox.models import ConversationSummary
    from kenar_tui.posts import PostCatalogue
    from kenar_tui.services import (
        CredentialService,
        InboxService,
        KeeperService,
        LinkService,
        OutboxService,
    )


def short_key(key: str) -> str:
    """ "ctrl+g" -> "^G", "f1" -> "F1": the compact form for the status bar."""
    if key.startswith("ctrl+") and len(key) == 6:
        return "^" + key[-1].upper()
    return key.upper() if key.startswith("f") and key[1:].isdigit() else key


# Columns from which a new-message toast leaves the history readable beside it.
TOAST_MIN_WIDTH = 120


class KenarApp(OrderedKeysApp[str | None]):
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
            self.outbox.on_change = self.feed.outbox_changed
            self.feed.count_outbox(self.outbox)
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
        """Every binding the help screen lists, by where it works."""
        return [
            ("everywhere", cls.BINDINGS),
            ("main screen", MainScreen.BINDINGS),  # the list, the history and the reply box
            ("conversation list", ConversationList.BINDINGS),
            ("history", HistoryView.BINDINGS),
            ("reply box", Composer.BINDINGS),
            ("button composer", ButtonComposerScreen.BINDINGS),
            ("button grid", ButtonGridEditor.BINDINGS),
        ]

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
        for command in super().get_system_commands(screen):
            if command.title != "Keys":  # ours below lists every binding; one "Keys" entry
                yield command
        yield SystemCommand("Connection", "Relay URL and token: test, save", self.action_connection)
        if not isinstance(screen, MainScreen):
            return
        for title, help_text, action in (
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
        ):
            yield SystemCommand(title, help_text, lambda a=action: self._screen_action(screen, a))
        yield SystemCommand("Log in to Divar", "For a post or all posts", self.action_login)
        yield SystemCommand("Keys", "Show every key binding", self.action_help)

    def _screen_action(self, screen: Screen[Any], action: str) -> None:
        self.call_later(screen.run_action, action)

    # --- sending ---------------------------------------------------------------------------

    def send_reply(self, cid: str, text: str) -> bool:
        """Hand a reply to the outbox; False (and a message) when it cannot be accepted."""
        summary = self.inbox.conversation(cid)
        kind = summary.type if summary is not None else "POST"
        try:
            body: SendMessageBody | ChatbotMessageBody = (
                ChatbotMessageBody(text_message=text)
                if kind == "BOT"
                else SendMessageBody(message=text)
            )
        except ProtocolError as exc:  # too long, empty
            self.notify(str(exc), title="Not sent", severity="error", markup=False)
            return False
        return self.send_body(cid, body)

    def send_body(self, cid: str, body: SendMessageBody | ChatbotMessageBody) -> bool:
        """Hand a built body (text, and grids from the button composer) to the outbox."""
        if self.outbox is None:
            self.notify("Not connected to a relay: replies cannot be sent.", severity="error")
            return False
        summary = self.inbox.conversation(cid)
        kind = "BOT" if isinstance(body, ChatbotMessageBody) else "POST"
        post = summary.post_token if summary is not None else None
        self._submit(self.outbox, cid, post, kind, body)
        return True

    def send_media(self, cid: str, media: MediaFile) -> bool:
        """Hand a checked photo or file to the outbox: uploaded once, then sent once."""
        if self.outbox is None:
            self.notify("Not connected to a relay: files cannot be sent.", severity="error")
            return False
        summary = self.inbox.conversation(cid)
        kind = summary.type if summary is not None else "POST"
        post = summary.post_token if summary is not None else None
        self._submit(self.outbox, cid, post, kind, media)
        return True

    @work(group="send")
    async def _submit(
        self,
        outbox: OutboxService,
        cid: str,
        post: str | None,
        kind: str,
        body: SendMessageBody | ChatbotMessageBody,
    ) -> None:
        try:
            await outbox.submit(cid, post, kind, body)
        except Exception as exc:
            self.logger.warning("submit failed: %s", type(exc).__name__, exc_info=exc)
            self.notify(
                f"The reply could not be queued: {exc}",
                title="Not sent",
                severity="error",
                markup=False,
            )
        self.screen_news.publish(ConversationChanged([cid]))

    def edit_in_editor(self, text: str) -> str | None:
        """Open $VISUAL/$EDITOR on `text` with the app suspended; the edited text, or None."""
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        with tempfile.NamedTemporaryFile("w+", suffix=".txt", delete=False, encoding="utf-8") as f:
            f.write(text)
            path = Path(f.name)
        try:
            with self.suspend():
                subprocess.run([*shlex.split(editor), str(path)], check=False)
            return path.read_text(encoding="utf-8")
        except Exception as exc:  # SuspendNotSupported (headless, web), editor missing
            self.notify(f"Cannot open {editor}: {exc}", severity="error", markup=False)
            return None
        finally:
            path.unlink(missing_ok=True)

    # --- acting on messages ----------------------------------------------------------------

    def act_on_item(self, action: str, item: HistoryItem) -> None:
        if action == "open":
            link = item_link(item)
            verdict = judge_link(link) if link is not None else None
            if verdict is None:
                self.notify("This message has no link to open.", severity="warning")
            elif verdict.openable:
                if verdict.warning:
                    self.notify(f"Opening it, but {verdict.warning}.", severity="warning")
                self._open_link(verdict.url)
            else:  # shown and copied, never handed to a browser command
                self.copy_to_clipboard(clean_text(verdict.url))
                self.notify(
                    f"{clean_text(verdict.url)}\n{verdict.reason}", severity="warning", markup=False
                )
        elif action == "save":
            media = media_of(getattr(item, "message", None))
            if media is None:
                self.notify("This message has no photo or file to save.", severity="warning")
            else:
                self._save_media(media)
        elif action == "copy":
            copied = clean_text(item_copy_text(item))
            if copied:
                self.copy_to_clipboard(copied)
                self.notify("Copied to the clipboard.")
        elif action == "retry":
            ref = getattr(item, "ref", None)
            status = getattr(item, "status", None)
            if status not in ("failed", "unknown") or ref is None or self.outbox is None:
                self.notify("Only a failed or unknown reply can be sent again.", severity="warning")
            else:
                self._retry(self.outbox, ref)
        elif action == "raw":
            from kenar_tui.dialogs.raw_json import RawJsonScreen

            self.push_screen(RawJsonScreen(item_raw_json(item)))

    @work(group="media")
    async def _save_media(self, media: MediaLink) -> None:
        """Download a buyer's photo or file into the download folder (0600), off the loop."""
        try:
            async with httpx.AsyncClient(follow_redirects=False) as http:
                path = await save(media, http)
        except MediaError as exc:
            self.notify(f"Not saved: {exc}", severity="error", markup=False)
            return
        self.notify(f"Saved to {path}", markup=False)

    @work(group="send")
    async def _retry(self, outbox: OutboxService, ref: str) -> None:
        try:
            await outbox.retry(ref)
        except Exception as exc:
            self.notify(f"Could not send it again: {exc}", severity="error", markup=False)

    @work(thread=True, group="browser")
    def _open_link(self, link: str) -> None:
        try:
            opened = webbrowser.open(link)
        except Exception as exc:
            opened = False
            self.logger.warning("browser failed: %s", type(exc).__name__, exc_info=exc)
        if opened:
            self.call_from_thread(self.notify, "Opened in the browser.")
        else:
            self.call_from_thread(
                self.notify,
                f"No browser could open it; the link is {link}",
                severity="warning",
                markup=False,
            )

    @work(group="export")
    async def export_conversation(self, cid: str) -> None:
        summary = self.inbox.conversation(cid)
        path = export_path(self.settings.data_dir, summary, cid, self.clock())
        try:
            count = await write_export(
                self.inbox,
                cid,
                path,
                self.format_time,
                summary,
                mask_phones=self.settings.mask_phones,
            )
        except OSError as exc:
            self.notify(f"Export failed: {exc.strerror or exc}", severity="error", markup=False)
            return
        self.notify(export_note(path, count), title="Exported", timeout=10, markup=False)

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
