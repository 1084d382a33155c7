"""What the reply box asks for: a reply or a note sent, the external editor, a button grid,
a template, a file; teammates told "replying" while the seller types; the draft kept, and a
note the relay refused put back.

`MainScreen` (screens/main.py) is built on `ReplyingScreen`, so these handlers are its own; they
live here to keep the screen file about the list and the conversation. `ReplyingScreen` is a
`Screen`, not a plain mixin, because Textual collects `@on` handlers only from classes its
message-pump metaclass built (a plain mixin's would never fire), then finds them through the
screen class's MRO (tests/console/test_reply_flows.py checks each request reaches its handler).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on
from textual.screen import Screen
from textual.widgets import TextArea

from kenar_tui.controllers.messages import NoteNotSaved
from kenar_tui.controllers.team_desk import NOTE_PREFIX
from kenar_tui.widgets.composer import Composer
from kenar_tui.widgets.input_preview import InputPreview

if TYPE_CHECKING:
    from kenar_tui.app import KenarApp


class ReplyingScreen(Screen[None]):
    """A screen with an open conversation (`cid`) and a reply box (`Composer`): the box's
    requests, answered for the open conversation."""

    def __init__(self) -> None:
        super().__init__()
        self.cid: str | None = None

    @property
    def kapp(self) -> KenarApp:
        return self.app  # type: ignore[return-value]

    @property
    def composer(self) -> Composer:
        return self.query_one(Composer)

    def save_draft(self) -> None:
        """Keep the half-written reply (called when switching and when quitting)."""
        if self.cid is not None:
            self.kapp.inbox.set_draft(self.cid, self.composer.text or None)

    def on_note_not_saved(self, message: NoteNotSaved) -> None:
        """The relay refused a note: back into the box, unless the seller wrote something new."""
        if self.cid == message.cid and not self.composer.text:
            self.composer.load_text(NOTE_PREFIX + message.text)

    @on(Composer.Send)
    def _send(self, event: Composer.Send) -> None:
        if self.cid is None:
            self.notify("Choose a conversation first (Ctrl+O opens one by id).", severity="warning")
            return
        text = event.text.strip()
        if not text:
            # Said on the box itself: a toast would cover the conversation at 80 columns.
            event.composer.border_subtitle = "empty: nothing to send"
            return
        cid, composer = self.cid, event.composer
        if event.note or text.startswith(NOTE_PREFIX.strip()):
            note = text.removeprefix(NOTE_PREFIX.strip()).strip() if not event.note else text
            if self.kapp.team.post_note(cid, note):
                self._sent(composer, cid)
            return

        def send() -> None:
            if self.kapp.send_reply(cid, text):
                self._sent(composer, cid)

        self.kapp.team.guard(cid, send)

    def _sent(self, composer: Composer, cid: str) -> None:
        if self.cid == cid:
            composer.clear()
        self.kapp.inbox.set_draft(cid, None)
        self.kapp.team.announce(cid, "viewing")

    @on(TextArea.Changed, "#composer")
    def _typing(self, event: TextArea.Changed) -> None:
        """Typing a reply tells teammates "replying"; an empty box (or a note) is viewing."""
        self.query_one("#composer-preview", InputPreview).show_text(event.text_area.text)
        event.text_area.border_subtitle = ""
        text = event.text_area.text.strip()
        replying = bool(text) and event.text_area.has_focus and not text.startswith("/note")
        if self.cid is not None:
            self.kapp.team.announce(self.cid, "replying" if replying else "viewing")

    @on(Composer.EditorRequested)
    def _editor(self, event: Composer.EditorRequested) -> None:
        edited = self.kapp.edit_in_editor(event.composer.text)
        if edited is not None:
            event.composer.load_text(edited.rstrip("\n"))
            event.composer.move_cursor(event.composer.document.end)  # go on writing
            event.composer.focus()

    @on(Composer.ButtonsRequested)
    def _buttons(self, event: Composer.ButtonsRequested) -> None:
        from kenar_tui.screens.compose import ButtonComposerScreen

        if self.cid is not None:
            self.app.push_screen(
                ButtonComposerScreen(event.composer.text, **self._composer_options(self.cid)),
                lambda body: self._composed(event.composer, body),
            )
        else:
            self.notify("Choose a conversation first (Ctrl+O opens one by id).", severity="warning")

    @on(Composer.AttachRequested)
    def _attach_file(self, event: Composer.AttachRequested) -> None:
        from kenar_api.media import MediaFile
        from kenar_tui.screens.file_picker import FilePickerScreen
        from kenar_tui.text import display

        cid = self.cid
        if cid is None:
            self.notify("Choose a conversation first (Ctrl+O opens one by id).", severity="warning")
            return
        summary = self.kapp.inbox.conversation(cid)
        where = (summary.post_title or summary.post_token or cid) if summary else cid

        def picked(media: MediaFile | None) -> None:
            if media is not None:  # checked already; the draft in the box stays as it was
                self.kapp.send_media(cid, media)

        self.app.push_screen(FilePickerScreen(display(where, bidi=self.kapp.settings.bidi)), picked)

    @on(Composer.TemplatesRequested)
    def _templates(self, event: Composer.TemplatesRequested) -> None:
        from kenar_tui.dialogs.template_picker import TemplatePickerScreen
        from kenar_tui.screens.compose import ButtonComposerScreen
        from kenar_tui.templates import FilledTemplate

        if self.cid is None:
            self.notify("Choose a conversation first (Ctrl+O opens one by id).", severity="warning")
            return
        options = self._composer_options(self.cid)

        def picked(filled: FilledTemplate | None) -> None:
            if filled is not None:
                self.app.push_screen(
                    ButtonComposerScreen.from_template(filled, **options),
                    lambda body: self._composed(event.composer, body),
                )

        self.app.push_screen(
            TemplatePickerScreen(options["templates_path"], options["template_context"]), picked
        )

    def _composer_options(self, cid: str) -> dict[str, Any]:
        from kenar_tui.templates import default_templates_path, ensure_templates_file

        inbox = self.kapp.inbox
        summary = inbox.conversation(cid)
        last_buyer = ""
        total = inbox.history_count(cid)
        for item in reversed(inbox.history(cid, max(0, total - 50), total)):
            if item.side == "buyer" and item.kind == "message":
                last_buyer = item.text or ""
                break
        return {
            "conversation_type": summary.type if summary is not None else "POST",
            "templates_path": ensure_templates_file(
                default_templates_path(self.kapp.settings.config_dir)
            ),
            "template_context": {
                "post_title": (summary.post_title if summary else None) or "",
                "post_token": (summary.post_token if summary else None) or "",
                "conversation_id": cid,
                "buyer_last_message": last_buyer,
            },
            "title": (summary.post_title if summary else None) or cid,
        }

    def _composed(self, composer: Composer, body: Any) -> None:
        if body is None or self.cid is None:
            composer.focus()
            return
        cid = self.cid

        def send() -> None:
            if self.kapp.send_body(cid, body):
                self._sent(composer, cid)

        self.kapp.team.guard(cid, send)
        composer.focus()
