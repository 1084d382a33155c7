"""Console tokens with the Redis store: one book in Redis, seen by every replica within a second.

The CLI runs in-process (in a thread: it runs its own event loop), against the same Redis
prefix the replicas use, through the same settings the server reads (KENAR_RELAY_* env).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from pathlib import Path

import pytest
import redis.asyncio
from websockets.exceptions import ConnectionClosed, InvalidStatus

from relay.cli import main
from relay.errors import TokenError
from relay.tokens import MAX_TOKENS, TokenBook
from relay.tokens_redis import RedisTokenBook
from tests.fixtures.redis import RedisProcess, free_port
from tests.fixtures.relay import RelayFactory
from tests.relay.helpers import Console, console
from tests.relay.test_replicas import ClusterFactory, cluster_factory, shared_relay_keys

pytestmark = pytest.mark.redis
__all__ = ["cluster_factory", "shared_relay_keys"]

WAIT = 15.0
LOG = logging.getLogger("kenar_relay.test.tokens")


async def eventually_accepted(ws_url: str, token: str) -> None:
    """Connect until the relay takes the token (polling: the replica learns it by itself)."""
    async with asyncio.timeout(WAIT):
        while True:
            try:
                async with console(ws_url, token) as client:
                    await client.until("live")
                    return
            except InvalidStatus:
                await asyncio.sleep(0.05)


async def eventually_refused(ws_url: str, token: str) -> None:
    """Connect until the relay answers 401 to the token."""
    async with asyncio.timeout(WAIT):
        while True:
            try:
                async with console(ws_url, token) as client:
                    await client.until("live")
            except InvalidStatus as refused:
                assert refused.response.status_code == 401
                return
            await asyncio.sleep(0.05)


async def closed_as_revoked(client: Console) -> None:
    with pytest.raises(ConnectionClosed):
        await client.frame(within=WAIT)
    assert client.ws.close_code == 1008 and client.ws.close_reason == "token revoked"


def cli_env(monkeypatch: pytest.MonkeyPatch, store: str, prefix: str, data_dir: Path) -> None:
    monkeypatch.setenv("KENAR_RELAY_STORE", store)
    monkeypatch.setenv("KENAR_RELAY_REDIS_KEY_PREFIX", prefix)
    monkeypatch.setenv("KENAR_RELAY_DATA_DIR", str(data_dir))


async def test_a_cli_token_works_on_every_replica_and_its_revocation_closes_and_refuses_on_all(
    cluster_factory: ClusterFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """`token create` once: both replicas take it; `token revoke` once: both refuse and close."""
    cluster = await cluster_factory(2)
    first, second = cluster.replicas
    cli_env(monkeypatch, cluster.redis_url, cluster.prefix, tmp_path / "cli")
    assert await asyncio.to_thread(main, ["token", "create", "سارا"]) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("kr_")
    assert not (tmp_path / "cli" / "tokens.json").exists()  # Redis holds it, not a file
    await eventually_accepted(first.ws_url, token)
    await eventually_accepted(second.ws_url, token)
    assert await asyncio.to_thread(main, ["token", "list"]) == 0
    listing = capsys.readouterr().out
    assert listing.startswith("سارا\t") and token not in listing
    async with console(second.ws_url, token) as open_console:
        await open_console.until("live")
        assert await asyncio.to_thread(main, ["token", "revoke", "سارا"]) == 0
        assert "every replica" in capsys.readouterr().err
        await closed_as_revoked(open_console)
    await eventually_refused(first.ws_url, token)
    await eventually_refused(second.ws_url, token)
    # The environment's token keeps working on every replica.
    await eventually_accepted(first.ws_url, cluster.token)


async def test_a_replica_that_missed_the_bus_message_learns_on_its_periodic_re_read(
    cluster_factory: ClusterFactory, redis_url: str
) -> None:
    """No bus message at all (a lost one): create and revoke still reach both replicas."""
    cluster = await cluster_factory(2)
    first, second = cluster.replicas
    async with RedisTokenBook(redis_url, prefix=cluster.prefix, logger=LOG) as book:
        token = await book.create("reza", announce=False)
        await eventually_accepted(first.ws_url, token)
        await eventually_accepted(second.ws_url, token)
        async with console(first.ws_url, token) as open_console:
            await open_console.until("live")
            await book.revoke("reza", announce=False)
            await closed_as_revoked(open_console)
        await eventually_refused(second.ws_url, token)


async def test_a_replica_copies_its_tokens_json_to_redis_once_and_redis_wins_a_conflict(
    relay_factory: RelayFactory,
    redis_url: str,
    redis_prefix: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Upgrading to Redis keeps the team's tokens; a revoked one is not copied back later."""
    folder = tmp_path / "replica"
    file_book = TokenBook(folder / "tokens.json")
    mina = file_book.create("mina")
    old_sara = file_book.create("sara")
    async with RedisTokenBook(redis_url, prefix=redis_prefix, logger=LOG) as book:
        new_sara = await book.create("sara")
        settings = {"data_dir": folder, "store": redis_url, "redis_key_prefix": redis_prefix}
        with caplog.at_level(logging.INFO, logger="kenar_relay"):
            replica = await relay_factory(**settings)
        lines = [r.getMessage() for r in caplog.records if "tokens" in r.getMessage()]
        assert any("copied" in line and "names=mina" in line for line in lines), lines
        assert any("redis kept names=sara" in line for line in lines), lines
        assert not any(mina in line or old_sara in line or new_sara in line for line in lines)
        await eventually_accepted(replica.ws_url, mina)
        await eventually_accepted(replica.ws_url, new_sara)
        await eventually_refused(replica.ws_url, old_sara)
        await book.revoke("mina")
        await eventually_refused(replica.ws_url, mina)
        # A second replica on the same tokens.json must not bring the revoked token back.
        again = await relay_factory(**settings)
        await eventually_refused(again.ws_url, mina)
        await book.refresh()
        assert [info.name for info in book.list()] == ["sara"]


