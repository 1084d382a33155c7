"""The console's local cache: SQLite (WAL) in the user data directory."""

from kenar_tui.store.buttons import ButtonCaptions
from kenar_tui.store.cache import Cache, from_micros, micros
from kenar_tui.store.notices import NoticeRow, Notices
from kenar_tui.store.outbox_rows import OutboxRow, OutboxRows
from kenar_tui.store.timeline import ItemRow, SummaryRow, Timeline

__all__ = [
    "ButtonCaptions",
    "Cache",
    "ItemRow",
    "NoticeRow",
    "Notices",
    "OutboxRow",
    "OutboxRows",
    "SummaryRow",
    "Timeline",
    "from_micros",
    "micros",
]
