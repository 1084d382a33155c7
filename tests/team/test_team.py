"""The console's team rules without a screen: presence bookkeeping, collisions, filters."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from kenar_tui.inbox import Inbox
from kenar_tui.store.cache import Cache
from kenar_tui.team import PresenceSender, TeamPresence, collision, filter_posts
from tests.console.conftest import CID_CAR_1, CID_CAR_2, CID_FLAT, FIXED_NOW
from tests.team.test_team_snapshots import reply_data, team_entry


def frame(operator: str, cid: str, state: str, expires_in: int = 30) -> dict[str, Any]:
    return {
        "type": "presence",
        "operator": operator,
        "conversation_id": cid,
        "state": state,
        "expires_in": expires_in,
    }


def test_presence_reads_as_words_and_expires_without_a_refresh() -> None:
    """ "سارا is replying · رضا is viewing"; a presence past its expires_in is dropped."""
    clock = [100.0]
    team = TeamPresence(clock=lambda: clock[0])
    assert team.apply(frame("رضا", "c1", "viewing", 10)) == "c1"
    assert team.apply(frame("سارا", "c1", "replying", 30)) == "c1"
    assert team.apply(frame("سارا", "c1", "replying", 30)) is None  # a refresh: no change
    assert team.line("c1") == "سارا is replying · رضا is viewing"
    assert team.line("c1", me="سارا") == "رضا is viewing"
    assert team.markers() == {"c1": "◉ رضا, ✎ سارا"}
    clock[0] += 11
    assert team.expire() == {"c1"}
    assert team.line("c1") == "سارا is replying"
    assert team.apply(frame("سارا", "c1", "idle", 0)) == "c1"
    assert team.line("c1") == ""


def test_own_presence_is_sent_on_change_and_refreshed_in_time() -> None:
    """Moving conversations clears the old one; the same state is re-sent only when due."""
    clock = [0.0]
    sender = PresenceSender(clock=lambda: clock[0])
    assert sender.want("c1", "viewing") == [("c1", "viewing")]
    assert sender.want("c1", "viewing") == []
    assert sender.want("c1", "replying") == [("c1", "replying")]
    assert sender.want("c2", "viewing") == [("c1", "idle"), ("c2", "viewing")]
    assert sender.due() is None
    clock[0] += 10
    assert sender.due() == ("c2", "viewing")
    assert sender.resend() == ("c2", "viewing")


def test_collision_asks_after_a_teammates_recent_reply_only(tmp_path: Path) -> None:
    """A teammate's reply within the minute asks; our own, or an older one, does not."""
    with Cache(tmp_path / "cache.sqlite3") as cache:
        inbox = Inbox(cache, operator="سارا", now=lambda: FIXED_NOW)
        entry = team_entry("reply", "رضا", 0.5, reply_data("بله", "r-1"))
        inbox.apply(1, entry)
        team = TeamPresence()
        asked = collision(inbox, team, entry["conversation_id"], me="سارا", now=FIXED_NOW)
        later = FIXED_NOW + timedelta(minutes=2)
        calm = collision(inbox, team, entry["conversation_id"], me="سارا", now=later)
        own = collision(inbox, team, entry["conversation_id"], me="رضا", now=FIXED_NOW)
    assert asked == "رضا replied here <1m ago. Send yours anyway?"
    assert calm is None and own is None


def test_assignments_survive_a_restart_and_drive_the_filters(console_inbox: Inbox) -> None:
    """The latest assignment per conversation is in force, also for a new Inbox on the cache."""
    seq = console_inbox.last_seq
    for n, (cid, assignee) in enumerate(
        [(CID_CAR_1, "سارا"), (CID_CAR_2, "رضا"), (CID_CAR_2, None)], start=1
    ):
        data = {"assignee": assignee, "by": "رضا"}
        console_inbox.apply(
            seq + n, team_entry("assignment", "رضا", 1, data) | {"conversation_id": cid}
        )
    again = Inbox(console_inbox.cache, operator="سارا", now=lambda: FIXED_NOW)
    assignees = again.assignees()
    posts = again.posts()

    def ids(mode: str) -> set[str]:
        kept = filter_posts(posts, assignees, me="سارا", mode=mode, now=FIXED_NOW)
        return {c.id for p in kept for c in p.conversations}

    assert assignees == {CID_CAR_1: "سارا", CID_CAR_2: None}
    assert console_inbox.assignee(CID_CAR_2) is None
    assert ids("mine") == {CID_CAR_1}
    assert ids("unassigned") == {CID_CAR_2, CID_FLAT}
    assert ids("everyone") == {CID_CAR_1, CID_CAR_2, CID_FLAT}
