"""Keyring backends for the tests that need a locked one (loaded by PYTHON_KEYRING_BACKEND).

`LockedKeyring` refuses like the Secret Service does while locked; `PasswordKeyring` asks for
its password with getpass, as keyrings.alt's encrypted file keyring does on first use.
"""

from __future__ import annotations

import getpass

from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked


class LockedKeyring(KeyringBackend):
    priority = 1

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("locked")

    def delete_password(self, service: str, username: str) -> None:
        raise KeyringLocked("locked")


class PasswordKeyring(LockedKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        getpass.getpass("Please enter password for encrypted keyring: ")
        return None
