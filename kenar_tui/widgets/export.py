"""Export one conversation to a plain text file (logical order: editors do their own bidi)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import platformdirs

from kenar_tui.widgets.message_lines import body_text, item_link

PAGE = 500


def export_path(data_dir: Path, summary: Any, cid: str, now: datetime) -> Path:
    """~/Downloads/kenar-<post>-<conversation>-<time>.txt, or <data dir>/exports/ without one."""
    downloads = platformdirs.user_downloads_path()
    folder = downloads if downloads.is_dir() else Path(data_dir) / "exports"
    post = (summary.post_token if summary is not None else None) or "conversation"
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in f"{post}-{cid[:12]}")
    return folder / f"kenar-{safe}-{now.strftime('%Y%m%d-%H%M%S')}.txt"


class _Plain:
    """Render options for files: no bidi reordering, phones in full (the user asked for it)."""

    bidi = False
    mask_phones = False
    palette: dict[str, str] = {}  # noqa: RUF012

    def __init__(self, format_time: Callable[[datetime], str]) -> None:
        self.format_time = format_time


async def write_export(
    inbox: Any, cid: str, path: Path, format_time: Callable[[datetime], str], summary: Any
) -> int:
    """Write the whole history page by page, yielding to the UI between pages."""
    path.parent.mkdir(parents=True, exist_ok=True)
    total = inbox.history_count(cid)
    options: Any = _Plain(format_time)
    with path.open("w", encoding="utf-8") as out:
        title = (summary.post_title or summary.post_token) if summary is not None else None
        out.write(f"conversation {cid}" + (f" · {title}" if title else "") + "\n\n")
        for start in range(0, total, PAGE):
            for item in inbox.history(cid, start, min(start + PAGE, total)):
                who = {"buyer": "buyer", "seller": "seller"}.get(item.side, "kenar")
                if item.side == "seller" and item.author:
                    who = f"seller ({item.author})"
                status = f" [{item.status}]" if item.status in ("failed", "sending") else ""
                out.write(f"{format_time(item.at)} {who}{status}:\n")
                for paragraph in body_text(item, options=options, revealed=True):
                    out.write(f"  {paragraph.plain}\n")
                link = item_link(item)
                if link:
                    out.write(f"  {link}\n")
                out.write("\n")
            await asyncio.sleep(0)
    return total
