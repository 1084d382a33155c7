"""Opening the console's cache the way the app does: sealed with the keyring's key.

The key ring lives in the same keyring backend as the console's other secrets (the system
keyring; the demo's in-memory one), under `kenar-tui` / `cache-encryption-keys`, and is made
on first use (privacy/keys.py). A locked keyring is a CredentialError, a key that does not
open the cache a SealingError: both carry a sentence saying what to do.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from keyring.backend import KeyringBackend

from kenar_core.cipher import AesGcmSealer
from kenar_tui.privacy.keys import console_keyring
from kenar_tui.store.cache import Cache


def cache_sealer(
    backend: KeyringBackend | None = None, *, logger: logging.Logger | None = None
) -> AesGcmSealer:
    """AES-GCM under the console's key ring in `backend` (the system keyring by default)."""
    return AesGcmSealer(console_keyring(backend, logger=logger))


def open_cache(
    path: Path, credentials: Any = None, *, logger: logging.Logger | None = None
) -> Cache:
    """The cache at `path`, sealed with the key kept beside `credentials`' secrets."""
    backend = getattr(credentials, "keyring_backend", None)
    log = logger or logging.getLogger("kenar_tui.store")
    return Cache(path, sealer=cache_sealer(backend, logger=log), logger=log)
