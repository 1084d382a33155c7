"""The console benchmark's smoke (bench/console.py, issue 20) as a test: on a small cache
filled exactly as the 1,000,000-message run fills it, every timed switch shows the right
conversation's newest message, and the search finds the planted Persian phrase whichever way
it is spelt. The timings themselves are not checked here (docs/performance.md has them)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.console import _settings, bench_sealer, fill, measure_one
from bench.console_data import (
    PLANT_AT,
    PLANT_EVERY,
    PLANTED,
    PLANTED_QUERY,
    cid_of,
    conversation_of,
    planted_count,
)
from kenar_tui.inbox import Inbox
from kenar_tui.store.cache import Cache

SIZE = 3000


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("scale")
    fill(SIZE, root)
    return root


@pytest.mark.timeout(180)
async def test_every_switch_shows_that_conversations_newest_message(tmp_path: Path) -> None:
    fill(SIZE, tmp_path)
    row = await measure_one(SIZE, tmp_path)
    assert row["switches"] >= 30
    assert len(set(row["switch_sizes"])) >= 3, "switches go among conversations of different sizes"
    # The newest message the store holds for each is the one the fill wrote last into it...
    assert row["newest_as_filled"] == len(row["switch_sizes"])
    # ...and after each switch it is the bottom-most message on the screen.
    assert row["switch_wrong"] == 0
    assert row["search_found"] == row["search_planted"] == planted_count(SIZE) >= 1
    assert row["search_common_found"] == 200  # a common word: the newest 200 of many
    assert row["burst_applied"] == 1000


@pytest.mark.parametrize(
    "query",
    [
        PLANTED,  # as written: Persian ی and ک, a zero-width non-joiner, Persian digits
        PLANTED_QUERY,  # Arabic ي and ك, no joiner, Latin digits
        "قهوه\u200cاي مدل ١٤٠٢",  # Arabic-Indic digits
        "کیفِ چرمی",  # a kasra on its letter
        "كيف  چرمي",  # doubled space
    ],
)
def test_search_finds_the_planted_phrase_in_any_spelling(filled: Path, query: str) -> None:
    planted = range(PLANT_AT, SIZE, PLANT_EVERY)
    with Cache(_settings(filled).cache_file, sealer=bench_sealer(filled)) as cache:
        hits = Inbox(cache, operator="test", now=lambda: datetime.now(UTC)).search(query)
    assert len(hits) == len(planted) >= 1
    assert {hit.cid for hit in hits} == {cid_of(conversation_of(i, SIZE)) for i in planted}
    assert all("fill" in hit.snippet or "مدل" in hit.snippet for hit in hits)


def test_search_misses_what_is_not_there(filled: Path) -> None:
    with Cache(_settings(filled).cache_file, sealer=bench_sealer(filled)) as cache:
        inbox = Inbox(cache, operator="test", now=lambda: datetime.now(UTC))
        assert inbox.search("كيف چرمي قهوهاي مدل 1403") == []


def test_a_schema_2_cache_is_reindexed_newest_first_and_still_found(tmp_path: Path) -> None:
    """Schema 2 indexed items under their own ids; opening it moves them to schema 3's
    negated ids once (kenar_tui/store/schema.py), and the search finds the same messages."""
    fill(1000, tmp_path)
    path, sealer = _settings(tmp_path).cache_file, bench_sealer(tmp_path)
    with Cache(path, sealer=sealer) as cache:
        before = [hit.cid for hit in Inbox(cache, operator="test").search(PLANTED_QUERY)]
        cache.db.execute("UPDATE search_terms SET rowid = -rowid")
        cache.db.execute("UPDATE meta SET value = '2' WHERE key = 'schema'")
    with Cache(path, sealer=sealer) as cache:
        assert cache.db.execute("SELECT max(rowid) FROM search_terms").fetchone()[0] < 0
        assert cache.meta("schema") == "3"
        assert [hit.cid for hit in Inbox(cache, operator="test").search(PLANTED_QUERY)] == before
    assert before


async def test_moving_through_the_list_redraws_every_row_that_changed(filled: Path) -> None:
    """A selection that does not scroll the list redraws only the rows it changes: the
    screen after each arrow key equals the screen drawn again from scratch."""
    from bench.console_measure import FrameClock
    from kenar_tui.credentials import CredentialStore
    from kenar_tui.factory import make_app
    from kenar_tui.keyring_memory import MemoryKeyring

    settings = _settings(filled)
    now = datetime.now(UTC)  # one clock: a "waits 3m" that ticks would differ between draws
    with Cache(settings.cache_file, sealer=bench_sealer(filled)) as cache:
        inbox = Inbox(cache, operator="test", now=lambda: now)
        app = make_app(
            settings,
            inbox=inbox,
            credentials=CredentialStore(MemoryKeyring()),
            clock=lambda: now,
            welcome=False,
        )
        frames = FrameClock(app)
        async with app.run_test(size=(120, 40)) as pilot:
            await frames.drawn(pilot)
            conversations = app.main_screen.conversations
            for step in (1, 1, 1, -1, 1, 1, -1, -1):
                conversations.action_move(step)
                await frames.drawn(pilot)
                assert app.main_screen.cid == conversations.selected
                partial = app.export_screenshot()
                conversations._cache.clear()
                conversations.refresh()
                await frames.drawn(pilot)
                assert partial == app.export_screenshot()


async def test_the_search_dialog_searches_when_typing_pauses(filled: Path) -> None:
    """Typed and left alone (no Enter), the dialog searches on its own and lists every
    planted message, found under another spelling (Arabic ي for Persian ی)."""
    import asyncio

    from kenar_tui.credentials import CredentialStore
    from kenar_tui.dialogs.search import SearchScreen
    from kenar_tui.factory import make_app
    from kenar_tui.keyring_memory import MemoryKeyring

    settings = _settings(filled)
    now = datetime.now(UTC)
    with Cache(settings.cache_file, sealer=bench_sealer(filled)) as cache:
        inbox = Inbox(cache, operator="test", now=lambda: now)
        app = make_app(
            settings,
            inbox=inbox,
            credentials=CredentialStore(MemoryKeyring()),
            clock=lambda: now,
            welcome=False,
        )
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("ctrl+f", *"چرمي")
            search = app.screen
            assert isinstance(search, SearchScreen)
            for _ in range(100):  # until the pause has passed (bounded; no time is asserted)
                if search.hits:
                    break
                await asyncio.sleep(0.05)
            assert len(search.hits) == planted_count(SIZE)
