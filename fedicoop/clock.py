"""The clock type injected wherever time matters, and the real clock the entry points pass in."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The current UTC time, aware, at second precision (wire times have seconds only)."""
    return datetime.now(UTC).replace(microsecond=0)


def edit_stamp(now: datetime, previous: datetime) -> datetime:
    """The ``updated`` of an edit: ``now``, or one second after ``previous`` when ``now`` is not later.

    Wire times have second precision and receivers ignore an Update that is not newer than what they
    hold, so two edits within one second must still carry increasing stamps.

    >>> t = datetime(2025, 10, 13, 6, 0, tzinfo=UTC)
    >>> edit_stamp(t, t), edit_stamp(t + timedelta(seconds=5), t) == t + timedelta(seconds=5)
    (datetime.datetime(2025, 10, 13, 6, 0, 1, tzinfo=datetime.timezone.utc), True)
    """
    return max(now.replace(microsecond=0), previous.replace(microsecond=0) + timedelta(seconds=1))