async def test_create_past_the_bound_is_refused_with_a_sentence(
    redis_url: str, redis_prefix: str
) -> None:
    """At most MAX_TOKENS names; the next create says so and changes nothing."""
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        async with client.pipeline(transaction=False) as pipe:
            for n in range(MAX_TOKENS):
                pipe.hset(f"{{{redis_prefix}}}:tokens", f"n{n}", '{"sha256":"00"}')
            await pipe.execute()
    finally:
        await client.aclose()
    async with RedisTokenBook(redis_url, prefix=redis_prefix, logger=LOG) as book:
        with pytest.raises(TokenError, match="revoke unused ones"):
            await book.create("one-too-many")
        assert len(book.list()) == MAX_TOKENS


async def test_redis_away_the_copy_in_memory_answers_and_the_cli_exits_1(
    redis_process: RedisProcess,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """Known tokens stay known, unknown ones stay refused; the CLI says it cannot reach Redis."""
    prefix = "kenar-test-" + secrets.token_hex(6)
    async with RedisTokenBook(redis_process.url, prefix=prefix, logger=LOG) as book:
        token = await book.create("sara")
        redis_process.stop()
        assert await book.refresh() is False
        found = book.identity(token)
        assert found is not None and found.name == "sara"
        assert book.identity("kr_" + secrets.token_urlsafe(32)) is None
        with pytest.raises(TokenError, match="cannot reach the token store"):
            await book.revoke("sara")
    cli_env(monkeypatch, redis_process.url, prefix, tmp_path)
    assert await asyncio.to_thread(main, ["token", "list"]) == 1
    err = capsys.readouterr().err
    assert "cannot reach the token store" in err and "Traceback" not in err
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    cli_env(monkeypatch, nowhere, prefix, tmp_path)
    assert await asyncio.to_thread(main, ["token", "create", "reza"]) == 1
    assert not (tmp_path / "tokens.json").exists()


async def test_a_hand_edited_name_in_tokens_json_is_not_copied_nor_logged(
    redis_url: str, redis_prefix: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A name no `token create` makes (a control code in it) stays out of Redis and the log."""
    path = tmp_path / "tokens.json"
    good = TokenBook(path).create("sara")
    data = json.loads(path.read_text(encoding="utf-8"))
    data["tokens"]["evil\x1b[2Jname"] = dict(data["tokens"]["sara"], sha256="ab" * 32)
    path.write_text(json.dumps(data), encoding="utf-8")
    with caplog.at_level(logging.INFO, logger=LOG.name):
        async with RedisTokenBook(
            redis_url, prefix=redis_prefix, logger=LOG, legacy_file=path
        ) as book:
            assert [info.name for info in book.list()] == ["sara"]
            found = book.identity(good)
            assert found is not None and found.name == "sara"
    text = caplog.text
    assert "names=sara" in text and "not a token name count=1" in text
    assert "\x1b" not in text and "evil" not in text and good not in text
