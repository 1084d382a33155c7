"""Shared fixtures. Each part's servers live in tests/fixtures/<part>.py."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = [
    "tests.fixtures.paths",
    "tests.fixtures.relay",
    "tests.fixtures.redis",
    "tests.fixtures.sandbox",
]

SHARED_KENAR = Path(__file__).resolve().parent.parent.parent / "shared" / "kenar"


@pytest.fixture(scope="session")
def shared_kenar() -> Path:
    """Divar's reference material (../shared/kenar), read-only."""
    if not SHARED_KENAR.is_dir():
        pytest.fail(f"the reference folder {SHARED_KENAR} is missing; tests read samples from it")
    return SHARED_KENAR
