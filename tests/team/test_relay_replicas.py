"""Team mode across relay replicas on one Redis: presence and OAuth codes reach any replica."""

from __future__ import annotations

import asyncio
import contextlib

import httpx
import pytest

from tests.relay.helpers import console, shared_named_token
from tests.team.conftest import Cluster, ClusterFactory, eventually
from tests.team.test_relay_presence import CID, presence_of

pytestmark = pytest.mark.redis


async def token_of(cluster: Cluster, name: str) -> str:
    """`name`'s own token, in the Redis book every replica of the cluster shares."""
    servers = [replica.server for replica in cluster.replicas]
    return await shared_named_token(name, cluster.redis_url, cluster.prefix, *servers)


async def test_presence_crosses_replicas_and_clears_when_its_console_leaves(
    cluster_factory: ClusterFactory,
) -> None:
    """Sara on replica 1 replying is seen by consoles on replicas 2 and 3; her leaving clears it."""
    cluster = await cluster_factory(3)
    first, second, third = cluster.replicas
    async with contextlib.AsyncExitStack() as stack:
        reza = await stack.enter_async_context(
            console(second.ws_url, await token_of(cluster, "رضا"), operator="رضا")
        )
        mina = await stack.enter_async_context(
            console(third.ws_url, await token_of(cluster, "مینا"), operator="مینا")
        )
        await reza.until("live")
        await mina.until("live")
        async with console(first.ws_url, await token_of(cluster, "سارا"), operator="سارا") as sara:
            await sara.until("live")
            await sara.send(type="presence", conversation_id=CID, state="replying")
            seen = await asyncio.gather(
                presence_of(reza, "replying"), presence_of(mina, "replying")
            )
        cleared = await asyncio.gather(presence_of(reza, "idle"), presence_of(mina, "idle"))
    assert [f["operator"] for f in seen] == ["سارا", "سارا"]
    assert [f["conversation_id"] for f in cleared] == [CID, CID]


async def test_a_late_console_on_another_replica_gets_the_snapshot(
    cluster_factory: ClusterFactory,
) -> None:
    """Presence announced on replica 1 is in the snapshot a console on replica 3 gets after live."""
    cluster = await cluster_factory(3)
    first, _, third = cluster.replicas
    async with console(first.ws_url, await token_of(cluster, "سارا"), operator="سارا") as sara:
        await sara.until("live")
        await sara.send(type="presence", conversation_id=CID, state="viewing")
        assert third.server.ctx is not None
        book = third.server.ctx.presence
        await eventually(lambda: book.count > 0, "replica 3 to know the presence")
        async with console(third.ws_url, await token_of(cluster, "رضا"), operator="رضا") as reza:
            await reza.until("live")
            frame = await reza.until("presence")
    assert frame["operator"] == "سارا" and frame["state"] == "viewing"


async def test_the_oauth_code_reaches_a_console_on_another_replica(
    cluster_factory: ClusterFactory, http: httpx.AsyncClient
) -> None:
    """The browser lands on replica 3; the console waiting on replica 1 gets the code, once."""
    cluster = await cluster_factory(3)
    first, second, third = cluster.replicas
    state = "state-cross-replica-0123456789"
    async with (
        console(first.ws_url, cluster.token) as waiting,
        console(second.ws_url, cluster.token) as other,
    ):
        await waiting.until("live")
        await other.until("live")
        await waiting.send(type="oauth_state", state=state)
        async with asyncio.timeout(10):
            while True:
                page = await http.get(
                    third.url + "/oauth/callback", params={"state": state, "code": "the-code"}
                )
                if page.status_code == 200:
                    break
                await asyncio.sleep(0.02)
        frame = await waiting.until("oauth")
        replay = await http.get(
            second.url + "/oauth/callback", params={"state": state, "code": "again"}
        )
    assert frame == {"type": "oauth", "state": state, "code": "the-code"}
    assert "ترمینال" in page.text and "the-code" not in page.text
    assert replay.status_code == 400


async def test_an_unknown_state_is_refused_honestly_on_every_replica(
    cluster_factory: ClusterFactory, http: httpx.AsyncClient
) -> None:
    """No console anywhere announced the state: the page says so (400), on any replica."""
    cluster = await cluster_factory(2)
    answers = [
        await http.get(r.url + "/oauth/callback", params={"state": "nobody-waits-x", "code": "c"})
        for r in cluster.replicas
    ]
    assert [a.status_code for a in answers] == [400, 400]
    assert all("No console is waiting" in a.text for a in answers)


async def test_a_closed_console_no_longer_claims_its_state(
    cluster_factory: ClusterFactory, http: httpx.AsyncClient
) -> None:
    """A console that announced a state and left: the callback on another replica says 400."""
    cluster = await cluster_factory(2)
    first, second = cluster.replicas
    state = "state-left-before-callback"
    async with console(first.ws_url, cluster.token) as waiting:
        await waiting.until("live")
        await waiting.send(type="oauth_state", state=state)
        marker = {"type": "presence", "conversation_id": CID, "state": "idle"}
        await waiting.send(**marker)  # frames are read in order: the state is announced by now
    assert first.server.ctx is not None
    ctx = first.server.ctx
    await eventually(lambda: ctx.hub.console_count == 0, "the console to be gone")
    page = await http.get(second.url + "/oauth/callback", params={"state": state, "code": "c"})
    assert page.status_code == 400
