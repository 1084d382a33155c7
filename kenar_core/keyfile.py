"""The keys that seal stored chat content, and where the relay keeps them.

A `KeyRing` holds every data key still needed (the current one seals new entries; rotated-out
ones only open old entries until those age out) and one *index key*. The index key never
rotates: the keyed hash used for dedupe is derived from it, so the same message id hashes the
same before and after a rotation and a webhook Divar retries across a rotation is still seen
as a duplicate.

Key ids are 8 hex characters derived from the key itself, so an id always names the same key
wherever it is written, and a key file whose ids do not match its keys is refused as damaged.

Where the keys live:

    relay     KENAR_RELAY_ENCRYPTION_KEY (base64 of 32 bytes: the current key), optionally
              KENAR_RELAY_PREVIOUS_ENCRYPTION_KEYS (older keys, comma-separated) and
              KENAR_RELAY_INDEX_KEY; otherwise the key file `<data dir>/encryption-keys.json`,
              created on first start with mode 0600 and refused if group or others can read it.
    console   the system keyring (kenar_tui/privacy/keys.py), entry `cache-encryption-keys`,
              created on first use.

Both stores hold the same JSON document:
`{"format": 1, "current": ID, "index_key": B64, "keys": {ID: B64, ...}}`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kenar_core.errors import SealingError
from kenar_core.files import write_atomically

KEY_BYTES = 32
FORMAT = 1
ENV_KEY = "KENAR_RELAY_ENCRYPTION_KEY"
ENV_PREVIOUS_KEYS = "KENAR_RELAY_PREVIOUS_ENCRYPTION_KEYS"
ENV_INDEX_KEY = "KENAR_RELAY_INDEX_KEY"
KEY_FILE_NAME = "encryption-keys.json"

MAKE_KEY_HINT = (
    'make one with: python -c "import base64, os; print(base64.b64encode(os.urandom(32)).decode())"'
)


def key_id_of(key: bytes) -> str:
    """The 8-hex-character id of a data key (a domain-separated hash: it reveals nothing usable)."""
    return hashlib.sha256(b"kenar-tui key id\x00" + key).digest()[:4].hex()


def derive_index_key(key: bytes) -> bytes:
    """An index key derived from a data key, for a relay given only an environment key."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=b"kenar-tui index")
    return hkdf.derive(key)


@dataclass(frozen=True, eq=False, repr=False)
class KeyRing:
    """The current data key's id, every data key by id, and the non-rotating index key."""

    current_id: str
    keys: Mapping[str, bytes]
    index_key: bytes

    def __post_init__(self) -> None:
        keys = dict(self.keys)
        for key_id, key in keys.items():
            if len(key) != KEY_BYTES:
                raise SealingError(f"key {key_id} is {len(key)} bytes long; keys are 32 bytes")
            if key_id_of(key) != key_id:
                raise SealingError(f"key {key_id} does not match its id: the key store is damaged")
        if self.current_id not in keys:
            raise SealingError(f"the current key {self.current_id} is not among the keys held")
        if len(self.index_key) != KEY_BYTES:
            raise SealingError("the index key is missing or not 32 bytes long")
        object.__setattr__(self, "keys", MappingProxyType(keys))

    @classmethod
    def generate(cls) -> KeyRing:
        """A fresh ring: one random data key and one random index key."""
        key = secrets.token_bytes(KEY_BYTES)
        return cls(key_id_of(key), {key_id_of(key): key}, secrets.token_bytes(KEY_BYTES))

    @property
    def current_key(self) -> bytes:
        return self.keys[self.current_id]

    @property
    def ids(self) -> tuple[str, ...]:
        """Every key id held, the current one first."""
        return (self.current_id, *(i for i in self.keys if i != self.current_id))

    def key(self, key_id: str) -> bytes | None:
        return self.keys.get(key_id)

    def rotate(self) -> KeyRing:
        """A ring whose new random key seals from now on; every older key still opens."""
        key = secrets.token_bytes(KEY_BYTES)
        while key_id_of(key) in self.keys:  # a 1-in-4-billion id collision: draw again
            key = secrets.token_bytes(KEY_BYTES)
        return KeyRing(key_id_of(key), {**self.keys, key_id_of(key): key}, self.index_key)

    def drop(self, key_id: str) -> KeyRing:
        """A ring without `key_id`: entries sealed with it can no longer be opened."""
        if key_id == self.current_id:
            raise SealingError(f"key {key_id} is the current key; rotate before dropping it")
        if key_id not in self.keys:
            raise SealingError(f"there is no key {key_id} to drop")
        return KeyRing(
            self.current_id, {i: k for i, k in self.keys.items() if i != key_id}, self.index_key
        )

    def merged(self, older: KeyRing) -> KeyRing:
        """This ring, also able to open what `older` sealed; this ring's index key is kept."""
        return KeyRing(self.current_id, {**older.keys, **self.keys}, self.index_key)

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "current": self.current_id,
                "index_key": _b64(self.index_key),
                "keys": {key_id: _b64(key) for key_id, key in self.keys.items()},
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str, *, source: str) -> KeyRing:
        """Parse a stored ring; `source` names where it came from in error messages."""
        try:
            data: Any = json.loads(text)
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise ValueError("unknown format")
            keys = {str(i): _unb64(k) for i, k in dict(data["keys"]).items()}
            return cls(str(data["current"]), keys, _unb64(data["index_key"]))
        except SealingError as exc:
            raise SealingError(f"{source} is damaged: {exc}") from None
        except (ValueError, KeyError, TypeError, binascii.Error):
            # The parser's own message could quote key material: it is not shown.
            raise SealingError(
                f"{source} is damaged or not a kenar-tui key store; restore it from a backup "
                "(without it, what was stored cannot be read)"
            ) from None

    def __repr__(self) -> str:
        return f"KeyRing(current={self.current_id!r}, keys={list(self.ids)!r})"

    __str__ = __repr__


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise TypeError("not a string")
    text = text.strip()
    padded = text + "=" * (-len(text) % 4)
    if "-" in text or "_" in text:
        return base64.urlsafe_b64decode(padded)
    return base64.b64decode(padded, validate=True)


