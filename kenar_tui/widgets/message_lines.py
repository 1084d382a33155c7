"""How one history item reads on screen: a few lines of rich Text, and what its keys act on.

Pure functions (no widget state) so the history view can render only the items on screen
and the tests can check the wording of every message type without a terminal.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.text import Text

from kenar_api.messages import Message, MessageType
from kenar_core.redaction import mask_phone  # one masker for logs and screens
from kenar_tui.text import display, format_size
from kenar_tui.text.bidi import has_rtl, is_rtl
from kenar_tui.widgets.button_boxes import DIRECT_MARKER, MANAGE_MARKER, POST_MARKER, SERVER_MARKER

SIDE_STYLE = {"buyer": "bold $accent", "seller": "bold $success", "system": "bold $warning"}
TEAMMATE_STYLE = "bold $secondary"  # a reply a teammate sent: not ours, still the seller's
NOTE_STYLE = "italic $secondary"


def _nobody() -> str | None:
    return None


@dataclass(frozen=True)
class RenderOptions:
    """What the user chose about display: bidi reordering, phone masking, time format."""

    bidi: bool
    mask_phones: bool
    format_time: Callable[[datetime], str]
    palette: dict[str, str] = field(default_factory=dict)  # theme variables: "accent" -> "#ffa62b"
    me: Callable[[], str | None] = _nobody  # this console's operator: our replies read "you"


def _size(size: int | None) -> str:
    return format_size(size) if size is not None else ""


def map_link(latitude: float, longitude: float) -> str:
    """An OpenStreetMap link that centres the point."""
    return (
        f"https://www.openstreetmap.org/?mlat={latitude:.6f}&mlon={longitude:.6f}"
        f"#map=17/{latitude:.6f}/{longitude:.6f}"
    )


def item_message(item: Any) -> Message | None:
    message = getattr(item, "message", None)
    return message if isinstance(message, Message) else None


def item_link(item: Any) -> str | None:
    """The URL the "open link" key opens: a media link or a map link."""
    message = item_message(item)
    if message is None:
        return None
    for data in (message.image_data, message.file_data, message.voice_data, message.video_data):
        if data is not None and data.link:
            return str(data.link)
    if message.location_data is not None:
        return map_link(message.location_data.latitude, message.location_data.longitude)
    return None


def item_copy_text(item: Any) -> str:
    """What the "copy" key puts on the clipboard: the link, the phone or the text."""
    message = item_message(item)
    if message is not None and message.contact_data is not None:
        return message.contact_data.phone
    link = item_link(item)
    if link:
        return link
    if message is not None and message.text:
        return message.text
    return str(getattr(item, "text", "") or "")


def item_raw_json(item: Any) -> str:
    """The item as Divar (or the relay) sent it, pretty-printed."""
    raw = getattr(item, "raw", None)
    if raw is None:
        message = item_message(item)
        raw = message.wire() if message is not None else {"text": getattr(item, "text", "")}
    return json.dumps(raw, ensure_ascii=False, indent=2, sort_keys=True, default=str)


def _who(item: Any, me: str | None = None) -> tuple[str, str | None]:
    """Who wrote the item, and a style when it is not the side's usual one."""
    side = getattr(item, "side", "system")
    author = getattr(item, "author", None)
    kind = getattr(item, "kind", None)
    if kind == "note":
        return f"note · {author or 'a teammate'}", NOTE_STYLE
    if kind == "assignment":
        return "team", "bold $secondary"
    if side == "buyer":
        return "buyer", None
    if side == "seller":
        if author and me is not None and author != me:
            return author, TEAMMATE_STYLE  # a teammate's reply
        return (f"you ({author})" if author else "you"), None
    return "kenar", None


def _status(item: Any) -> Text:
    status = getattr(item, "status", None)
    if status == "sending":
        return Text(" · sending…", style="$warning")
    if status == "retrying":
        return Text(" · retrying…", style="$warning")
    if status == "sent":
        return Text(" · sent ✓", style="$success")
    if status == "failed":
        return Text(" · failed", style="bold $error")
    if status == "unknown":
        return Text(" · unknown — may have been delivered", style="bold $warning")
    return Text("")


