"""French formatting of dates, times and amounts for the text we publish on the wire.

Every function here is pure and deterministic. Instants are shown in Europe/Paris wall-clock time
whatever their time zone; naive datetimes are refused, because the wall-clock time they stand for cannot
be known. The shapes follow wire-format.md: "Samedi 18 octobre 2025, 10h–13h" in an event ``summary``
(§7), "mardi 14 octobre à 14h" for the next free repair slot (§6.1), "24/12" in the ``Horaires`` field
(§3.1) and "30 €" or "12,50 €" for prices and deposits. The dash between two times is an en dash (U+2013),
as in the design documents.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

__all__ = [
    "DAY_ABBREVIATIONS",
    "DAY_NAMES",
    "MONTH_NAMES",
    "PARIS_TIMEZONE",
    "RANGE_DASH",
    "FrenchFormatError",
    "format_date_short",
    "format_euros",
    "format_event_when",
    "format_hour",
    "format_next_slot",
    "paris_zone",
    "to_paris",
]

PARIS_TIMEZONE = "Europe/Paris"
"""IANA name of the time zone of every wall-clock time fedicoop shows or publishes."""

RANGE_DASH = "\u2013"
"""The en dash written between the two ends of a range ("14h–19h", "mar.–ven.")."""

DAY_NAMES: tuple[str, ...] = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
"""French day names, lowercase, Monday first (the index is ``date.weekday()``)."""

DAY_ABBREVIATIONS: tuple[str, ...] = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")
"""Abbreviated French day names used in the ``Horaires`` field, Monday first."""

MONTH_NAMES: tuple[str, ...] = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
"""French month names, lowercase, January first (the index is ``date.month - 1``)."""


class FrenchFormatError(ValueError):
    """A value cannot be written as French wire text: a naive datetime, an empty or reversed period, a
    negative or non-integer amount of cents. The message names the function, the argument, what was
    expected and what was received."""


def paris_zone() -> ZoneInfo:
    """Return the Europe/Paris time zone; ``ZoneInfo`` keeps its own cache, so this is cheap after the
    first call and reads nothing at import time.

    >>> paris_zone().key
    'Europe/Paris'
    """
    return ZoneInfo(PARIS_TIMEZONE)


def to_paris(moment: datetime, *, where: str = "to_paris") -> datetime:
    """Return ``moment`` converted to Europe/Paris wall-clock time; ``moment`` must be aware, and
    ``where`` names the caller in the error raised for a naive datetime.

    >>> from datetime import timezone
    >>> to_paris(datetime(2025, 10, 14, 12, 0, tzinfo=timezone.utc)).isoformat()
    '2025-10-14T14:00:00+02:00'
    """
    if not isinstance(moment, datetime):
        raise FrenchFormatError(
            f"{where}: expected an aware datetime, got {type(moment).__name__} {moment!r}"
        )
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise FrenchFormatError(
            f"{where}: expected an aware datetime (with a time zone), "
            f"got the naive datetime {moment.isoformat()}"
        )
    return moment.astimezone(paris_zone())


def format_hour(value: time) -> str:
    """Return a wall-clock time the French way: whole hours as "14h", other times as "14h30", with no
    leading zero on the hour; seconds are not shown.

    >>> format_hour(time(14, 0))
    '14h'
    >>> format_hour(time(9, 30))
    '9h30'
    >>> format_hour(time(0, 5))
    '0h05'
    """
    if value.minute == 0:
        return f"{value.hour}h"
    return f"{value.hour}h{value.minute:02d}"


def format_date_short(day: date) -> str:
    """Return a day as "24/12" (day and month on two digits, no year), as in the ``Horaires`` field; an
    aware datetime is first converted to its Paris date, a naive datetime is refused.

    >>> format_date_short(date(2026, 1, 2))
    '02/01'
    """
    if isinstance(day, datetime):
        day = to_paris(day, where="format_date_short").date()
    return f"{day.day:02d}/{day.month:02d}"


def _day_number(day: date) -> str:
    """Return the day of the month as French writes it in a date: "1er" for the first, digits otherwise."""
    return "1er" if day.day == 1 else str(day.day)


def _long_day(day: date, *, year: bool) -> str:
    """Return "samedi 18 octobre 2025" (lowercase), or "samedi 18 octobre" without the year."""
    text = f"{DAY_NAMES[day.weekday()]} {_day_number(day)} {MONTH_NAMES[day.month - 1]}"
    return f"{text} {day.year}" if year else text


def format_event_when(start: datetime, end: datetime) -> str:
    """Return the date and times of an event in Paris time, for its ``summary``: "Samedi 18 octobre
    2025, 10h–13h" when it starts and ends on the same day, "du samedi 18 octobre 2025 à 10h au dimanche
    19 octobre 2025 à 18h" otherwise. Both instants must be aware and ``end`` must follow ``start``.

    >>> from datetime import timedelta, timezone
    >>> paris = paris_zone()
    >>> format_event_when(datetime(2025, 10, 18, 10, tzinfo=paris), datetime(2025, 10, 18, 13, tzinfo=paris))
    'Samedi 18 octobre 2025, 10h–13h'
    >>> format_event_when(datetime(2025, 11, 1, 8, 30, tzinfo=timezone.utc),
    ...                   datetime(2025, 11, 2, 17, tzinfo=timezone.utc))
    'du samedi 1er novembre 2025 à 9h30 au dimanche 2 novembre 2025 à 18h'
    """
    local_start = to_paris(start, where="format_event_when(start)")
    local_end = to_paris(end, where="format_event_when(end)")
    if local_end <= local_start:
        raise FrenchFormatError(
            "format_event_when: expected end after start, "
            f"got start {local_start.isoformat()} and end {local_end.isoformat()}"
        )
    if local_start.date() == local_end.date():
        day = _long_day(local_start.date(), year=True)
        hours = f"{format_hour(local_start.time())}{RANGE_DASH}{format_hour(local_end.time())}"
        return f"{day[0].upper()}{day[1:]}, {hours}"
    return (
        f"du {_long_day(local_start.date(), year=True)} à {format_hour(local_start.time())}"
        f" au {_long_day(local_end.date(), year=True)} à {format_hour(local_end.time())}"
    )


def format_next_slot(start: datetime) -> str:
    """Return the start of the next free repair slot in Paris time, without the year, as in the line
    "prochain créneau libre : mardi 14 octobre à 14h" of a repair offer; ``start`` must be aware.

    >>> from datetime import timezone
    >>> format_next_slot(datetime(2025, 10, 14, 12, 0, tzinfo=timezone.utc))
    'mardi 14 octobre à 14h'
    """
    local = to_paris(start, where="format_next_slot")
    return f"{_long_day(local.date(), year=False)} à {format_hour(local.time())}"


def _group_thousands(units: int) -> str:
    """Return a non-negative integer with its digits grouped by three, separated by a space."""
    digits = str(units)
    groups: list[str] = []
    while len(digits) > 3:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    groups.insert(0, digits)
    return " ".join(groups)


def format_euros(cents: int) -> str:
    """Return an amount of euro cents the French way: "30 €" for whole euros, "12,50 €" otherwise, with
    thousands separated by a space ("1 250 €"). The amount must be a non-negative integer.

    >>> format_euros(3000)
    '30 €'
    >>> format_euros(1250)
    '12,50 €'
    >>> format_euros(5)
    '0,05 €'
    >>> format_euros(125000)
    '1 250 €'
    """
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise FrenchFormatError(
            f"format_euros(cents): expected an integer number of cents, got {type(cents).__name__} {cents!r}"
        )
    if cents < 0:
        raise FrenchFormatError(f"format_euros(cents): expected a non-negative amount, got {cents}")
    euros, rest = divmod(cents, 100)
    if rest == 0:
        return f"{_group_thousands(euros)} €"
    return f"{_group_thousands(euros)},{rest:02d} €"
