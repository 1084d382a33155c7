"""Shared fixtures. Each part's servers live in tests/fixtures/<part>.py.

Divar's reference material (`kenar_data`) is in tests/fixtures/paths.py: the repository's own
copy under tests/data/kenar/, never a folder beside the checkout.
"""

from __future__ import annotations

pytest_plugins = [
    "tests.fixtures.paths",
    "tests.fixtures.relay",
    "tests.fixtures.redis",
    "tests.fixtures.sandbox",
]
