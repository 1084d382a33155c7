"""Which keyring backend holds the console's secrets, and refusing one that cannot.

`system_backend()` is what the environment selects (PYTHON_KEYRING_BACKEND, keyring's config
file, then detection); `check_backend()` refuses keyring's stand-ins for "nothing works" (the
fail and null backends, an empty chainer) with the ways to get a real one. Nothing here ever
picks a plain-text backend: that is only used when the user names it.
"""

from __future__ import annotations

import os

import keyring
import keyring.core
from keyring.backend import KeyringBackend, get_all_keyring
from keyring.backends import chainer, fail, null
from keyring.errors import KeyringError

from kenar_core.errors import CredentialError
from kenar_tui.keyring_file import Ask, SessionFileKeyring, ask_on_tty

_NOWHERE = (
    "so kenar-tui has nowhere safe to keep its secrets "
    "(it never falls back to a plain-text file on its own). To fix it, either:\n"
    "  - install and unlock a Secret Service (gnome-keyring, KeePassXC) or KWallet; on a server "
    "over SSH, run inside `dbus-run-session` and unlock it with `gnome-keyring-daemon --unlock`;\n"
    "  - or name no backend (unset PYTHON_KEYRING_BACKEND, none in keyring's config): kenar-tui "
    "then keeps its secrets in its own passphrase-protected file (scrypt, AES-GCM), not "
    "keyrings.alt's weaker EncryptedKeyring;\n"
    "  - or choose a backend in keyring's config file (`python -m keyring diagnose` shows where)."
)
NO_BACKEND_HELP = f"no usable system keyring was found, {_NOWHERE}"


def system_backend(ask: Ask | None = ask_on_tty) -> KeyringBackend:
    """The backend the environment names (PYTHON_KEYRING_BACKEND, keyring's config), else the
    desktop's (Secret Service, KWallet, macOS, Windows), else kenar-tui's encrypted file.

    keyring's own detection would chain keyrings.alt's encrypted and plain-text files (both
    installed with us) and could write a secret in plain text: unnamed, those are never used;
    the encrypted file is `SessionFileKeyring` (kenar_tui_keyring.cfg: scrypt, AES-GCM), which
    asks through `ask` (the terminal by default; the console asks in a dialog), never through a
    hidden prompt. PYTHON_KEYRING_BACKEND=keyrings.alt.file.EncryptedKeyring still means
    keyrings.alt's own file (crypted_pass.cfg, PBKDF2 with 1,000 rounds): the user's choice,
    which no hint of ours suggests.
    """
    if not os.environ.get("PYTHON_KEYRING_BACKEND") and keyring.core.load_config() is None:
        desktop = [
            b
            for b in get_all_keyring()
            if not type(b).__module__.startswith(("keyrings.alt", "keyring.backends.chainer"))
            and not isinstance(b, fail.Keyring | null.Keyring)
            and b.priority >= 1
        ]
        if desktop:
            return max(desktop, key=lambda b: b.priority)
        return SessionFileKeyring(ask)
    chosen = os.environ.get("PYTHON_KEYRING_BACKEND")
    try:
        keyring.core.init_backend()
    except (ImportError, AttributeError, RuntimeError, ValueError, KeyringError) as exc:
        # A backend named in the environment or keyring's config that cannot load or run here.
        named = f"PYTHON_KEYRING_BACKEND={chosen}" if chosen else "the backend in keyring's config"
        raise CredentialError(
            f"{named} cannot be used here ({type(exc).__name__}: {exc}), {_NOWHERE}"
        ) from None
    return keyring.get_keyring()


def check_backend(backend: KeyringBackend) -> None:
    """Raise CredentialError (with how to fix it) unless `backend` can really keep secrets."""
    if isinstance(backend, fail.Keyring):
        raise CredentialError(NO_BACKEND_HELP)
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        raise CredentialError(NO_BACKEND_HELP)
    if isinstance(backend, null.Keyring):
        raise CredentialError("the keyring is disabled (null backend); " + NO_BACKEND_HELP)


def backend_name(backend: KeyringBackend) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__name__}"
