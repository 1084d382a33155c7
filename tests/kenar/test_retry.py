"""The back-off policy and Retry-After parsing."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kenar_api.retry import RetryPolicy, parse_retry_after

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("0", 0.0),
        ("7", 7.0),
        (" 12 ", 12.0),
        ("1.5", 1.5),
        (format_datetime(NOW + timedelta(seconds=90), usegmt=True), 90.0),
        (format_datetime(NOW - timedelta(seconds=90), usegmt=True), 0.0),
        ("Wed, 25 Nov 2026 12:00:30 GMT", 30.0),
    ],
)
def test_retry_after_seconds_and_dates(header: str, seconds: float) -> None:
    """Retry-After is read as delta-seconds or an HTTP date (a past date means now)."""
    assert parse_retry_after(header, now=NOW) == seconds


@pytest.mark.parametrize("header", [None, "", "soon", "-3", "nan", "Wed, 99 Foo 2026"])
def test_retry_after_nonsense_is_ignored(header: str | None) -> None:
    """An unreadable Retry-After falls back to the back-off instead of failing."""
    assert parse_retry_after(header, now=NOW) is None


@given(st.integers(min_value=1, max_value=30), st.integers(min_value=0, max_value=2**32))
def test_backoff_is_full_jitter_within_the_exponential_ceiling(attempt: int, seed: int) -> None:
    """Each wait is in [0, min(cap, base * 2**(n-1))]."""
    policy = RetryPolicy(base=0.5, cap=8.0, rng=random.Random(seed))
    wait = policy.backoff(attempt)
    assert 0.0 <= wait <= min(8.0, 0.5 * 2 ** (attempt - 1))


def test_retry_after_overrides_and_is_capped() -> None:
    """A server's Retry-After is used as given, but never beyond the cap."""
    policy = RetryPolicy(retry_after_cap=30.0)
    assert policy.delay(1, 4.0) == 4.0
    assert policy.delay(1, 3600.0) == 30.0
    assert policy.delay(1, float("inf")) == 30.0


def test_policy_refuses_negative_settings() -> None:
    """Negative retries or waits are a configuration mistake, reported at once."""
    with pytest.raises(ValueError):
        RetryPolicy(retries=-1)
    with pytest.raises(ValueError):
        RetryPolicy(base=-1.0)
    assert RetryPolicy(retries=0).attempts == 1
