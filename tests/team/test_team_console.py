"""Team mode with two and three consoles (Pilot) against one real relay and the sandbox."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
from textual.pilot import Pilot

from kenar_tui.app import KenarApp
from kenar_tui.commands.demo import demo_environment
from kenar_tui.controllers import live_feed
from kenar_tui.dialogs.confirm import ConfirmScreen
from kenar_tui.dialogs.name_prompt import NamePromptScreen
from kenar_tui.factory import open_console
from relay.tokens import TokenBook
from tests.console.test_app_live import history_text, record_notifications, relay_live, until

SIZE = (110, 32)
CAR = "gZd7omnS"
SARA, REZA, MINA = "سارا", "رضا", "مینا"

pytestmark = pytest.mark.timeout(120)


@dataclass
class Seat:
    """One teammate's console under Pilot."""

    app: KenarApp
    pilot: Pilot[Any]

    def header(self) -> str:
        header = self.app.main_screen.query_one("#conversation-header")
        return str(header.render())

    def listing(self) -> str:
        return "\n".join(self.app.main_screen.conversations.visible_text())

    def history(self) -> str:
        return history_text(self.app)


class OwnRelayToken:
    """The team's shared credentials, except for this teammate's own relay token."""

    def __init__(self, shared: Any, relay_token: str) -> None:
        self._shared = shared
        self.relay_token = relay_token

    def __getattr__(self, name: str) -> Any:
        return getattr(self._shared, name)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[Any]:
    """Sandbox (buyers idle) + one relay + demo credentials shared by the team."""
    async with demo_environment(
        seed=5, rate=0.0, data_dir=tmp_path, logger=logging.getLogger("tests.team")
    ) as env:
        yield env


@contextlib.asynccontextmanager
async def team(
    world: Any, tmp_path: Path, *names: str, **settings: Any
) -> AsyncIterator[list[Seat]]:
    """A console per name, each with its own cache, all on the same relay, all live."""
    async with contextlib.AsyncExitStack() as stack:
        seats = []
        for name in names:
            configured = world.settings.model_copy(
                update={"operator": name, "data_dir": tmp_path / f"console-{name}", "bidi": False}
                | settings
            )
            # Each teammate connects with a token of their own: the relay posts as its name.
            own = TokenBook(world.relay.config.tokens_path).create(name)
            credentials = cast(Any, OwnRelayToken(world.credentials, own))
            app = await stack.enter_async_context(open_console(configured, credentials))
            pilot = await stack.enter_async_context(app.run_test(size=SIZE))
            seats.append(Seat(app, pilot))
        for seat in seats:
            await until(seat.pilot, lambda s=seat: relay_live(s.app), "the relay link")
        yield seats


async def open_on_all(seats: list[Seat], cid: str) -> None:
    for seat in seats:
        await until(seat.pilot, lambda s=seat: s.app.inbox.conversation(cid) is not None, "entry")
        seat.app.main_screen.show_conversation(cid)


async def reply(seat: Seat, text: str) -> None:
    await seat.pilot.press("ctrl+r")
    seat.app.main_screen.composer.insert(text)
    await seat.pilot.press("enter")


async def test_a_reply_by_one_shows_its_author_in_the_others(world: Any, tmp_path: Path) -> None:
    """Sara answers: Reza and Mina see "سارا" on the reply; Sara sees it as her own ("you")."""
    control = world.sandbox.control
    async with team(world, tmp_path, SARA, REZA, MINA) as seats:
        sara, reza, mina = seats
        cid = (await control.inject_message(post_token=CAR, text="موجوده؟"))["conversation_id"]
        await open_on_all(seats, cid)
        await reply(sara, "بله، موجوده")
        for seat in (reza, mina):
            await until(seat.pilot, lambda s=seat: "بله، موجوده" in s.history(), "the reply")
        await until(sara.pilot, lambda: "sent ✓" in sara.history(), "the reply sent")
        theirs, own = reza.history(), sara.history()
    assert f"{SARA}  " in theirs and "you" not in theirs
    assert f"you ({SARA})" in own


