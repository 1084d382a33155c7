"""What the screens ask the app to do with a conversation: a reply, a built body or a file
handed to the outbox, the external editor, and the actions on one message of the history (open its
link, save its photo or file, copy it, send a failed reply again, show its JSON), and the export.

`KenarApp` (app.py) is built on `ActingApp`; these methods live here to keep app.py about
wiring, status and keys. It is an `App` rather than a plain mixin so that its `@work` methods run
on the app itself, like the rest of the app's workers, and any handler added later is collected by
Textual's metaclass (it collects `@on` handlers only from classes it built).
"""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
import tempfile
import webbrowser
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from textual import work
from textual.message import Message
from textual.signal import Signal

from kenar_api.bodies import ChatbotMessageBody, SendMessageBody
from kenar_api.media import MediaFile
from kenar_core.errors import MediaError, ProtocolError
from kenar_tui.controllers.messages import ConversationChanged
from kenar_tui.key_order import OrderedKeysApp
from kenar_tui.media.download import MediaLink, media_of, save
from kenar_tui.text.links import judge_link
from kenar_tui.text.sanitize import clean_text
from kenar_tui.widgets.export import export_note, export_path, write_export
from kenar_tui.widgets.message_lines import item_copy_text, item_link, item_raw_json

if TYPE_CHECKING:
    from kenar_tui.config import Settings
    from kenar_tui.history import HistoryItem
    from kenar_tui.services import InboxService, OutboxService


class ActingApp(OrderedKeysApp[str | None]):
    """The app's answers to a screen's requests about a conversation or one of its messages."""

    # Set by KenarApp.__init__ (app.py); declared here for the type checker.
    settings: Settings
    inbox: InboxService
    outbox: OutboxService | None
    logger: logging.Logger
    clock: Callable[[], datetime]
    screen_news: Signal[Message]

    if TYPE_CHECKING:

        def format_time(self, moment: datetime) -> str: ...

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
