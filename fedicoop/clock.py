"""The clock type injected wherever time matters, and the real clock the entry points pass in."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The current UTC time, aware, at second precision (wire times have seconds only)."""
    return datetime.now(UTC).replace(microsecond=0)
