"""Export one conversation to a plain text file (logical order: editors do their own bidi).

The file holds buyers' words and perhaps their phones, so it is written 0600, phones stay
masked unless the user chose to see them (`mask_phones = false`), and every line is cleaned
of control codes: a buyer's escape sequence must not fire when the file is `cat` later.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import platformdirs

from kenar_tui.text.sanitize import clean_text, one_line
from kenar_tui.widgets.message_lines import body_text, item_link

PAGE = 500


def export_path(data_dir: Path, summary: Any, cid: str, now: datetime) -> Path:
    """~/Downloads/kenar-<post>-<conversation>-<time>.txt, or <data dir>/exports/ without one."""
    downloads = platformdirs.user_downloads_path()
    folder = downloads if downloads.is_dir() else Path(data_dir) / "exports"
    post = (summary.post_token if summary is not None else None) or "conversation"
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in f"{post}-{cid[:12]}")
    return folder / f"kenar-{safe}-{now.strftime('%Y%m%d-%H%M%S')}.txt"


def export_note(path: Path, count: int) -> str:
    """What the user is told after an export: how many messages, and where the file is."""
    note = f"{count} messages written to {path}"
    try:
        temporary = path.resolve().is_relative_to(Path(tempfile.gettempdir()).resolve())
    except OSError:
        temporary = False
    if temporary:  # the demo's data folder: gone when the demo ends
        note += " (a temporary folder, deleted when this session ends: copy the file to keep it)"
    return note


class _Plain:
    """Render options for files: no bidi reordering; phones as the user chose."""

    bidi = False
    palette: dict[str, str] = {}  # noqa: RUF012

    def __init__(self, format_time: Callable[[datetime], str], mask_phones: bool) -> None:
        self.format_time = format_time
        self.mask_phones = mask_phones


def _private_file(path: Path) -> int:
    """A new file descriptor for `path`, readable by its owner only (0600)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode on open: tighten it
    return fd


async def write_export(
    inbox: Any,
    cid: str,
    path: Path,
    format_time: Callable[[datetime], str],
    summary: Any,
    *,
    mask_phones: bool = True,
) -> int:
    """Write the whole history page by page, yielding to the UI between pages."""
    total = inbox.history_count(cid)
    options: Any = _Plain(format_time, mask_phones)
    with os.fdopen(_private_file(path), "w", encoding="utf-8") as out:
        title = (summary.post_title or summary.post_token) if summary is not None else None
        title = one_line(title) if title else None
        out.write(f"conversation {one_line(cid)}" + (f" · {title}" if title else "") + "\n\n")
        for start in range(0, total, PAGE):
            for item in inbox.history(cid, start, min(start + PAGE, total)):
                who = {"buyer": "buyer", "seller": "seller"}.get(item.side, "kenar")
                if item.side == "seller" and item.author:
                    who = f"seller ({one_line(item.author)})"
                status = f" [{item.status}]" if item.status in ("failed", "sending") else ""
                out.write(f"{format_time(item.at)} {who}{status}:\n")
                for paragraph in body_text(item, options=options, revealed=False):
                    out.write(f"  {clean_text(paragraph.plain)}\n")
                link = item_link(item)
                if link:
                    out.write(f"  {one_line(link)}\n")
                out.write("\n")
            await asyncio.sleep(0)
    return total
