"""French formatting of the values pages show: dates and times in Paris time, durations, amounts, prices,
opening hours, places left, distances.

Every function reads a wire value tolerantly (an ISO string, a schema.org object, a number as a string)
and returns plain text: junk gives an empty string or the value as given, never an exception. The page
filters of :mod:`fedicoop.web.filters` are built on these.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from fedicoop.domain.french import (
    DAY_NAMES,
    MONTH_NAMES,
    RANGE_DASH,
    FrenchFormatError,
    format_euros,
    format_event_when,
    format_hour,
    format_next_slot,
    paris_zone,
    to_paris,
)

__all__ = [
    "as_list",
    "decimal_of",
    "distance",
    "duration",
    "fr_date",
    "fr_datetime",
    "fr_time",
    "money",
    "next_slot",
    "opening_hours",
    "parse_moment",
    "places_left",
    "price",
    "when",
]

Document = Mapping[str, Any]
"""An ActivityStreams document as decoded from JSON."""


def as_list(value: Any) -> list[Any]:
    """Return ``value`` as a list: ``[]`` for ``None``, the list itself, or a one-item list."""
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


_SCHEMA_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

_DURATION = re.compile(r"P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?")

_DURATION_UNITS = (
    ("an", "ans"),
    ("mois", "mois"),
    ("semaine", "semaines"),
    ("jour", "jours"),
    ("heure", "heures"),
    ("minute", "minutes"),
)


def parse_moment(value: Any) -> datetime | None:
    """Parse an ISO 8601 date-time into Paris time; a naive value is read as Paris time; junk gives None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=paris_zone())
    return to_paris(moment)


def _long_date(day: date) -> str:
    """Return "mardi 14 octobre 2025", with "1er" for the first day of a month."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{DAY_NAMES[day.weekday()]} {number} {MONTH_NAMES[day.month - 1]} {day.year}"


def fr_date(value: Any) -> str:
    """Return the French date of an ISO date or date-time ("mardi 14 octobre 2025"), or the value itself."""
    moment = parse_moment(value)
    if moment is not None:
        return _long_date(moment.date())
    try:
        return _long_date(date.fromisoformat(value)) if isinstance(value, str) else ""
    except ValueError:
        return str(value)


def fr_time(value: Any) -> str:
    """Return the Paris wall-clock time of an ISO date-time ("14h", "9h30"), or the value itself."""
    moment = parse_moment(value)
    return format_hour(moment.time()) if moment else str(value or "")


def fr_datetime(value: Any) -> str:
    """Return "mardi 14 octobre 2025 à 14h" for an ISO date-time, in Paris time."""
    moment = parse_moment(value)
    return f"{_long_date(moment.date())} à {format_hour(moment.time())}" if moment else str(value or "")


def when(start: Any, end: Any = None) -> str:
    """Return the French date and times of a period: an event, a wanted period, a slot."""
    begin, finish = parse_moment(start), parse_moment(end)
    if begin is None:
        return ""
    if finish is not None:
        try:
            return format_event_when(begin, finish)
        except FrenchFormatError:
            pass
    return fr_datetime(start)


def next_slot(value: Any) -> str:
    """Return the next free slot as "mardi 14 octobre à 14h", or an empty string."""
    moment = parse_moment(value)
    return format_next_slot(moment) if moment else ""


def _wall_clock(value: Any) -> str:
    """Return a schema.org ``opens``/``closes`` value ("14:00") as "14h"."""
    try:
        return format_hour(time.fromisoformat(value)) if isinstance(value, str) else ""
    except ValueError:
        return str(value)


def _day_indexes(value: Any) -> list[int]:
    """Return the weekday indexes (Monday is 0) of a ``dayOfWeek`` value, whatever the IRI spelling."""
    found: set[int] = set()
    for item in as_list(value):
        name = item.rsplit("/", 1)[-1].rsplit(":", 1)[-1].rsplit("#", 1)[-1] if isinstance(item, str) else ""
        if name in _SCHEMA_DAYS:
            found.add(_SCHEMA_DAYS.index(name))
    return sorted(found)


def _days_text(indexes: list[int]) -> str:
    """Return "du mardi au vendredi" for three consecutive days or more, "lundi, jeudi" otherwise."""
    if len(indexes) >= 3 and indexes == list(range(indexes[0], indexes[-1] + 1)):
        return f"du {DAY_NAMES[indexes[0]]} au {DAY_NAMES[indexes[-1]]}"
    return ", ".join(DAY_NAMES[index] for index in indexes)


def opening_hours(specification: Any) -> list[str]:
    """Return one French line per schema.org ``openingHoursSpecification`` entry, closures included."""
    lines = []
    for entry in as_list(specification):
        if not isinstance(entry, Mapping):
            continue
        opens, closes = entry.get("opens"), entry.get("closes")
        start, end = entry.get("validFrom"), entry.get("validThrough")
        period = f" du {fr_date(start)} au {fr_date(end)}" if start and end else ""
        days = _days_text(_day_indexes(entry.get("dayOfWeek")))
        if opens == closes:
            lines.append(f"{days} : fermé{period}" if days else f"Fermé{period}")
        elif opens and closes:
            hours = f"{_wall_clock(opens)}{RANGE_DASH}{_wall_clock(closes)}"
            line = f"{days} : {hours}" if days else hours
            lines.append(line[0].upper() + line[1:] + period)
    return lines


def decimal_of(value: Any) -> Decimal | None:
    """Return a decimal string or a JSON number as a Decimal, or None."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def money(amount: Any) -> str:
    """Return a schema.org ``MonetaryAmount`` as "30 €" or "12,50 €" (other currencies keep their code)."""
    if not isinstance(amount, Mapping):
        return ""
    value = decimal_of(amount.get("value"))
    if value is None:
        return ""
    currency = amount.get("currency")
    if currency in (None, "EUR") and value >= 0:
        return format_euros(int((value * 100).to_integral_value()))
    return f"{value} {currency}".replace(".", ",")


