"""The seam through which every stored chat body passes (relay store and console cache).

A `Sealer` encrypts a payload before it is written and opens it after it is read, and gives a
keyed hash for values that must be compared (dedupe keys) without being stored in the clear.
`PlainSealer` is the identity, for when encryption is switched off.
"""

from __future__ import annotations

import hashlib
from typing import Protocol


class Sealer(Protocol):
    def seal(self, plaintext: bytes) -> bytes: ...

    def open(self, blob: bytes) -> bytes: ...

    def keyed_hash(self, value: str) -> str: ...


class PlainSealer:
    """No encryption: payloads are stored as they are; hashes are plain SHA-256."""

    def seal(self, plaintext: bytes) -> bytes:
        return plaintext

    def open(self, blob: bytes) -> bytes:
        return blob

    def keyed_hash(self, value: str) -> str:
        return hashlib.sha256(value.encode()).hexdigest()[:32]
