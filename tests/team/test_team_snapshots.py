"""A pinned team conversation: authors on replies, a private note, an assignment, presence.

Deterministic: a fixed clock, entries fed straight into the Inbox, no servers, fixed size.
Regenerate after an intended change: `pytest tests/team/test_team_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from kenar_tui.config import Settings
from kenar_tui.credentials import CredentialStore
from kenar_tui.factory import make_app
from kenar_tui.keyring_memory import MemoryKeyring
from tests.console.conftest import CID_FLAT, FIXED_NOW, FLAT

SIZE = (100, 30)


def team_entry(kind: str, author: str, minutes_ago: float, data: dict[str, Any]) -> dict[str, Any]:
    """An entry as the relay stores a console's post (docs/protocol.md)."""
    return {
        "kind": kind,
        "received_at": (FIXED_NOW - timedelta(minutes=minutes_ago)).isoformat(),
        "conversation_id": CID_FLAT,
        "post_token": FLAT,
        "event_type": None,
        "author": author,
        "data": data,
    }


def reply_data(text: str, ref: str) -> dict[str, Any]:
    return {"conversation_type": "POST", "body": {"type": "TEXT", "message": text}, "ref": ref}


def test_a_team_conversation(snap_compare: Any, console_inbox: Any, tmp_path: Path) -> None:
    """Replies show who sent them, notes stand apart, and "رضا is replying" heads the history."""
    entries = [
        team_entry("assignment", "رضا", 50, {"assignee": "رضا", "by": "رضا"}),
        team_entry("reply", "رضا", 48, reply_data("فردا ساعت ۵ منتظرتون هستیم.", "r-1")),
        team_entry("note", "رضا", 47, {"text": "خریدار جدی است؛ کلید را از نگهبانی بگیرید."}),
        team_entry("reply", "سارا", 45, reply_data("آدرس دقیق را پیامک کردم.", "r-2")),
    ]
    seq = console_inbox.last_seq
    for offset, entry in enumerate(entries, start=1):
        console_inbox.apply(seq + offset, entry)
    settings = Settings.load(tmp_path / "none.toml", data_dir=tmp_path / "data")
    app = make_app(
        settings,
        inbox=console_inbox,
        credentials=CredentialStore(MemoryKeyring()),
        clock=lambda: FIXED_NOW,
        welcome=False,
    )

    async def open_flat(pilot: Any) -> None:
        await pilot.pause()
        app.team.on_presence(
            {
                "type": "presence",
                "operator": "رضا",
                "conversation_id": CID_FLAT,
                "state": "replying",
                "expires_in": 3600,
            }
        )
        app.main_screen.show_conversation(CID_FLAT)
        app.main_screen.history.focus()
        await pilot.pause()

    assert snap_compare(app, run_before=open_flat, terminal_size=SIZE)
