"""The console's secrets, kept in the system keyring and nowhere else.

One keyring service (`kenar-tui`), one entry per secret:

    api-key, client-secret, relay-token     the app's and the relay's secrets, as typed
    token:<id>                              one OAuth token set, JSON {access_token,
                                            refresh_token, scopes, expires_at, ...}
    tokens                                  the index: JSON {"tokens": [ids], "stale": [ids]}

Keyring backends cannot list their entries, hence the index. A token is replaced by writing
the new entry, then the index, then deleting the old entry, so a crash at any point leaves an
index whose live ids name entries that exist; an entry a crash could orphan is named under
"stale" first and deleted the next time the store opens.

When no keyring backend works, every operation raises `CredentialError` saying how to get one;
nothing is ever written in plain text unless the user chose such a backend themselves.
The token set itself, `StoredToken`, is in kenar_tui/stored_token.py (re-exported here).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime

from keyring.backend import KeyringBackend
from keyring.errors import KeyringError, KeyringLocked, PasswordDeleteError

from kenar_api.scopes import read_breadth, send_breadth
from kenar_core.errors import CredentialError, KeyringUnavailable
from kenar_tui.keyring_choice import NO_BACKEND_HELP, backend_name, check_backend, system_backend
from kenar_tui.keyring_file import LOCKED_WORDS, KeyringFileError
from kenar_tui.stored_token import StoredToken, new_token_id

__all__ = [
    "INDEX",
    "NO_BACKEND_HELP",
    "SECRET_NAMES",
    "SERVICE",
    "TOKEN_PREFIX",
    "CredentialStore",
    "StoredToken",
    "backend_name",
    "check_backend",
    "new_token_id",
    "system_backend",
]

SERVICE = "kenar-tui"
INDEX = "tokens"
TOKEN_PREFIX = "token:"
SECRET_NAMES = ("api-key", "client-secret", "relay-token")


def _now() -> datetime:
    return datetime.now(UTC)


class CredentialStore:
    """The keyring-backed secrets of one console: app secrets, relay token, OAuth tokens."""

    def __init__(
        self,
        keyring_backend: KeyringBackend | None = None,
        *,
        now: Callable[[], datetime] = _now,
        logger: logging.Logger | None = None,
    ) -> None:
        backend = keyring_backend if keyring_backend is not None else system_backend()
        check_backend(backend)
        self._backend = backend
        self._now = now
        self._log = logger or logging.getLogger("kenar_tui.credentials")
        self._cache: tuple[str | None, list[StoredToken]] | None = None
        self._sweep_stale()

    @property
    def backend_name(self) -> str:
        return backend_name(self._backend)

    @property
    def keyring_backend(self) -> KeyringBackend:
        """The backend these secrets live in; the cache's encryption key is kept there too."""
        return self._backend

    # -- raw entries -------------------------------------------------------------------------

    def _get(self, name: str) -> str | None:
        try:
            return self._backend.get_password(SERVICE, name)
        except (KeyringError, EOFError) as exc:
            raise _error("read", name, exc) from None

    def _set(self, name: str, value: str) -> None:
        try:
            self._backend.set_password(SERVICE, name, value)
        except (KeyringError, EOFError) as exc:
            raise _error("write", name, exc) from None

    def _delete(self, name: str) -> bool:
        try:
            self._backend.delete_password(SERVICE, name)
        except PasswordDeleteError:
            return False
        except (KeyringError, EOFError) as exc:
            raise _error("delete", name, exc) from None
        return True

    # -- the three plain secrets -------------------------------------------------------------

    def secret(self, name: str) -> str | None:
        _check_name(name)
        return self._get(name) or None

    def set_secret(self, name: str, value: str | None) -> None:
        """Store `value` under `name`; None or an empty string removes it."""
        _check_name(name)
        if value is None or not value.strip():
            self.forget_secret(name)
            return
        self._set(name, value.strip())
        self._log.info("stored %s", name)

    def forget_secret(self, name: str) -> bool:
        _check_name(name)
        removed = self._delete(name)
        if removed:
            self._log.info("forgot %s", name)
        return removed

    def has_secret(self, name: str) -> bool:
        return self.secret(name) is not None

    @property
    def api_key(self) -> str | None:
        return self.secret("api-key")

    @api_key.setter
    def api_key(self, value: str | None) -> None:
        self.set_secret("api-key", value)

    @property
    def client_secret(self) -> str | None:
        return self.secret("client-secret")

    @client_secret.setter
    def client_secret(self, value: str | None) -> None:
        self.set_secret("client-secret", value)

    @property
    def relay_token(self) -> str | None:
        return self.secret("relay-token")

    @relay_token.setter
    def relay_token(self, value: str | None) -> None:
        self.set_secret("relay-token", value)

    def require(self, name: str) -> str:
        """The secret `name`, or CredentialError saying how to store it."""
        value = self.secret(name)
        if value is None:
            raise CredentialError(f"no {name} is stored; store it with `kenar-tui auth set {name}`")
        return value

    # -- OAuth tokens ------------------------------------------------------------------------

    def _read_index(self) -> tuple[list[str], list[str]]:
        return self._parse_index(self._get(INDEX))

    def _parse_index(self, text: str | None) -> tuple[list[str], list[str]]:
        if not text:
            return [], []
        try:
            data = json.loads(text)
            ids = [str(i) for i in data.get("tokens", [])]
            stale = [str(i) for i in data.get("stale", [])]
        except (ValueError, AttributeError):
            raise CredentialError(
                "the keyring's token index is damaged; run `kenar-tui auth forget tokens` "
                "and log in again"
            ) from None
        return ids, stale

    def _write_index(self, ids: list[str], stale: list[str]) -> None:
        if not ids and not stale:
            self._delete(INDEX)
            return
        self._set(INDEX, json.dumps({"tokens": ids, "stale": stale}))

    def _sweep_stale(self) -> None:
        ids, stale = self._read_index()
        if not stale:
            return
        for token_id in stale:
            self._delete(TOKEN_PREFIX + token_id)
        self._write_index(ids, [])

    def tokens(self) -> list[StoredToken]:
        """Every stored token set, in the order they were stored.

        Every change to a token entry also rewrites the index, so the token sets parsed for an
        index text stay right while it is unchanged: one keyring read per call, not one per
        token (a Secret Service answers each over D-Bus).
        """
        text = self._get(INDEX)
        if self._cache is not None and self._cache[0] == text:
            return list(self._cache[1])
        ids, _ = self._parse_index(text)
        found: list[StoredToken] = []
        for token_id in ids:
            entry = self._get(TOKEN_PREFIX + token_id)
            if entry is None:
                continue
            try:
                found.append(StoredToken.from_json(token_id, entry))
            except (ValueError, KeyError, TypeError):
                self._log.warning("token entry %s is damaged; skipped", token_id)
        self._cache = (text, found)
        return list(found)

    def token(self, token_id: str) -> StoredToken | None:
        return next((t for t in self.tokens() if t.id == token_id), None)

    def add_token(self, token: StoredToken) -> StoredToken:
        """Store a new token set; one with exactly the same scopes is replaced by it."""
        stored = self.tokens()
        same = next((t for t in stored if set(t.scopes) == set(token.scopes)), None)
        if same is not None:
            return self.replace_token(same.id, token)
        while token.id in {t.id for t in stored}:
            token = replace(token, id=new_token_id())
        self._set(TOKEN_PREFIX + token.id, token.to_json())
        ids, stale = self._read_index()
        self._write_index([*ids, token.id], stale)
        self._log.info("stored token %s (%d scopes)", token.id, len(token.scopes))
        self.tokens()  # read again now: known_can_send (the screen's) sees it at once
        return token

    def replace_token(self, old_id: str, new: StoredToken) -> StoredToken:
        """Put `new` where `old_id` was: new entry, then the index, then delete the old entry.

        Each step is one keyring write; the index names the entry not (yet, or any more) live as
        stale, so whichever step a crash interrupts, reopening leaves exactly one of the two.
        """
        if new.id == old_id:
            new = replace(new, id=new_token_id())
        ids, stale = self._read_index()
        # Named as stale first: if we die before the index names it live, the sweep removes it.
        self._write_index(ids, [*stale, new.id])
        self._set(TOKEN_PREFIX + new.id, new.to_json())
        ids = [new.id if i == old_id else i for i in ids]
        if new.id not in ids:
            ids.append(new.id)
        self._write_index(ids, [*stale, old_id])
        self._delete(TOKEN_PREFIX + old_id)
        self._write_index(ids, [s for s in stale if s != old_id])
        self._log.info("replaced token %s with %s", old_id, new.id)
        self.tokens()  # read again now: known_can_send (the screen's) sees the new one
        return new

    def drop_token(self, token_id: str) -> bool:
        ids, stale = self._read_index()
        if token_id not in ids:
            return False
        self._write_index([i for i in ids if i != token_id], [*stale, token_id])
        self._delete(TOKEN_PREFIX + token_id)
        self._write_index([i for i in ids if i != token_id], stale)
        self._log.info("dropped token %s", token_id)
        return True

    def drop_tokens(self, tokens: Iterable[StoredToken]) -> list[StoredToken]:
        dropped = [t for t in tokens if self.drop_token(t.id)]
        if dropped:
            self.tokens()  # read again now: known_can_send (the screen's) must not see them
        return dropped

    def drop_tokens_for_user(self, user_id: str | None) -> list[StoredToken]:
        """Drop the tokens of `user_id`.

        Divar's token answer need not say whose a token is; a token with no known user is taken
        to be the seller's this console serves, and is dropped with any user's revocation.
        """
        return self.drop_tokens(
            t for t in self.tokens() if t.user_id is None or t.user_id == user_id
        )

    def drop_all_tokens(self) -> list[StoredToken]:
        return self.drop_tokens(self.tokens())

    # -- choosing a token --------------------------------------------------------------------

    def _ranked(
        self, breadth: Callable[[StoredToken], int | None]
    ) -> list[tuple[bool, int, float, StoredToken]]:
        now = self._now()
        ranked = []
        for token in self.tokens():
            level = breadth(token)
            if level is not None:
                # Live tokens first, then the narrowest scope, then the one that lives longest.
                ranked.append((token.expired(now), level, -token.expires_at.timestamp(), token))
        ranked.sort(key=lambda r: r[:3])
        return ranked

    def token_for_send(self, cid: str, post_token: str | None) -> StoredToken | None:
        """The token to send into conversation `cid` with: the narrowest scope that covers it."""
        ranked = self._ranked(lambda t: send_breadth(t.scopes, cid, post_token))
        return ranked[0][3] if ranked else None

    def can_send(self, cid: str, post_token: str | None) -> bool:
        return self.token_for_send(cid, post_token) is not None

    def known_can_send(self, cid: str, post_token: str | None) -> bool:
        """`can_send` from the tokens last read, without a keyring call: for the screen, which
        must never wait on the keyring (kenar_tui/keyring_thread.py). False before any read."""
        cached = self._cache
        if cached is None:
            return False
        return any(send_breadth(t.scopes, cid, post_token) is not None for t in cached[1])

    def tokens_for_read(self, cid: str, post_token: str | None) -> list[StoredToken]:
        """Tokens that may read conversation `cid`, the best first."""
        return [r[3] for r in self._ranked(lambda t: read_breadth(t.scopes, cid, post_token))]

    def __repr__(self) -> str:
        return f"CredentialStore(backend={self.backend_name!r})"


