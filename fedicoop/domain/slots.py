"""Bookable repair slots of a workshop, and their names on the wire.

``compute_slots`` runs Rustine Libre's algorithm (domain.md §2.3, ``ComputeAvailableSlotsByRepairer``) on
our own data: for each day of the horizon, starting with today in Paris, the weekday's merged opening
ranges are cut every ``slot_minutes`` minutes of wall-clock time (a trailing piece shorter than a slot is
dropped), slots that do not start strictly after ``now`` are dropped, days covered by an exceptional
closure are dropped, and each slot's capacity is reduced by its pending and accepted bookings; only slots
with a free place remain. Wall-clock times are built in Europe/Paris, so a Tuesday 14:00 is
``+02:00`` in October and ``+01:00`` in November. Around daylight-saving changes the rule is
deterministic: a slot whose start or end wall time does not exist (the spring-forward gap) is skipped, and
an ambiguous wall time (the autumn overlap) is read with ``fold=0``, its first occurrence.

A slot is named on the wire by its UTC start (wire-format §6.2): the slot id is the collection id, ``#``,
then ``slot_fragment(start)``, such as ``2025-10-14T12:00Z``; ``parse_slot_fragment`` reads it back.

Error tree (all ``ValueError``, hence rooted at ``Exception``)::

    SlotError                   bad parameters: naive datetime, non-positive duration, capacity or horizon
    └── SlotFragmentError       a slot fragment that is not exactly YYYY-MM-DDTHH:MMZ, or a start that
                                cannot be written as one
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from fedicoop.domain.french import paris_zone
from fedicoop.domain.hours import Closure, Weekday, WeeklyHours

__all__ = [
    "DEFAULT_HORIZON_DAYS",
    "Slot",
    "SlotError",
    "SlotFragmentError",
    "compute_slots",
    "next_free_slot",
    "parse_slot_fragment",
    "slot_fragment",
]

DEFAULT_HORIZON_DAYS = 60
"""Number of days, today included, over which slots are offered (Rustine Libre's horizon)."""

_FRAGMENT_PATTERN = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2})Z")


class SlotError(ValueError):
    """A slot computation was given impossible parameters: a naive datetime, a non-positive slot
    duration, capacity or horizon, or a negative booking count. The message names the parameter, what was
    expected and what was received."""


class SlotFragmentError(SlotError):
    """A slot fragment is not exactly ``YYYY-MM-DDTHH:MMZ`` naming an existing UTC minute, or a slot start
    cannot be written as one (naive, or not on a whole minute)."""


def _require_aware(value: object, where: str) -> datetime:
    """Return ``value`` if it is an aware datetime, else raise ``SlotError`` naming ``where``."""
    if not isinstance(value, datetime):
        raise SlotError(f"{where}: expected an aware datetime, got {type(value).__name__} {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise SlotError(
            f"{where}: expected an aware datetime (with a time zone), got naive {value.isoformat()}"
        )
    return value


@dataclass(frozen=True, slots=True)
class Slot:
    """One bookable repair slot: aware ``start`` and ``end`` in Europe/Paris time and the number of
    places still ``available`` (capacity minus pending and accepted bookings)."""

    start: datetime
    end: datetime
    available: int

    def __post_init__(self) -> None:
        """Refuse naive instants, an end not after the start, and a negative number of places."""
        _require_aware(self.start, "Slot.start")
        _require_aware(self.end, "Slot.end")
        if self.end <= self.start:
            raise SlotError(
                "Slot: expected end after start, "
                f"got start {self.start.isoformat()} and end {self.end.isoformat()}"
            )
        if isinstance(self.available, bool) or not isinstance(self.available, int) or self.available < 0:
            raise SlotError(f"Slot.available: expected a non-negative integer, got {self.available!r}")

    @property
    def fragment(self) -> str:
        """The fragment naming the slot on the wire, its UTC start such as ``2025-10-14T12:00Z``."""
        return slot_fragment(self.start)


def slot_fragment(start: datetime) -> str:
    """Return the fragment that names a slot in its id (wire-format §6.2): the UTC start on a whole
    minute, written ``YYYY-MM-DDTHH:MMZ``. ``start`` must be aware and have no seconds.

    >>> from fedicoop.domain.french import paris_zone
    >>> slot_fragment(datetime(2025, 10, 14, 14, 0, tzinfo=paris_zone()))
    '2025-10-14T12:00Z'
    """
    try:
        moment = _require_aware(start, "slot_fragment(start)").astimezone(UTC)
    except SlotError as error:
        raise SlotFragmentError(str(error)) from None
    if moment.second or moment.microsecond:
        raise SlotFragmentError(
            f"slot_fragment(start): expected a start on a whole minute, got {start.isoformat()}"
        )
    return f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:{moment.minute:02d}Z"


