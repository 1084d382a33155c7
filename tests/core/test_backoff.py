"""The one back-off (kenar_core/backoff.py): its bounds, for every user of it."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kenar_api.retry import RetryPolicy
from kenar_core.backoff import backoff_ceiling, retry_delay

attempts = st.integers(min_value=0, max_value=200)
times = st.floats(min_value=0.0, max_value=1000.0)
unit = st.floats(min_value=0.0, max_value=1.0, exclude_max=True)


@given(attempts, times, times, unit)
def test_equal_jitter_waits_between_half_the_ceiling_and_the_ceiling(
    attempt: int, base: float, cap: float, r: float
) -> None:
    """The link's reconnect never comes back at once, and never waits past its cap."""
    ceiling = backoff_ceiling(attempt, base=base, cap=cap)
    wait = retry_delay(attempt, base=base, cap=cap, rand=lambda: r)
    assert ceiling / 2 <= wait <= ceiling <= cap


@given(attempts, times, times, unit)
def test_full_jitter_waits_between_zero_and_the_ceiling(
    attempt: int, base: float, cap: float, r: float
) -> None:
    wait = retry_delay(attempt, base=base, cap=cap, jitter="full", rand=lambda: r)
    assert 0.0 <= wait <= min(cap, base * 2.0 ** min(attempt, 32))


def test_no_jitter_doubles_up_to_the_cap() -> None:
    """The sandbox's seeded deliveries retry at the same moments every run."""
    waits = [retry_delay(n, base=0.5, cap=30.0, jitter="none") for n in range(9)]
    assert waits == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    assert backoff_ceiling(3, base=0.25) == 2.0  # no cap given: uncapped


def test_a_huge_attempt_number_stays_finite() -> None:
    assert retry_delay(10**9, base=0.5, cap=30.0, rand=lambda: 0.0) == 15.0


def test_negative_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="attempt"):
        retry_delay(-1)
    with pytest.raises(ValueError, match="negative"):
        retry_delay(0, base=-1.0)


def test_the_kenar_retry_policy_uses_the_same_full_jitter() -> None:
    """RetryPolicy.backoff(n) is retry_delay(n - 1, jitter="full") with the policy's random."""
    policy = RetryPolicy(base=0.5, cap=8.0, rng=random.Random(7))
    expected = random.Random(7)
    for attempt in range(1, 8):
        want = min(8.0, 0.5 * 2 ** (attempt - 1)) * expected.random()
        assert policy.backoff(attempt) == pytest.approx(want)