def _check_name(name: str) -> None:
    if name not in SECRET_NAMES:
        raise CredentialError(f"unknown secret {name!r}; one of: {', '.join(SECRET_NAMES)}")


def _error(action: str, name: str, exc: KeyringError | EOFError) -> CredentialError:
    """Locked (or asking for a password nobody can type) is a wait; anything else a failure."""
    words = _failure(action, name, exc)
    if isinstance(exc, EOFError | KeyringLocked):
        return KeyringUnavailable(words)
    return CredentialError(words)


def _failure(action: str, name: str, exc: KeyringError | EOFError) -> str:
    # The keyring's own message is not shown: a backend might quote what it was given.
    if isinstance(exc, EOFError):
        # A password-protected keyring (keyrings.alt's encrypted file) asked for its password
        # and there was no terminal to type it on (a pipe, a script, cron).
        return (
            f"the keyring is locked: it asked for its password to {action} {name} and there is "
            "no terminal to type it on; run the command in a terminal once to unlock it, or "
            "unlock the keyring first"
        )
    if isinstance(exc, KeyringFileError):  # kenar-tui's file: a sentence naming no secret
        return f"{exc} (it could not {action} {name})"
    if isinstance(exc, KeyringLocked) and str(exc) == LOCKED_WORDS:
        return f"{LOCKED_WORDS} (it could not {action} {name})"  # ours: names no secret
    if isinstance(exc, KeyringLocked):
        return f"the keyring is locked: unlock it and try again (it could not {action} {name})"
    return (
        f"the keyring could not {action} {name} ({type(exc).__name__}); it may be locked: "
        f"unlock it and try again. If it keeps failing: {NO_BACKEND_HELP}"
    )
