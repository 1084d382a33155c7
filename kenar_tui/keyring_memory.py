"""A keyring backend that keeps secrets in this process's memory only.

For the demo and for tests: nothing is written to disk and everything is gone when the
process ends. Never selected on its own; `CredentialStore(memory_backend())` asks for it.
"""

from __future__ import annotations

from keyring.backend import KeyringBackend
from keyring.compat import properties
from keyring.errors import PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    """Secrets in a dict owned by this instance."""

    @properties.classproperty
    def priority(cls) -> float:
        # keyring registers every backend class for auto-detection; refusing a priority keeps
        # this one out of it, so a machine without a keyring never silently loses secrets.
        raise RuntimeError("the in-memory keyring is only used when passed in explicitly")

    def __init__(self) -> None:
        super().__init__()
        self._secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self._secrets[(service, username)]
        except KeyError:
            raise PasswordDeleteError(f"no entry named {username}") from None

    def __repr__(self) -> str:
        return f"MemoryKeyring(entries={len(self._secrets)})"

    __str__ = __repr__


def memory_backend() -> MemoryKeyring:
    """A fresh, empty in-memory keyring backend (the demo's)."""
    return MemoryKeyring()