def body_text(item: Any, *, options: RenderOptions, revealed: bool) -> list[Text]:
    """The logical (not yet wrapped) paragraphs of an item's body."""
    kind = getattr(item, "kind", "message")
    text = str(getattr(item, "text", "") or "")
    message = item_message(item)
    if kind == "button_pressed":
        pressed = f"pressed «{item.caption}»" if getattr(item, "caption", None) else text
        return [Text(f"buyer {pressed}", style="italic $warning")]
    if kind == "post_update":
        return [Text(text or "post updated", style="italic $warning")]
    if kind == "access_revocation":
        return [Text(text or "a user revoked this app's access", style="italic $error")]
    if kind == "note":
        return [Text(f"▎ {line}", style=NOTE_STYLE) for line in text.split("\n")]
    if kind == "assignment":
        return [Text(text, style="italic $secondary")]
    if kind in ("gap", "payment"):
        return [Text(text, style="italic")]
    if kind == "unknown":
        return [Text(f"{text or 'unsupported message'} · v shows the raw JSON", style="dim")]
    if kind == "reply":
        sent = getattr(item, "raw", None)
        lines = [Text(line) for line in text.split("\n")] if text else []
        return lines + sent_grid_lines(sent if isinstance(sent, dict) else {})
    if message is None:
        return [Text(text)] if text else []
    return _message_lines(message, options=options, revealed=revealed)


GRID_STYLE = "dim"
_GRIDS = (  # body key, whose screen shows it (send-message and chatbot bodies)
    ("receiver_buttons", "buyer's buttons"),
    ("sender_buttons", "your buttons"),
    ("buttons", "buttons"),
)


def sent_grid_lines(body: dict[str, Any]) -> list[Text]:
    """The button grids a reply carried, one compact line per row: `↗ call · ⇄ price`.

    ↗ opens a link, ⇄ asks the relay where to go, ▤ the post's page, ✎ its manage page (the
    markers of the button composer).
    """
    lines: list[Text] = []
    for key, label in _GRIDS:
        grid = body.get(key)
        rows = grid.get("rows") if isinstance(grid, dict) else None
        for number, row in enumerate(rows if isinstance(rows, list) else []):
            buttons = row.get("buttons") if isinstance(row, dict) else None
            shown = [
                f"{_marker(_action(b))} {b.get('caption') or '?'!s}"
                for b in (buttons if isinstance(buttons, list) else [])
                if isinstance(b, dict)
            ]
            if shown:
                lead = f"{label}: " if number == 0 else " " * (len(label) + 2)
                lines.append(Text(lead + "  ·  ".join(shown), style=GRID_STYLE))
    return lines


def _action(button: dict[str, Any]) -> dict[str, Any]:
    action = button.get("action")
    return action if isinstance(action, dict) else {}


def _marker(action: dict[str, Any]) -> str:
    if "open_server_link" in action:
        return SERVER_MARKER
    if "open_post_page" in action:
        return POST_MARKER
    if "open_post_manage_page" in action:
        return MANAGE_MARKER
    return DIRECT_MARKER


def _message_lines(message: Message, *, options: RenderOptions, revealed: bool) -> list[Text]:
    match message.known_type:
        case MessageType.TEXT:
            return [Text(line) for line in (message.text or "").split("\n")]
        case MessageType.IMAGE:
            img = message.image_data
            dims = (
                f"{img.width_px}×{img.height_px}" if img and img.width_px and img.height_px else ""
            )
            return [_media("image", [dims, _size(img.size_bytes if img else None)])]
        case MessageType.FILE:
            f = message.file_data
            return [_media("file", [f.name or "" if f else "", _size(f.size_bytes if f else None)])]
        case MessageType.VOICE:
            v = message.voice_data
            secs = v.duration_seconds if v else None
            length = f"{int(secs) // 60}:{int(secs) % 60:02d}" if secs is not None else ""
            return [_media("voice", [length, _size(v.size_bytes if v else None)])]
        case MessageType.VIDEO:
            vd = message.video_data
            return [_media("video", [_size(vd.size_bytes if vd else None)])]
        case MessageType.LOCATION:
            loc = message.location_data
            if loc is None:
                return [Text("[location] (no coordinates)", style="dim")]
            return [
                Text.assemble(("[location] ", "bold"), f"{loc.latitude:.5f}, {loc.longitude:.5f}"),
                Text(map_link(loc.latitude, loc.longitude), style="underline dim"),
            ]
        case MessageType.CONTACT:
            c = message.contact_data
            phone = c.phone if c else ""
            shown = phone if (revealed or not options.mask_phones) else mask_phone(phone)
            name = (c.name or "") if c else ""
            # The phone first: after a Persian name the bidi algorithm would reverse its digits.
            return [Text.assemble(("[contact] ", "bold"), shown, " · " if name else "", name)]
    return [Text(f"unsupported message ({message.type}) · v shows the raw JSON", style="dim")]


