"""AES-256-GCM sealing of stored payloads, with key rotation and a rotation-proof keyed hash.

A sealed blob is laid out as

    byte 0        format version (1)
    bytes 1-4     id of the key that sealed it (the 8-hex-character key id, as 4 raw bytes)
    bytes 5-16    a random 96-bit nonce
    bytes 17-     AES-GCM ciphertext followed by its 16-byte tag

so `open()` picks the key that sealed a blob (rotated-out keys keep opening old entries) and
a blob that was altered, or opened with a different key under the same id, fails
authentication instead of turning into garbage. Random 96-bit nonces are safe for about
2**32 seals per key; rotating keys keeps every key far below that.

`keyed_hash()` is HMAC-SHA256 under a key derived (HKDF) from the ring's index key, which never
rotates: the dedupe key of a message id stays the same across rotations.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kenar_core.errors import SealingError
from kenar_core.keyfile import KEY_BYTES, KeyRing

VERSION = 1
KEY_ID_BYTES = 4
NONCE_BYTES = 12
TAG_BYTES = 16
HEADER_BYTES = 1 + KEY_ID_BYTES + NONCE_BYTES
OVERHEAD = HEADER_BYTES + TAG_BYTES


def _hash_key(index_key: bytes) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=b"kenar-tui dedupe")
    return hkdf.derive(index_key)


class AesGcmSealer:
    """The `Sealer` that encrypts: new blobs under the ring's current key, any held key opens."""

    def __init__(self, keyring: KeyRing) -> None:
        self._keyring = keyring
        self._ciphers = {bytes.fromhex(i): AESGCM(k) for i, k in keyring.keys.items()}
        self._current = bytes.fromhex(keyring.current_id)
        self._hash_key = _hash_key(keyring.index_key)

    @property
    def current_key_id(self) -> str:
        return self._keyring.current_id

    @property
    def key_ids(self) -> tuple[str, ...]:
        return self._keyring.ids

    def seal(self, plaintext: bytes, *, associated_data: bytes | None = None) -> bytes:
        """Encrypt `plaintext`; `associated_data` (e.g. a row id) must be given again to open."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self._current].encrypt(nonce, plaintext, associated_data)
        return bytes((VERSION,)) + self._current + nonce + sealed

    def open(self, blob: bytes, *, associated_data: bytes | None = None) -> bytes:
        """Decrypt a blob from `seal`; SealingError (naming the key id) if that cannot be done."""
        blob = bytes(blob)
        if len(blob) < OVERHEAD:
            raise SealingError(
                f"a stored entry is damaged or not encrypted: {len(blob)} bytes is shorter than "
                f"any sealed entry ({OVERHEAD} bytes at least)"
            )
        if blob[0] != VERSION:
            raise SealingError(
                f"a stored entry is not in a sealed format this version reads (first byte "
                f"{blob[0]:#04x}); was it stored with encryption switched off?"
            )
        raw_id = blob[1 : 1 + KEY_ID_BYTES]
        key_id = raw_id.hex()
        cipher = self._ciphers.get(raw_id)
        if cipher is None:
            raise SealingError(
                f"a stored entry was sealed with key {key_id}, which is not among the keys held "
                f"({', '.join(self._keyring.ids)}); restore the key store that holds key "
                f"{key_id}, or purge the entries sealed with it"
            )
        nonce = blob[1 + KEY_ID_BYTES : HEADER_BYTES]
        try:
            return cipher.decrypt(nonce, blob[HEADER_BYTES:], associated_data)
        except InvalidTag:
            raise SealingError(
                f"a stored entry sealed with key {key_id} failed authentication: it was altered, "
                "or it belongs to another row, or the key held under that id is not the one "
                "that sealed it"
            ) from None

    def key_id_of(self, blob: bytes) -> str | None:
        """The id of the key that sealed `blob`, or None if it is not a sealed blob."""
        if len(blob) < OVERHEAD or blob[0] != VERSION:
            return None
        return bytes(blob[1 : 1 + KEY_ID_BYTES]).hex()

    def keyed_hash(self, value: str) -> str:
        """32 hex characters of HMAC-SHA256(value); the same under every rotation of the ring."""
        return hmac.new(self._hash_key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:32]

    def __repr__(self) -> str:
        return f"AesGcmSealer(current={self.current_key_id!r}, keys={list(self.key_ids)!r})"

    __str__ = __repr__