def parse_key(text: str, *, name: str) -> bytes:
    """One base64 key from the environment variable `name`, or a SealingError that says why."""
    try:
        key = _unb64(text)
    except (ValueError, TypeError, binascii.Error):
        raise SealingError(f"{name} is not valid base64; {MAKE_KEY_HINT}") from None
    if len(key) != KEY_BYTES:
        raise SealingError(
            f"{name} decodes to {len(key)} bytes; it must be 32 random bytes in base64 "
            f"(44 characters); {MAKE_KEY_HINT}"
        )
    return key


# -- the relay: environment or key file ---------------------------------------------------------


class KeyFile:
    """The relay's key file: JSON with every key, mode 0600, replaced atomically on rotation."""

    def __init__(self, path: Path, *, logger: logging.Logger | None = None) -> None:
        self.path = path
        self._log = logger or logging.getLogger("kenar_tui.privacy.keys")

    def exists(self) -> bool:
        return self.path.exists()

    def load(self) -> KeyRing:
        """The ring in the file; SealingError if it is missing, unsafe or damaged."""
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            raise SealingError(
                f"the key file {self.path} is missing; without it the stored entries cannot "
                "be read: restore it from a backup, or purge the store to start afresh"
            ) from None
        except OSError as exc:
            raise SealingError(
                f"the key file {self.path} cannot be opened ({exc.strerror})"
            ) from None
        with os.fdopen(fd, "r", encoding="utf-8") as handle:
            mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
            if mode & 0o077:
                raise SealingError(
                    f"the key file {self.path} has mode {mode:04o}: group or others may read "
                    f"it, so it is not used; run `chmod 600 {self.path}` and start again"
                )
            text = handle.read()
        return KeyRing.from_json(text, source=f"the key file {self.path}")

    def save(self, ring: KeyRing) -> None:
        """Write `ring` atomically (temporary file, fsync, rename), readable by the owner only."""
        write_atomically(self.path, ring.to_json())

    def load_or_create(self) -> KeyRing:
        """The ring in the file, or a new one written there if there is no file yet."""
        if self.exists():
            return self.load()
        ring = KeyRing.generate()
        self.save(ring)
        self._log.info("created key file %s with key %s", self.path, ring.current_id)
        return ring

    def rotate(self) -> KeyRing:
        """Add a new current key to the file; the old keys stay so old entries still open."""
        ring = self.load().rotate()
        self.save(ring)
        self._log.info("rotated to key %s (%d keys held)", ring.current_id, len(ring.keys))
        return ring

    def __repr__(self) -> str:
        return f"KeyFile({str(self.path)!r})"


def keyring_from_env(
    environ: Mapping[str, str],
    *,
    fallback_index_key: bytes | None = None,
    logger: logging.Logger | None = None,
) -> KeyRing | None:
    """The ring the environment describes, or None when KENAR_RELAY_ENCRYPTION_KEY is unset.

    Without KENAR_RELAY_INDEX_KEY the index key is `fallback_index_key` (a key file's), else
    one derived from the current key, which changes when that key is rotated (said in a warning).
    """
    text = environ.get(ENV_KEY, "").strip()
    if not text:
        return None
    current = parse_key(text, name=ENV_KEY)
    keys = {key_id_of(current): current}
    for part in environ.get(ENV_PREVIOUS_KEYS, "").replace(",", " ").split():
        older = parse_key(part, name=ENV_PREVIOUS_KEYS)
        keys.setdefault(key_id_of(older), older)
    index_text = environ.get(ENV_INDEX_KEY, "").strip()
    if index_text:
        index_key = parse_key(index_text, name=ENV_INDEX_KEY)
    elif fallback_index_key is not None:
        index_key = fallback_index_key
    else:
        index_key = derive_index_key(current)
        (logger or logging.getLogger("kenar_tui.privacy.keys")).warning(
            "no %s: dedupe hashes are derived from the current key and change if it is rotated",
            ENV_INDEX_KEY,
        )
    return KeyRing(key_id_of(current), keys, index_key)


def relay_keyring(
    data_dir: Path,
    environ: Mapping[str, str] | None = None,
    *,
    logger: logging.Logger | None = None,
) -> KeyRing:
    """The relay's keys: from the environment if set, else from the key file (made if absent).

    With an environment key and a key file both present, the file's keys stay usable for
    reading (moving from a file to the environment loses nothing) and its index key is kept
    unless KENAR_RELAY_INDEX_KEY is set; the file itself is not changed.
    """
    env = os.environ if environ is None else environ
    key_file = KeyFile(data_dir / KEY_FILE_NAME, logger=logger)
    if not env.get(ENV_KEY, "").strip():
        return key_file.load_or_create()
    from_file = key_file.load() if key_file.exists() else None
    from_env = keyring_from_env(
        env, fallback_index_key=from_file.index_key if from_file else None, logger=logger
    )
    if from_env is None or from_file is None:
        return from_env or key_file.load_or_create()
    return from_env.merged(from_file)
