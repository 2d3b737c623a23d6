"""Delivery retry schedule (wire-format §11): exponential backoff, jitter, Retry-After, 72 h deadline.

Retry *k* (k ≥ 1) waits ``30 s × 2^(k−1)``, capped at 12 h, times a uniform jitter in [0.75, 1.25].
A ``Retry-After`` (delta-seconds or HTTP-date; the caller passes it for 429 and 503) replaces that
delay when it is longer, capped at 12 h. A delivery is dead when its next attempt would fall more than
72 hours after its first one. Everything is pure: the clock and the random generator are parameters.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

__all__ = [
    "BASE_DELAY",
    "DEADLINE",
    "JITTER",
    "MAX_DELAY",
    "base_delay",
    "next_attempt",
    "parse_retry_after",
]

BASE_DELAY = timedelta(seconds=30)
"""The wait before the first retry, before jitter."""

MAX_DELAY = timedelta(hours=12)
"""The longest wait between two attempts, before jitter (and for Retry-After)."""

DEADLINE = timedelta(hours=72)
"""How long after the first attempt a delivery may still be attempted."""

JITTER = (0.75, 1.25)
"""The bounds of the uniform factor applied to the exponential delay."""

_LAST_UNCAPPED = 32  # far past the 12 h cap; stops 2 ** k from growing without bound


def base_delay(retry: int) -> timedelta:
    """Return the delay before retry ``retry`` (1 for the first retry), without jitter.

    >>> base_delay(1), base_delay(2), base_delay(5)
    (datetime.timedelta(seconds=30), datetime.timedelta(seconds=60), datetime.timedelta(seconds=480))
    >>> base_delay(20) == MAX_DELAY
    True
    """
    if retry < 1:
        raise ValueError(f"retry numbers start at 1, got {retry}")
    if retry > _LAST_UNCAPPED:
        return MAX_DELAY
    return min(BASE_DELAY * (1 << (retry - 1)), MAX_DELAY)


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """Parse a ``Retry-After`` value (delta-seconds or HTTP-date) into a non-negative delay.

    Returns ``None`` for an absent or unparsable value; a date in the past gives a zero delay.

    >>> now = datetime(2025, 10, 14, 8, 0, tzinfo=UTC)
    >>> parse_retry_after("120", now)
    datetime.timedelta(seconds=120)
    >>> parse_retry_after("Tue, 14 Oct 2025 09:00:00 GMT", now)
    datetime.timedelta(seconds=3600)
    >>> parse_retry_after("soon", now) is None
    True
    """
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return timedelta(seconds=min(int(text), int(DEADLINE.total_seconds())))
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(moment - now, timedelta(0))


def next_attempt(
    attempt: int,
    first_attempt_at: datetime,
    now: datetime,
    rng: random.Random,
    retry_after: str | None = None,
) -> datetime | None:
    """Return when to try a failed delivery again, or ``None`` when it is dead.

    ``attempt`` is the number of attempts made so far (all failed; 1 after the first failure), so
    the retry being scheduled is retry number ``attempt``. ``first_attempt_at`` and ``now`` are aware
    datetimes; ``rng`` supplies the jitter; ``retry_after`` is the raw header of a 429 or 503.

    >>> t0 = datetime(2025, 10, 14, 8, 0, tzinfo=UTC)
    >>> class Middle(random.Random):
    ...     def uniform(self, a, b):
    ...         return 1.0
    >>> next_attempt(1, t0, t0, Middle())
    datetime.datetime(2025, 10, 14, 8, 0, 30, tzinfo=datetime.timezone.utc)
    >>> next_attempt(3, t0, t0, Middle(), retry_after="600")
    datetime.datetime(2025, 10, 14, 8, 10, tzinfo=datetime.timezone.utc)
    >>> next_attempt(15, t0, t0 + timedelta(hours=70), Middle()) is None
    True
    """
    delay = base_delay(attempt) * rng.uniform(*JITTER)
    requested = parse_retry_after(retry_after, now)
    if requested is not None:
        delay = max(delay, min(requested, MAX_DELAY))
    when = now + delay
    if when - first_attempt_at > DEADLINE:
        return None
    return when