async def test_presence_shows_live_and_clears_when_a_console_quits(
    world: Any, tmp_path: Path
) -> None:
    """Reza sees "سارا is viewing", then "is replying" as she types, nothing once she quits."""
    control = world.sandbox.control
    async with team(world, tmp_path, REZA) as (reza,):
        cid = (await control.inject_message(post_token=CAR, text="قیمت؟"))["conversation_id"]
        await open_on_all([reza], cid)
        async with team(world, tmp_path, SARA) as (sara,):
            await open_on_all([sara], cid)
            await until(reza.pilot, lambda: f"{SARA} is viewing" in reza.header(), "viewing")
            await sara.pilot.press("ctrl+r")
            sara.app.main_screen.composer.insert("قیمت نهایی")
            await until(reza.pilot, lambda: f"{SARA} is replying" in reza.header(), "replying")
            await until(reza.pilot, lambda: f"✎ {SARA}" in reza.listing(), "the list marker")
        await until(reza.pilot, lambda: SARA not in reza.header(), "the presence cleared")
        assert f"✎ {SARA}" not in reza.listing()


async def test_sending_after_a_teammates_reply_asks_first(world: Any, tmp_path: Path) -> None:
    """Sara replied a moment ago: Reza's Enter asks; "no" keeps his text, "yes" sends it."""
    control = world.sandbox.control
    async with team(world, tmp_path, SARA, REZA) as seats:
        sara, reza = seats
        cid = (await control.inject_message(post_token=CAR, text="تخفیف دارید؟"))["conversation_id"]
        await open_on_all(seats, cid)
        await reply(sara, "نه متاسفانه")
        await until(reza.pilot, lambda: "نه متاسفانه" in reza.history(), "Sara's reply")
        await reply(reza, "شاید کمی")
        await until(reza.pilot, lambda: isinstance(reza.app.screen, ConfirmScreen), "the question")
        question = reza.app.screen.question  # type: ignore[attr-defined]
        await reza.pilot.press("n")
        assert reza.app.main_screen.composer.text == "شاید کمی"
        await reza.pilot.press("ctrl+r", "enter")
        await until(reza.pilot, lambda: isinstance(reza.app.screen, ConfirmScreen), "asked again")
        await reza.pilot.press("y")
        await until(reza.pilot, lambda: "sent ✓" in reza.history(), "Reza's reply sent")
        sent = [s["body"].get("message") for s in await control.sent()]
    assert question.startswith(f"{SARA} replied here")
    assert sent == ["نه متاسفانه", "شاید کمی"]


async def test_sending_while_a_teammate_types_asks_first(world: Any, tmp_path: Path) -> None:
    """Sara is typing in the conversation: Reza's send is held for a confirmation."""
    control = world.sandbox.control
    async with team(world, tmp_path, SARA, REZA) as seats:
        sara, reza = seats
        cid = (await control.inject_message(post_token=CAR, text="سلام"))["conversation_id"]
        await open_on_all(seats, cid)
        await sara.pilot.press("ctrl+r")
        sara.app.main_screen.composer.insert("در حال نوشتن")
        await until(reza.pilot, lambda: f"{SARA} is replying" in reza.header(), "replying")
        await reply(reza, "سلام، بفرمایید")
        await until(reza.pilot, lambda: isinstance(reza.app.screen, ConfirmScreen), "the question")
        question = reza.app.screen.question  # type: ignore[attr-defined]
        await reza.pilot.press("n")
    assert question == f"{SARA} is replying here right now. Send anyway?"
    assert await control.sent() == []


