"""Pinned screens: the main screen, the help screen and a Persian conversation.

Deterministic: a fixed clock, a cache filled from sample entries, no servers, fixed size.
Regenerate after an intended change with `pytest tests/console/test_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kenar_tui.config import Settings
from kenar_tui.credentials import CredentialStore
from kenar_tui.factory import make_app
from kenar_tui.keyring_memory import MemoryKeyring
from tests.console.conftest import CID_FLAT, FIXED_NOW

SIZE = (100, 30)


def snapshot_app(inbox: Any, tmp_path: Path) -> Any:
    settings = Settings.load(tmp_path / "none.toml", data_dir=tmp_path / "data")
    return make_app(
        settings,
        inbox=inbox,
        credentials=CredentialStore(MemoryKeyring()),
        clock=lambda: FIXED_NOW,
        welcome=False,
    )


def test_main_screen(snap_compare: Any, console_inbox: Any, tmp_path: Path) -> None:
    """The main screen: posts with waiting buyers first, the longest-waiting conversation open."""
    assert snap_compare(snapshot_app(console_inbox, tmp_path), terminal_size=SIZE)


def test_help_screen(snap_compare: Any, console_inbox: Any, tmp_path: Path) -> None:
    """F1 shows every key binding."""
    assert snap_compare(snapshot_app(console_inbox, tmp_path), press=["f1"], terminal_size=SIZE)


def test_persian_conversation(snap_compare: Any, console_inbox: Any, tmp_path: Path) -> None:
    """A Persian conversation reads right to left, with our reply beside the buyer's question."""
    app = snapshot_app(console_inbox, tmp_path)

    async def open_flat(pilot: Any) -> None:
        await pilot.pause()
        app.main_screen.show_conversation(CID_FLAT)
        app.main_screen.history.focus()
        await pilot.pause()

    assert snap_compare(app, run_before=open_flat, terminal_size=SIZE)
