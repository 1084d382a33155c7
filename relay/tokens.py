"""Console tokens: named, stored hashed in `tokens.json` in the data directory, plus one from env.

With the Redis store the named tokens live in Redis instead, shared by every replica
(relay/tokens_redis.py); both books answer `identity`, `holds` and `list` the same way.

A token is shown once, when it is created; the file keeps only its SHA-256 (tokens are 256
random bits, so a fast hash is enough). A token is bound to its name: the relay posts and
announces presence as that name, whatever a console claims (docs/security.md). The relay
re-reads the file when it changes, so a revoked token stops working for new connections
without a restart, and the relay's watcher closes its open connections (relay/server.py).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kenar_core.files import private_dir, write_atomically
from kenar_core.lifecycle import AsyncResource
from relay.errors import TokenError

_NAME = re.compile(r"\w[\w.\-]{0,63}")
TOKEN_PREFIX = "kr_"
MAX_TOKENS = 1000  # a team's consoles; past this `create` is refused with a sentence


@dataclass(frozen=True, slots=True)
class TokenInfo:
    name: str
    created_at: str


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a presented token is: its name, and its digest (to notice a revocation later)."""

    name: str
    digest: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def valid_name(name: str) -> bool:
    return _NAME.fullmatch(name) is not None


def check_name(name: str) -> None:
    """TokenError with a sentence unless `name` can name a token."""
    if not valid_name(name):
        raise TokenError("a token name is letters, digits, '.', '-' or '_' (at most 64), e.g. sara")


def new_token() -> tuple[str, dict[str, str]]:
    """A fresh token and what a book keeps of it: its digest and creation time."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    created = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return token, {"sha256": _digest(token), "created_at": created}


def too_many(count: int) -> TokenError:
    return TokenError(
        f"there are {count} tokens, the most the relay keeps; revoke unused ones first"
    )


class TokenReads(AsyncResource):
    """The lookups every book answers from its in-memory entries (no I/O on an upgrade).

    A book is entered (`async with`) by the relay: the Redis book connects then."""

    def __init__(self, *, env_token: str | None, env_name: str) -> None:
        self._env_digest = _digest(env_token) if env_token else None
        self._env_name = env_name

    def _entries(self) -> dict[str, dict[str, str]]:
        raise NotImplementedError

    async def aclose(self) -> None:
        return None

    async def refresh(self) -> bool:
        """Re-read a shared book (Redis); a file book re-reads itself when the file changes."""
        return False

    def list(self) -> list[TokenInfo]:
        return [
            TokenInfo(name, str(info.get("created_at", "")))
            for name, info in sorted(self._entries().items())
        ]

    def identify(self, token: str) -> str | None:
        """The name a presented token belongs to, or None; every comparison is constant-time."""
        found = self.identity(token)
        return found.name if found is not None else None

    def identity(self, token: str) -> Identity | None:
        """The name and digest of a presented token, or None when it is unknown or revoked."""
        digest = _digest(token)
        found: str | None = None
        if self._env_digest is not None and hmac.compare_digest(digest, self._env_digest):
            found = self._env_name
        try:
            tokens = self._entries()
        except TokenError:
            tokens = {}
        for name, info in tokens.items():
            stored = str(info.get("sha256", ""))
            if hmac.compare_digest(digest, stored) and found is None:
                found = name
        return Identity(found, digest) if found is not None else None

    def holds(self, identity: Identity) -> bool:
        """Whether `identity`'s token is still valid (not revoked, not replaced)."""
        if identity.digest == self._env_digest and identity.name == self._env_name:
            return True
        try:
            tokens = self._entries()
        except TokenError:
            return True  # an unreadable file revokes nothing; identify() refuses new ones
        info = tokens.get(identity.name)
        return isinstance(info, dict) and hmac.compare_digest(
            str(info.get("sha256", "")), identity.digest
        )


class TokenBook(TokenReads):
    """The named tokens in `path`, and optionally one more from the environment."""

    def __init__(self, path: Path, *, env_token: str | None = None, env_name: str = "console"):
        super().__init__(env_token=env_token, env_name=env_name)
        self._path = path
        self._cache: dict[str, dict[str, str]] = {}
        self._stamp: tuple[int, int] | None = None

    def _load(self) -> dict[str, dict[str, str]]:
        try:
            stat = self._path.stat()
        except FileNotFoundError:
            self._cache, self._stamp = {}, None
            return self._cache
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            try:
                data = json.loads(self._path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise TokenError(f"the token file {self._path} is unreadable: {exc}") from None
            tokens = data.get("tokens", {}) if isinstance(data, dict) else {}
            self._cache = tokens if isinstance(tokens, dict) else {}
            self._stamp = stamp
        return self._cache

    def _save(self, tokens: dict[str, dict[str, str]]) -> None:
        private_dir(self._path.parent)  # the relay's data dir: 0700 before anything in it
        write_atomically(self._path, json.dumps({"tokens": tokens}, indent=2, ensure_ascii=False))
        self._stamp = None

    def create(self, name: str) -> str:
        """A new token for `name` (shown once); TokenError if the name is taken or invalid."""
        check_name(name)
        tokens = dict(self._load())
        if name in tokens:
            raise TokenError(f"a token named {name} exists; revoke it first")
        if len(tokens) >= MAX_TOKENS:
            raise too_many(len(tokens))
        token, tokens[name] = new_token()
        self._save(tokens)
        return token

    def revoke(self, name: str) -> None:
        tokens = dict(self._load())
        if name not in tokens:
            raise TokenError(f"no token is named {name}")
        del tokens[name]
        self._save(tokens)

    def _entries(self) -> dict[str, dict[str, str]]:
        return self._load()

    def list_entries(self) -> dict[str, dict[str, str]]:
        """Each name's digest and creation time as the file keeps them (to copy to Redis)."""
        return {
            name: {"sha256": info["sha256"], "created_at": str(info.get("created_at", ""))}
            for name, info in self._load().items()
            if isinstance(info, dict) and isinstance(info.get("sha256"), str)
        }