def parse_slot_fragment(fragment: str) -> datetime:
    """Read a slot fragment strictly (``YYYY-MM-DDTHH:MMZ``, ASCII digits, nothing around it, no ``#``)
    into an aware UTC datetime; raise ``SlotFragmentError`` on anything else.

    >>> parse_slot_fragment("2025-10-14T12:00Z").isoformat()
    '2025-10-14T12:00:00+00:00'
    """
    match = _FRAGMENT_PATTERN.fullmatch(fragment) if isinstance(fragment, str) else None
    if match is None:
        raise SlotFragmentError(
            f"slot fragment: expected YYYY-MM-DDTHH:MMZ (UTC, such as 2025-10-14T12:00Z), got {fragment!r}"
        )
    year, month, day, hour, minute = (int(group) for group in match.groups())
    try:
        return datetime(year, month, day, hour, minute, tzinfo=UTC)
    except ValueError:
        raise SlotFragmentError(
            f"slot fragment: expected an existing UTC date and time, got {fragment!r}"
        ) from None


def _local(day: date, minutes: int) -> datetime | None:
    """Return the aware Paris datetime of a wall-clock time given in minutes after midnight of ``day``
    (fold=0 when ambiguous), or ``None`` when that wall time does not exist (daylight-saving gap)."""
    wall = datetime.combine(day, time(minutes // 60, minutes % 60))
    aware = wall.replace(tzinfo=paris_zone())
    if aware.astimezone(UTC).astimezone(paris_zone()).replace(tzinfo=None) != wall:
        return None
    return aware


def _day_slots(hours: WeeklyHours, day: date, slot_minutes: int) -> Iterator[tuple[datetime, datetime]]:
    """Yield the (start, end) of every slot cut in the opening ranges of ``day``, in wall-clock order,
    skipping slots whose start or end falls in a daylight-saving gap."""
    for opening in hours.for_day(Weekday.from_date(day)):
        first = opening.opens.hour * 60 + opening.opens.minute
        last = opening.closes.hour * 60 + opening.closes.minute
        for begin in range(first, last - slot_minutes + 1, slot_minutes):
            start = _local(day, begin)
            end = _local(day, begin + slot_minutes)
            if start is not None and end is not None:
                yield start, end


def _positive(value: object, name: str) -> int:
    """Return ``value`` if it is an integer of at least 1, else raise ``SlotError``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SlotError(f"compute_slots({name}): expected an integer of at least 1, got {value!r}")
    return value


def _bookings_by_utc_start(booked: Mapping[datetime, int]) -> dict[datetime, int]:
    """Re-key the booking counts by UTC instant (so that any aware spelling of a start matches, and
    comparison rules about ambiguous wall times cannot interfere), summing duplicates."""
    counts: dict[datetime, int] = {}
    for start, count in booked.items():
        moment = _require_aware(start, "compute_slots(booked) key").astimezone(UTC)
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise SlotError(
                f"compute_slots(booked): expected a non-negative integer count for {moment.isoformat()}, "
                f"got {count!r}"
            )
        counts[moment] = counts.get(moment, 0) + count
    return counts


def compute_slots(
    hours: WeeklyHours,
    closures: Iterable[Closure],
    slot_minutes: int,
    capacity: int,
    booked: Mapping[datetime, int],
    now: datetime,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
) -> list[Slot]:
    """Return the slots with a free place over the next ``horizon_days`` days (today in Paris included),
    in chronological order: each weekday's merged opening ranges cut every ``slot_minutes`` minutes, slots
    starting strictly after ``now`` only, days covered by a closure left out, and ``available`` =
    ``capacity`` minus the bookings (pending and accepted) counted in ``booked`` under the slot's start;
    ``booked`` keys may be any aware datetime for that instant, UTC being the convention.

    >>> from fedicoop.domain.hours import OpeningRange
    >>> hours = WeeklyHours([OpeningRange(Weekday.TUESDAY, time(14), time(16))])
    >>> now = datetime(2025, 10, 13, 8, 0, tzinfo=UTC)
    >>> booked = {datetime(2025, 10, 14, 12, 0, tzinfo=UTC): 1}
    >>> [(slot.fragment, slot.available) for slot in compute_slots(hours, [], 60, 2, booked, now, 2)]
    [('2025-10-14T12:00Z', 1), ('2025-10-14T13:00Z', 2)]
    """
    _require_aware(now, "compute_slots(now)")
    _positive(slot_minutes, "slot_minutes")
    _positive(capacity, "capacity")
    _positive(horizon_days, "horizon_days")
    counts = _bookings_by_utc_start(booked)
    closed = list(closures)
    now_utc = now.astimezone(UTC)
    today = now.astimezone(paris_zone()).date()
    slots: list[Slot] = []
    for offset in range(horizon_days):
        day = today + timedelta(days=offset)
        if any(closure.covers(day) for closure in closed):
            continue
        for start, end in _day_slots(hours, day, slot_minutes):
            start_utc = start.astimezone(UTC)
            if start_utc <= now_utc:
                continue
            available = capacity - counts.get(start_utc, 0)
            if available > 0:
                slots.append(Slot(start, end, available))
    slots.sort(key=lambda slot: slot.start.astimezone(UTC))
    return slots


def next_free_slot(slots: Iterable[Slot]) -> Slot | None:
    """Return the earliest slot with at least one free place, or ``None`` when there is none; this is
    the repair offer's ``nextSlot`` and its "prochain créneau libre" line.

    >>> next_free_slot([]) is None
    True
    """
    free = [slot for slot in slots if slot.available > 0]
    return min(free, key=lambda slot: slot.start.astimezone(UTC)) if free else None