def duration(value: Any) -> str:
    """Return an ISO 8601 duration ("P7D") in French ("7 jours"); other text is returned as given."""
    if not isinstance(value, str):
        return ""
    match = _DURATION.fullmatch(value.strip())
    if match is None or not any(match.groups()):
        return value
    parts = []
    for count, (one, many) in zip(match.groups(), _DURATION_UNITS, strict=True):
        if count is not None and int(count):
            parts.append(f"{int(count)} {one if int(count) == 1 else many}")
    return " et ".join(parts) if parts else value


def price(note: Document) -> str:
    """Return what a listing asks in return: "Gratuit" without ``reciprocal``, else euros or time credits."""
    reciprocal = note.get("reciprocal")
    if reciprocal is None:
        return "Gratuit"
    quantity = reciprocal.get("resourceQuantity") if isinstance(reciprocal, Mapping) else None
    value = decimal_of(quantity.get("hasNumericalValue")) if isinstance(quantity, Mapping) else None
    if value is None or not isinstance(quantity, Mapping) or value < 0:
        return "Contrepartie demandée"
    if quantity.get("hasUnit") == "hour":
        text = f"{value.normalize():f} h de crédit temps".replace(".", ",")
    elif str(reciprocal.get("resourceConformsTo", "")).endswith("/Q4916"):
        text = format_euros(int((value * 100).to_integral_value()))
    else:
        return "Contrepartie demandée"
    return f"{text} de l'heure" if note.get("unitBased") is True else text


def places_left(quantity: Any) -> str:
    """Return an ``availableQuantity`` as "1 place libre" or "3 places libres"; empty when unknown."""
    value = decimal_of(quantity.get("hasNumericalValue")) if isinstance(quantity, Mapping) else None
    if value is None:
        return ""
    return f"{value} place libre" if value == 1 else f"{value} places libres"


def distance(metres: Any) -> str:
    """Return a distance in French: "à 850 m" under a kilometre, "à 2,3 km" under ten, "à 14 km" beyond.

    >>> distance(849.6), distance(2345), distance(14_400), distance(None)
    ('à 850 m', 'à 2,3 km', 'à 14 km', '')
    """
    if isinstance(metres, bool) or not isinstance(metres, int | float) or metres < 0:
        return ""
    if metres < 1000:
        return f"à {round(metres)} m"
    if metres < 10_000:
        return f"à {metres / 1000:.1f} km".replace(".", ",")
    return f"à {round(metres / 1000)} km"
