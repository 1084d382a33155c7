"""The console cache's keys in the system keyring (the KeyRing itself: kenar_core/keyfile.py).

The console keeps its ring in the system keyring, service `kenar-tui`, entry
`cache-encryption-keys`, created on first use; the relay keeps its own in the environment or a
0600 key file. This half lives in the console because it needs `keyring`, which the relay does
not install.
"""

from __future__ import annotations

import logging

from keyring.backend import KeyringBackend
from keyring.errors import KeyringError

from kenar_core.errors import CredentialError
from kenar_core.keyfile import KeyRing
from kenar_tui.credentials import SERVICE, check_backend, system_backend

KEYRING_ENTRY = "cache-encryption-keys"


def _keyring_failure(action: str, exc: KeyringError) -> CredentialError:
    return CredentialError(
        f"the keyring could not {action} the cache encryption keys ({type(exc).__name__}); "
        "it may be locked: unlock it and try again"
    )


def console_keyring(
    backend: KeyringBackend | None = None, *, logger: logging.Logger | None = None
) -> KeyRing:
    """The console cache's keys from the system keyring, generated and stored on first use."""
    chosen = backend if backend is not None else system_backend()
    check_backend(chosen)
    source = f"the keyring entry {SERVICE}/{KEYRING_ENTRY}"
    try:
        text = chosen.get_password(SERVICE, KEYRING_ENTRY)
    except KeyringError as exc:
        raise _keyring_failure("read", exc) from None
    if text:
        return KeyRing.from_json(text, source=source)
    ring = KeyRing.generate()
    _store_console_ring(chosen, ring)
    (logger or logging.getLogger("kenar_tui.privacy.keys")).info(
        "created cache encryption key %s in the keyring", ring.current_id
    )
    return ring


def rotate_console_keyring(
    backend: KeyringBackend | None = None, *, logger: logging.Logger | None = None
) -> KeyRing:
    """Add a new current key to the console's ring in the keyring; old keys stay."""
    chosen = backend if backend is not None else system_backend()
    ring = console_keyring(chosen, logger=logger).rotate()
    _store_console_ring(chosen, ring)
    (logger or logging.getLogger("kenar_tui.privacy.keys")).info(
        "rotated cache encryption to key %s (%d keys held)", ring.current_id, len(ring.keys)
    )
    return ring


def _store_console_ring(backend: KeyringBackend, ring: KeyRing) -> None:
    try:
        backend.set_password(SERVICE, KEYRING_ENTRY, ring.to_json())
    except KeyringError as exc:
        raise _keyring_failure("store", exc) from None
