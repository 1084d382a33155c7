"""New-message toasts never cover the history being read on a narrow terminal (issue #16)."""

from __future__ import annotations

from typing import Any

import pytest

from kenar_tui.app import TOAST_MIN_WIDTH
from tests.console.test_app_live import running, world  # noqa: F401  (the fixture)


@pytest.mark.parametrize(("size", "toasted"), [((80, 24), False), ((160, 48), True)])
async def test_a_new_message_toasts_only_where_the_history_stays_readable(
    world: Any,  # noqa: F811
    size: tuple[int, int],
    toasted: bool,
) -> None:
    async with running(world.settings, world.credentials, size=size) as (app, pilot):
        await pilot.pause()
        assert (app.size.width >= TOAST_MIN_WIDTH) is toasted
        before = len(app._notifications)
        app.notify_new_message("آگهی پژو", "سلام، هنوز هست؟")
        await pilot.pause()
        shown = [n for n in list(app._notifications)[before:] if "هنوز" in str(n.message)]
        assert bool(shown) is toasted
