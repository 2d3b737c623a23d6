"""Backoff: exponential schedule, jitter bounds, Retry-After, the 72 h deadline."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st

from federation.backoff import DEADLINE, MAX_DELAY, base_delay, next_attempt, parse_retry_after

T0 = datetime(2025, 10, 14, 8, 0, tzinfo=UTC)


class FixedJitter(random.Random):
    """A random generator whose uniform() always returns the same factor."""

    def __init__(self, factor: float) -> None:
        super().__init__(0)
        self.factor = factor

    def uniform(self, a: float, b: float) -> float:
        assert (a, b) == (0.75, 1.25)
        return self.factor


def test_base_delay__doubles_then_caps() -> None:
    assert [base_delay(k).total_seconds() for k in range(1, 6)] == [30, 60, 120, 240, 480]
    assert base_delay(11) == timedelta(seconds=30 * 1024)
    assert base_delay(12) == MAX_DELAY
    assert base_delay(1000) == MAX_DELAY
    with pytest.raises(ValueError, match="start at 1"):
        base_delay(0)


@given(st.integers(min_value=1, max_value=40), st.integers(min_value=0, max_value=2**32))
def test_next_attempt__jitter_bounds(attempt: int, seed: int) -> None:
    when = next_attempt(attempt, T0, T0, random.Random(seed))
    assert when is not None
    base = base_delay(attempt)
    assert base * 0.75 <= when - T0 <= base * 1.25


def test_next_attempt__same_seed_same_schedule() -> None:
    first = [next_attempt(k, T0, T0, random.Random(7)) for k in range(1, 10)]
    second = [next_attempt(k, T0, T0, random.Random(7)) for k in range(1, 10)]
    assert first == second


def test_next_attempt__about_fifteen_retries_before_death() -> None:
    rng = FixedJitter(1.0)
    now, attempt, scheduled = T0, 1, []
    while (when := next_attempt(attempt, T0, now, rng)) is not None:
        scheduled.append(when)
        now, attempt = when, attempt + 1
    assert len(scheduled) == 15
    assert scheduled[-1] - T0 <= DEADLINE
    assert scheduled[10] - scheduled[9] == timedelta(seconds=30 * 1024)
    assert scheduled[11] - scheduled[10] == MAX_DELAY


def test_next_attempt__deadline_boundary() -> None:
    rng = FixedJitter(1.0)
    first = T0 - DEADLINE + timedelta(seconds=30)
    assert next_attempt(1, first, T0, rng) == T0 + timedelta(seconds=30)
    assert next_attempt(1, first - timedelta(seconds=1), T0, rng) is None


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [
        ("600", timedelta(seconds=600)),
        ("10", timedelta(seconds=120)),
        ("Tue, 14 Oct 2025 09:00:00 GMT", timedelta(hours=1)),
        ("Tue, 14 Oct 2025 07:00:00 GMT", timedelta(seconds=120)),
        ("86400", MAX_DELAY),
        ("Wed, 15 Oct 2025 20:00:00 GMT", MAX_DELAY),
        ("soon", timedelta(seconds=120)),
        ("-5", timedelta(seconds=120)),
        ("", timedelta(seconds=120)),
        (None, timedelta(seconds=120)),
    ],
)
def test_next_attempt__retry_after(retry_after: str | None, expected: timedelta) -> None:
    assert next_attempt(3, T0, T0, FixedJitter(1.0), retry_after) == T0 + expected


def test_next_attempt__retry_after_never_shortens_a_capped_delay() -> None:
    when = next_attempt(20, T0, T0, FixedJitter(1.25), "86400")
    assert when == T0 + MAX_DELAY * 1.25


def test_parse_retry_after__naive_date_is_gmt() -> None:
    assert parse_retry_after("Tue, 14 Oct 2025 08:01:00 -0000", T0) == timedelta(minutes=1)


def test_next_attempt__with_a_frozen_clock() -> None:
    with time_machine.travel(T0, tick=False):
        now = datetime.now(UTC)
        assert next_attempt(2, now, now, FixedJitter(0.75)) == T0 + timedelta(seconds=45)
