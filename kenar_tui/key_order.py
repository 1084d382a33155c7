"""Keys take effect in the order they were typed.

Textual hands each key to the focused widget's message queue at once, but it runs an ordinary
(non-priority) binding only when the key has bubbled from that widget up to the app, one message
queue per level. The keys behind it are meanwhile delivered to the focused widget, which types
them. So when keys arrive together (a fast typist, key repeat, tmux send-keys, a terminal that
writes several keys in one read) or the loop is busy drawing, a later key can act before an
earlier one, and the seller sees it:

- Ctrl+U pressed on an empty reply box, then a reply typed: the Ctrl+U runs last and erases it;
- Ctrl+G (next buyer, into the reply box), then a reply typed: the letters reach the list;
- the last letters of a reply, then Enter: Enter (a priority binding) sends the text without them.

`OrderedKeysApp` holds each key (and each bracketed paste) until the one before it has run its
course. The key is followed by a marker message posted to the same widget; the marker bubbles up
the same queues and reaches the app only after every handler and binding of that key has run.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque

from textual import events
from textual.app import ReturnType
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, TextArea

from kenar_tui.hangup import HangupAwareApp
from kenar_tui.key_parser import use_key_parser

log = logging.getLogger(__name__)

# Keys waiting behind one still on its way: far more than a person types ahead (tmux pastes
# typed text as keys, a few hundred at a time). Beyond it a key is dropped and the bell rings.
HELD_KEYS_LIMIT = 4096
# A key whose widget closed before handling it never settles; the next key goes after this long.
SETTLE_TIMEOUT_S = 0.5


def typed_into(widget: Widget | None, key: events.Key) -> bool:
    """Is `key` a letter that `widget` types as text, never bubbling (so never reordered)?"""
    if not key.is_printable or "+" in key.key:  # Alt+T has the character "t" but is a command
        return False
    if isinstance(widget, TextArea):
        return not widget.read_only
    return isinstance(widget, Input)


class KeySettled(Message, bubble=True):
    """Posted behind a key to the widget that got it: reaching the app, the key has run."""

    def __init__(self, serial: int) -> None:
        super().__init__()
        self.serial = serial


class OrderedKeysApp(HangupAwareApp[ReturnType]):
    """An App whose keys and pastes act one after the other, in the order typed (and which
    ends when its terminal hangs up: hangup.py)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        use_key_parser()  # Alt+letter twice in a row arrives as Alt+letter twice (key_parser.py)
        self._held_keys: deque[events.Key | events.Paste] = deque()
        self._key_on_its_way: int | None = None  # serial of the key not yet settled
        self._key_serial = 0
        self._letters_on_their_way = False  # letters given to a box since the last marker
        self._settle_timer: asyncio.TimerHandle | None = None

    @property
    def keys_pending(self) -> int:
        """Keys typed but not yet run (held, plus the one on its way)."""
        return len(self._held_keys) + (self._key_on_its_way is not None)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.Paste)) and not event.is_forwarded:
            if self._key_on_its_way is not None or self._held_keys:
                if len(self._held_keys) >= HELD_KEYS_LIMIT:
                    self.bell()  # typed far ahead of a console that stopped: said, not kept
                    return
                self._held_keys.append(event)
                return
            await self._deliver_key(event)
            return
        await super().on_event(event)

    async def _deliver_key(self, event: events.Key | events.Paste) -> None:
        if isinstance(event, events.Key) and typed_into(self.focused, event):
            # A letter the box types in its own queue, in order: it need not wait for the
            # letters before it. Whatever comes after the letters waits for them (below).
            await super().on_event(event)
            self._letters_on_their_way = True
            return
        if self._letters_on_their_way:
            # Enter (a priority binding, run right here) or a key that bubbles: first let the
            # box type the letters still in its queue.
            self._letters_on_their_way = False
            self._held_keys.appendleft(event)
            self._wait_behind_last_key()
            return
        await super().on_event(event)  # a priority binding runs here; otherwise it is forwarded
        if event.is_forwarded:
            self._wait_behind_last_key()

    def _wait_behind_last_key(self) -> None:
        """Post a marker behind the last key given to a widget; hold the next keys until it is
        back at the app."""
        self._key_serial += 1
        serial = self._key_on_its_way = self._key_serial
        (self.focused or self.screen).post_message(KeySettled(serial))
        self._settle_timer = asyncio.get_running_loop().call_later(
            SETTLE_TIMEOUT_S, self._settle_late, serial
        )

    def _settle_late(self, serial: int) -> None:
        if self._key_on_its_way == serial:
            log.debug("a key did not settle within %.1f s; the next one goes on", SETTLE_TIMEOUT_S)
            self.post_message(KeySettled(serial))

    async def on_key_settled(self, message: KeySettled) -> None:
        message.stop()
        if message.serial != self._key_on_its_way:
            return  # a late marker of a key already given up on
        if self._settle_timer is not None:
            self._settle_timer.cancel()
            self._settle_timer = None
        # Not yet: what the key's action deferred with call_later (focus() does, so that Ctrl+G's
        # reply box has the focus only after this marker) runs first, then the next key goes.
        self.call_later(self._next_key, message.serial)

    async def _next_key(self, serial: int) -> None:
        if serial != self._key_on_its_way:
            return
        self._key_on_its_way = None
        while self._held_keys and self._key_on_its_way is None:
            await self._deliver_key(self._held_keys.popleft())
