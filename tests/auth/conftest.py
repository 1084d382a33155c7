"""Fixtures for the OAuth tests: a clean keyring for each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kenar_tui.credentials import CredentialStore
from tests.fixtures.memory_keyring import MemoryKeyring


@pytest.fixture(autouse=True)
def empty_keyring() -> Iterator[None]:
    """The PYTHON_KEYRING_BACKEND test keyring shares one dict per process: start empty."""
    MemoryKeyring.store.clear()
    yield
    MemoryKeyring.store.clear()


@pytest.fixture
def creds() -> CredentialStore:
    """The store the commands see: the backend the environment selects."""
    return CredentialStore()
