"""Console tokens shared by every replica on one Redis (the `store = redis://…` deployment).

Replicas behind a load balancer must agree on who may connect: a token created or revoked
once counts on all of them. The named tokens therefore live in Redis, under the store's
key prefix and hash tag (so the scripts also run on a Redis Cluster):

    {prefix}:tokens            hash: name -> {"sha256": digest, "created_at": ...} (JSON)
    {prefix}:tokens:version    counter, raised by every change (one script: change + raise)
    {prefix}:tokens:migrated   set of digests once copied from a tokens.json

Never a token itself: only its SHA-256, as tokens.json keeps. Each replica answers upgrades
from its copy in memory (no Redis round trip on a connection). The copy is re-read when
`kenar-relay token create|revoke` publishes {"t": "tokens"} on the bus, and on every pass of
the revocation watch (relay/revocation.py, each second) if the version moved: a lost
pub/sub message delays a revocation by at most about one watch interval. When Redis does not
answer, the copy in memory keeps answering (refusals stay refusals); the CLI says it cannot
reach the store and changes nothing.

Migration: a replica starting with a tokens.json copies each name Redis lacks, once: a digest
copied before and revoked since is never copied back. A name in both with another digest:
Redis wins, and the replica logs it. Log lines name names, never tokens.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Self

import redis.asyncio as redis
from redis.exceptions import RedisError, ResponseError

from relay.bus import bus_channel
from relay.config import RelayConfig
from relay.errors import TokenError, TokenStoreUnreachable
from relay.redis_store import reason_of, where_of
from relay.stores import is_redis
from relay.tokens import (
    MAX_TOKENS,
    TokenBook,
    TokenReads,
    check_name,
    new_token,
    too_many,
    valid_name,
)

TOKENS_CHANGED = {"t": "tokens"}

# KEYS: tokens hash, version. ARGV: name, value, limit. -1: taken, -2: full, else the count.
_CREATE = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return -1 end
local count = redis.call('HLEN', KEYS[1])
if count >= tonumber(ARGV[3]) then return -2 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('INCR', KEYS[2])
return count + 1
"""

# KEYS: tokens hash, version. ARGV: name. 1 when it was there.
_REVOKE = """
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('INCR', KEYS[2])
return 1
"""

# KEYS: tokens hash, version, migrated set. ARGV: limit, then (name, digest, value) triples.
# Per name: copied | same | differs | gone (copied once, revoked since) | full.
_MIGRATE = """
local out, copied = {}, 0
for i = 2, #ARGV, 3 do
  local name, digest, value = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local held = redis.call('HGET', KEYS[1], name)
  if held then
    local ok, info = pcall(cjson.decode, held)
    if ok and type(info) == 'table' and info['sha256'] == digest then
      out[#out + 1] = 'same'
    else
      out[#out + 1] = 'differs'
    end
    redis.call('SADD', KEYS[3], digest)
  elseif redis.call('SISMEMBER', KEYS[3], digest) == 1 then
    out[#out + 1] = 'gone'
  elseif redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[1]) then
    out[#out + 1] = 'full'
  else
    redis.call('HSET', KEYS[1], name, value)
    redis.call('SADD', KEYS[3], digest)
    copied = copied + 1
    out[#out + 1] = 'copied'
  end
end
if copied > 0 then redis.call('INCR', KEYS[2]) end
return out
"""


def open_token_book(
    config: RelayConfig, *, logger: logging.Logger, serving: bool = False
) -> TokenReads:
    """The book `config` names, not entered yet: Redis's when the store is Redis, else the file.

    `serving`: the relay's own book (the environment's token counts, tokens.json is migrated);
    the CLI's book acts on the named tokens only."""
    client = config.client_token.get_secret_value() if serving and config.client_token else None
    if not is_redis(config.store):
        return TokenBook(config.tokens_path, env_token=client, env_name=config.client_token_name)
    return RedisTokenBook(
        config.store,
        prefix=config.redis_key_prefix,
        logger=logger,
        env_token=client,
        env_name=config.client_token_name,
        legacy_file=config.tokens_path if serving else None,
    )


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _parse(raw: dict[Any, Any]) -> tuple[dict[str, dict[str, str]], int]:
    """The entries of a HGETALL answer, and how many were not a book entry (skipped)."""
    entries: dict[str, dict[str, str]] = {}
    bad = 0
    for key, value in raw.items():
        try:
            info = json.loads(_text(value))
        except ValueError:
            info = None
        if isinstance(info, dict) and isinstance(info.get("sha256"), str):
            entries[_text(key)] = {
                "sha256": info["sha256"],
                "created_at": str(info.get("created_at", "")),
            }
        else:
            bad += 1
    return entries, bad