def _media(label: str, parts: list[str]) -> Text:
    detail = " · ".join(p for p in parts if p)
    return Text.assemble((f"[{label}] ", "bold"), detail or "", style="")


def item_hint(item: Any, *, revealed: bool = False) -> str:
    """The keys that act on this item, shown under it while it is selected."""
    hints = []
    if item_link(item):
        hints.append("o open")
    if item_copy_text(item):
        hints.append("y copy")
    message = item_message(item)
    if message is not None and message.contact_data is not None:
        hints.append("p hide phone" if revealed else "p show phone")
    hints.append("v raw JSON")
    if getattr(item, "status", None) in ("failed", "unknown"):
        hints.append("r send again")
    return " · ".join(hints)


def item_lines(
    item: Any,
    *,
    width: int,
    console: Console,
    options: RenderOptions,
    selected: bool = False,
    revealed: bool = False,
) -> list[Text]:
    """Every screen line of one item at `width` cells: a header, the wrapped body, a gap."""
    width = max(width, 10)
    side = getattr(item, "side", "system")
    at = getattr(item, "at", None)
    who, who_style = _who(item, options.me())
    header = Text.assemble(
        (display(who, bidi=options.bidi), who_style or SIDE_STYLE.get(side, "bold")),
        (f"  {options.format_time(at)}" if isinstance(at, datetime) else "", "dim"),
    )
    header.append_text(_status(item))
    lines: list[Text] = [header]
    indent = 2
    for paragraph in body_text(item, options=options, revealed=revealed):
        if not paragraph.plain:
            lines.append(Text(""))
            continue
        rtl = is_rtl(paragraph.plain)  # python-bidi's paragraph direction (rule P2)
        for wrapped in paragraph.wrap(console, width - indent):
            wrapped.rstrip()
            # Each wrapped piece keeps its paragraph's direction, whatever its first letter.
            plain = display(
                wrapped.plain, bidi=options.bidi, rtl=rtl if has_rtl(wrapped.plain) else None
            )
            shown = Text(plain, style=paragraph.style)
            if wrapped.spans and shown.plain == wrapped.plain:
                shown = wrapped
            pad = width - indent - shown.cell_len if rtl and options.bidi else 0
            lines.append(Text(" " * (indent + max(pad, 0))) + shown)
    error = getattr(item, "error", None)
    if getattr(item, "status", None) in ("failed", "unknown") and error:
        for wrapped in Text(f"⚠ {error}", style="$error").wrap(console, width - indent):
            lines.append(Text(" " * indent) + wrapped)
    if selected:
        lines.append(Text(" " * indent + item_hint(item, revealed=revealed), style="dim italic"))
    lines.append(Text(""))
    return [_resolve(line, options.palette) for line in lines]


def _resolve(line: Text, palette: dict[str, str]) -> Text:
    """Replace theme variables ($accent...) in styles by the theme's colours."""

    def fix(style: Any) -> Any:
        if not isinstance(style, str) or "$" not in style:
            return style
        words = [palette.get(w[1:], "default") if w.startswith("$") else w for w in style.split()]
        return " ".join(words)

    line.style = fix(line.style)
    line.spans = [span._replace(style=fix(span.style)) for span in line.spans]
    return line