async def test_take_give_release_and_the_list_filters(world: Any, tmp_path: Path) -> None:
    """Reza takes one conversation, gives another to Sara; the filters show mine / unassigned."""
    control = world.sandbox.control
    async with team(world, tmp_path, SARA, REZA) as seats:
        sara, reza = seats
        first = (await control.inject_message(post_token=CAR, text="اولی"))["conversation_id"]
        second = (await control.inject_message(post_token=CAR, text="دومی"))["conversation_id"]
        third = (await control.inject_message(post_token=CAR, text="سومی"))["conversation_id"]
        await open_on_all(seats, first)
        await reza.pilot.press("alt+t")
        await until(sara.pilot, lambda: sara.app.inbox.assignee(first) == REZA, "taken")
        reza.app.main_screen.show_conversation(second)
        await reza.pilot.press("alt+a")
        await until(reza.pilot, lambda: isinstance(reza.app.screen, NamePromptScreen), "prompt")
        await reza.pilot.press(*SARA, "enter")
        await until(sara.pilot, lambda: sara.app.inbox.assignee(second) == SARA, "given")
        await until(sara.pilot, lambda: f"→ {REZA}" in sara.listing(), "the label")
        sara.app.main_screen.show_conversation(first)
        await until(sara.pilot, lambda: f"→ {REZA}" in sara.header(), "the header")

        await sara.pilot.press("alt+m")  # mine
        await until(sara.pilot, lambda: sara.app.main_screen.status.team_filter != "", "filtered")
        mine = list(sara.app.main_screen.conversations.conversation_ids)
        status = sara.app.main_screen.status.team_filter
        await sara.pilot.press("alt+m")  # unassigned
        await sara.pilot.pause()
        unassigned = list(sara.app.main_screen.conversations.conversation_ids)
        await sara.pilot.press("alt+m")  # everyone's again
        await sara.pilot.pause()
        everyone = set(sara.app.main_screen.conversations.conversation_ids)

        reza.app.main_screen.show_conversation(first)
        await reza.pilot.press("alt+t")  # his already: released
        await until(sara.pilot, lambda: sara.app.inbox.assignee(first) is None, "released")
        history = sara.history()
    assert mine == [second] and status == "showing: mine"
    assert unassigned == [third]
    assert everyone == {first, second, third}
    assert f"taken by {REZA}" in history
    assert f"released by {REZA}" in history


async def test_a_note_reaches_teammates_and_never_divar(world: Any, tmp_path: Path) -> None:
    """ "/note …" and F6 save team notes: shown as "note · سارا" to Reza, never sent to Kenar."""
    control = world.sandbox.control
    async with team(world, tmp_path, SARA, REZA) as seats:
        sara, reza = seats
        cid = (await control.inject_message(post_token=CAR, text="شماره بدید"))["conversation_id"]
        await open_on_all(seats, cid)
        await reply(sara, "/note این خریدار قبلاً هم پیام داده")
        await sara.pilot.press("ctrl+r")
        sara.app.main_screen.composer.insert("با تلفن هماهنگ شد")
        await sara.pilot.press("f6")
        for text in ("این خریدار قبلاً هم پیام داده", "با تلفن هماهنگ شد"):
            await until(reza.pilot, lambda t=text: t in reza.history(), "the note")
        await until(sara.pilot, lambda: "با تلفن هماهنگ شد" in sara.history(), "her own note")
        theirs = reza.history()
        sent = await control.sent()
        answered = reza.app.inbox.conversation(cid).answered
        left = sara.app.main_screen.composer.text
    assert theirs.count(f"note · {SARA}") == 2
    assert sent == [] and not answered  # a note is not an answer to the buyer
    assert left == ""


async def test_a_message_in_an_assigned_conversation_alerts_its_assignee_first(
    world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Assigned to Reza: he is notified at once; Sara only after the quiet period, if unanswered."""
    monkeypatch.setattr(live_feed, "TOAST_GAP_S", 0.0)  # every alert counts here, not bursts
    control = world.sandbox.control
    async with team(world, tmp_path, SARA, REZA, assigned_quiet_seconds=0.5) as seats:
        sara, reza = seats
        cid = (await control.inject_message(post_token=CAR, text="هستید؟"))["conversation_id"]
        await open_on_all(seats, cid)
        await reza.pilot.press("alt+t")
        await until(sara.pilot, lambda: sara.app.inbox.assignee(cid) == REZA, "assigned")
        for seat in seats:  # look elsewhere, so the message is news to both
            seat.app.main_screen.show_conversation(
                (await control.inject_message(post_token=CAR, text="دیگری"))["conversation_id"]
            )
        to_sara, to_reza = record_notifications(sara.app), record_notifications(reza.app)
        await control.inject_message(cid, text="لطفا جواب بدید")
        await until(reza.pilot, lambda: any("لطفا" in p for _, p in to_reza), "Reza's alert")
        at_once = list(to_sara)
        await until(sara.pilot, lambda: any("لطفا" in p for _, p in to_sara), "Sara's late alert")
    assert not any("لطفا" in p for _, p in at_once)
    assert any(f"still unanswered by {REZA}" in t for t, _ in to_sara)