class RedisTokenBook(TokenReads):
    """The team's named tokens in Redis, plus the environment's; `async with` to use it."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str,
        logger: logging.Logger,
        env_token: str | None = None,
        env_name: str = "console",
        legacy_file: Path | None = None,
    ) -> None:
        TokenReads.__init__(self, env_token=env_token, env_name=env_name)
        tag = "{" + prefix + "}"
        self._hash_key = f"{tag}:tokens"
        self._version_key = f"{tag}:tokens:version"
        self._migrated_key = f"{tag}:tokens:migrated"
        self._channel = bus_channel(prefix)
        self._url = url
        self._log = logger
        self._legacy_file = legacy_file
        self._client: redis.Redis | None = None
        self._copy: dict[str, dict[str, str]] = {}
        self._version: bytes | None = None
        self._loaded = False
        self._unreachable = False  # logged once per outage

    def __repr__(self) -> str:
        return f"RedisTokenBook(key={self._hash_key!r})"

    async def __aenter__(self) -> Self:
        try:
            self._client = redis.Redis.from_url(
                self._url, socket_connect_timeout=5, socket_timeout=5
            )
            await self._client.ping()
            if self._legacy_file is not None:
                await self._migrate(self._legacy_file)
            await self._read()
        except (RedisError, OSError, ValueError) as exc:
            await self.aclose()
            raise self._unreachable_error(exc) from None
        return self

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    def _unreachable_error(self, exc: BaseException) -> TokenError:
        if isinstance(exc, ResponseError):  # it answered, with an error (ACL, OOM, …)
            return TokenError(
                f"the token store, Redis at {where_of(self._url)}, refused the change "
                f"({reason_of(exc)})"
            )
        return TokenStoreUnreachable(
            f"cannot reach the token store, Redis at {where_of(self._url)} ({reason_of(exc)}); "
            "nothing was changed"
        )

    def _entries(self) -> dict[str, dict[str, str]]:
        return self._copy

    async def refresh(self) -> bool:
        """Re-read the tokens if they changed; False when unchanged or Redis is away."""
        if self._client is None:
            return False
        try:
            version = await self._client.get(self._version_key)
            if self._loaded and version == self._version:
                return False
            await self._read()
        except (RedisError, OSError) as exc:
            if not self._unreachable:
                self._unreachable = True
                self._log.warning(
                    "tokens not re-read, answering from the copy in memory error=%s",
                    reason_of(exc),
                )
            return False
        if self._unreachable:
            self._unreachable = False
            self._log.info("tokens re-read from redis again names=%d", len(self._copy))
        return True

    async def _read(self) -> None:
        assert self._client is not None
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.get(self._version_key)
            pipe.hgetall(self._hash_key)
            version, raw = await pipe.execute()
        entries, bad = _parse(raw)
        if bad:
            self._log.warning("token entries in redis not understood, ignored count=%d", bad)
        self._copy, self._version, self._loaded = entries, version, True

    async def create(self, name: str, *, announce: bool = True) -> str:
        """A new token for `name`, shown once; every replica learns it from the bus.

        `announce=False` leaves out the bus message (a test's lost message); the replicas
        still learn it on their next periodic re-read."""
        check_name(name)
        token, info = new_token()
        value = json.dumps(info, separators=(",", ":"))
        keys = [self._hash_key, self._version_key]
        answer = await self._run(_CREATE, keys, name, value, str(MAX_TOKENS))
        if answer == -1:
            raise TokenError(f"a token named {name} exists; revoke it first")
        if answer == -2:
            raise too_many(MAX_TOKENS)
        await self._changed(announce)
        return token

    async def revoke(self, name: str, *, announce: bool = True) -> None:
        """Revoke `name` on every replica: new connections refused, open ones closed."""
        if not await self._run(_REVOKE, [self._hash_key, self._version_key], name):
            raise TokenError(f"no token is named {name}")
        await self._changed(announce)

    async def _run(self, script: str, keys: list[str], *args: str) -> Any:
        if self._client is None:
            raise TokenStoreUnreachable("the token store is closed; nothing was changed")
        try:
            return await self._client.eval(script, len(keys), *keys, *args)
        except (RedisError, OSError) as exc:
            raise self._unreachable_error(exc) from None

    async def _changed(self, announce: bool) -> None:
        assert self._client is not None
        if announce:
            try:
                await self._client.publish(self._channel, json.dumps(TOKENS_CHANGED))
            except (RedisError, OSError) as exc:
                # The change is written; replicas pick it up on their periodic re-read.
                self._log.warning("tokens changed, bus message not sent error=%s", reason_of(exc))
        await self.refresh()

    async def _migrate(self, path: Path) -> None:
        """Copy the names of an existing tokens.json that Redis lacks (once per digest)."""
        try:
            held = TokenBook(path).list_entries()
        except TokenError as exc:
            self._log.warning("tokens.json not migrated to redis: %s", exc)
            return
        names = sorted(name for name in held if valid_name(name))
        if len(names) < len(held):  # a hand-edited file: such a name never reaches a log line
            self._log.warning(
                "tokens.json names not copied, not a token name count=%d", len(held) - len(names)
            )
        if not names:
            return
        args: list[str] = [str(MAX_TOKENS)]
        for name in names:
            info = held[name]
            args += [name, info["sha256"], json.dumps(info, separators=(",", ":"))]
        assert self._client is not None
        keys = [self._hash_key, self._version_key, self._migrated_key]
        answers = [_text(a) for a in await self._client.eval(_MIGRATE, len(keys), *keys, *args)]
        outcome: dict[str, list[str]] = {}
        for name, answer in zip(names, answers, strict=True):
            outcome.setdefault(answer, []).append(name)
        if "copied" in outcome:
            self._log.info(
                "tokens copied from %s to redis names=%s", path, ",".join(outcome["copied"])
            )
        if "differs" in outcome:
            self._log.warning(
                "tokens in %s differ from redis, redis kept names=%s",
                path,
                ",".join(outcome["differs"]),
            )
        if "gone" in outcome:
            self._log.info(
                "tokens in %s revoked since their copy, not copied again names=%s",
                path,
                ",".join(outcome["gone"]),
            )
        if "full" in outcome:
            self._log.warning(
                "tokens in %s not copied, redis holds %d already names=%s",
                path,
                MAX_TOKENS,
                ",".join(outcome["full"]),
            )
