"""Weekly opening hours and exceptional closures of a workshop or a place.

The model follows Rustine Libre (domain.md §2.1): ``RepairerOpeningHours`` rows become
``OpeningRange`` values (a weekday and a wall-clock range, several per day allowed) gathered in
``WeeklyHours``, which merges ranges of the same day that overlap or touch; ``RepairerExceptionalClosure``
rows become ``Closure`` values (whole days, both ends included). Three conversions live here, all pure:
``horaires_text`` writes the human ``Horaires`` field ("mar.–ven. 14h–19h · sam. 10h–13h · fermé du 24/12
au 02/01"), ``opening_hours_specification`` writes the schema.org ``openingHoursSpecification`` entries of
wire-format §3.1, and ``parse_opening_hours_specification`` reads them back, tolerantly, from any peer.
Times are Europe/Paris wall-clock times without a time zone; dates are calendar dates in Paris.

Error tree (all ``ValueError``, hence rooted at ``Exception``)::

    OpeningHoursError
    ├── OpeningRangeError       an impossible weekly range (opens not before closes, seconds, a tzinfo)
    ├── ClosureError            an impossible closure (end before start, a datetime instead of a date)
    └── SpecificationError      an openingHoursSpecification entry we cannot read
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum

from fedicoop.domain.french import DAY_ABBREVIATIONS, RANGE_DASH, format_date_short, format_hour

__all__ = [
    "APPOINTMENT_ONLY_TEXT",
    "SCHEMA_ORG",
    "Closure",
    "ClosureError",
    "OpeningHoursError",
    "OpeningRange",
    "OpeningRangeError",
    "SpecificationError",
    "Weekday",
    "WeeklyHours",
    "horaires_text",
    "opening_hours_specification",
    "parse_opening_hours_specification",
]

SCHEMA_ORG = "https://schema.org/"
"""Prefix of the schema.org day IRIs we publish in ``dayOfWeek`` (``https://schema.org/Monday``)."""

APPOINTMENT_ONLY_TEXT = "sur rendez-vous uniquement"
"""The ``Horaires`` text of a place that publishes no weekly opening hours."""

SEPARATOR = " · "
"""Separator between the parts of the ``Horaires`` text (groups of days, closures)."""

_SCHEMA_PREFIXES = ("https://schema.org/", "http://schema.org/", "https://schema.org#", "http://schema.org#")
_TIME_PATTERN = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9]))?")
_DATE_PATTERN = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})(?:T.*)?", re.DOTALL)
_MIDNIGHT = time(0, 0)


class OpeningHoursError(ValueError):
    """Root of the errors raised by this module: a value that cannot describe opening hours or closures.
    Messages say what was wrong, where, what was expected and what was received."""


class OpeningRangeError(OpeningHoursError):
    """A weekly opening range is impossible: opening not strictly before closing, seconds or
    microseconds in a time, a time carrying a time zone, or an unknown day name."""


class ClosureError(OpeningHoursError):
    """An exceptional closure is impossible: its end comes before its start, or a bound is not a plain
    calendar date (a datetime is refused, since a closure covers whole days)."""


class SpecificationError(OpeningHoursError):
    """An ``openingHoursSpecification`` entry received from a peer cannot be read: it is not an object,
    lacks a required property, or holds a day, time or date in a form we do not understand."""


class Weekday(StrEnum):
    """A day of the week, valued by its lowercase English name as in Rustine Libre's ``day`` column; it
    knows its schema.org IRI, its French abbreviation and its position (Monday is 0, as in
    ``date.weekday()``)."""

    MONDAY = "monday"
    TUESDAY = "tuesday"
    WEDNESDAY = "wednesday"
    THURSDAY = "thursday"
    FRIDAY = "friday"
    SATURDAY = "saturday"
    SUNDAY = "sunday"

    @property
    def position(self) -> int:
        """Position of the day in the week, Monday being 0 (the convention of ``date.weekday()``)."""
        return _WEEK.index(self)

    @property
    def iri(self) -> str:
        """The schema.org IRI of the day, such as ``https://schema.org/Monday``."""
        return f"{SCHEMA_ORG}{self.value.capitalize()}"

    @property
    def abbreviation(self) -> str:
        """The French abbreviation of the day used in the ``Horaires`` field ("lun.", "mar."…)."""
        return DAY_ABBREVIATIONS[self.position]

    @classmethod
    def from_date(cls, day: date) -> Weekday:
        """Return the weekday of a calendar date.

        >>> Weekday.from_date(date(2025, 10, 14))
        <Weekday.TUESDAY: 'tuesday'>
        """
        return _WEEK[day.weekday()]

    @classmethod
    def from_iri(cls, value: str) -> Weekday:
        """Read a ``dayOfWeek`` value as peers write it: ``https://schema.org/Monday``, the ``http`` form,
        ``schema:Monday`` or a bare ``Monday`` (any case); raise ``SpecificationError`` otherwise.

        >>> Weekday.from_iri("http://schema.org/Saturday")
        <Weekday.SATURDAY: 'saturday'>
        """
        name = value
        for prefix in (*_SCHEMA_PREFIXES, "schema:"):
            if value.startswith(prefix):
                name = value[len(prefix) :]
                break
        try:
            return cls(name.lower())
        except ValueError:
            raise SpecificationError(
                f"dayOfWeek: expected a schema.org day such as {SCHEMA_ORG}Monday, got {value!r}"
            ) from None


_WEEK: tuple[Weekday, ...] = tuple(Weekday)


def _check_wall_time(value: object, what: str) -> time:
    """Return ``value`` if it is a naive ``time`` on a whole minute, else raise ``OpeningRangeError``."""
    if not isinstance(value, time):
        raise OpeningRangeError(f"{what}: expected a datetime.time, got {type(value).__name__} {value!r}")
    if value.tzinfo is not None:
        raise OpeningRangeError(
            f"{what}: expected a wall-clock time without time zone, got {value.isoformat()}"
        )
    if value.second or value.microsecond:
        raise OpeningRangeError(f"{what}: expected a time on a whole minute, got {value.isoformat()}")
    return value


def _parse_time(value: object, where: str) -> time:
    """Read "HH:MM" or "HH:MM:00" into a ``time``; raise ``SpecificationError`` on anything else."""
    match = _TIME_PATTERN.fullmatch(value) if isinstance(value, str) else None
    if match is None or (match.group(3) not in (None, "00")):
        raise SpecificationError(f"{where}: expected a time written HH:MM, got {value!r}")
    return time(int(match.group(1)), int(match.group(2)))


def _parse_date(value: object, where: str) -> date:
    """Read "YYYY-MM-DD" (or the date part of a date-time) into a ``date``; raise ``SpecificationError``
    on anything else."""
    match = _DATE_PATTERN.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise SpecificationError(f"{where}: expected a date written YYYY-MM-DD, got {value!r}")
    try:
        return date.fromisoformat(match.group(1))
    except ValueError:
        raise SpecificationError(f"{where}: expected an existing calendar date, got {value!r}") from None


@dataclass(frozen=True, slots=True)
class OpeningRange:
    """One weekly opening range, such as Tuesday 14:00–19:00 in Paris wall-clock time. ``opens`` must be
    strictly before ``closes`` (a range cannot cross midnight), both on a whole minute; Rustine Libre uses
    :00 and :30, but any minute is accepted."""

    day: Weekday
    opens: time
    closes: time

    def __post_init__(self) -> None:
        """Validate the day and both times, and refuse an empty or reversed range."""
        if not isinstance(self.day, Weekday):
            raise OpeningRangeError(f"OpeningRange.day: expected a Weekday, got {self.day!r}")
        _check_wall_time(self.opens, f"OpeningRange.opens ({self.day.value})")
        _check_wall_time(self.closes, f"OpeningRange.closes ({self.day.value})")
        if self.opens >= self.closes:
            raise OpeningRangeError(
                f"OpeningRange ({self.day.value}): expected opens before closes, "
                f"got opens {self.opens:%H:%M} and closes {self.closes:%H:%M}"
            )

    @classmethod
    def from_strings(cls, day: str, opens: str, closes: str) -> OpeningRange:
        """Build a range from Rustine Libre's strings: a day name (``"tuesday"``, any case) and two
        ``HH:MM`` times; raise ``OpeningRangeError`` if any of them cannot be read.

        >>> OpeningRange.from_strings("Tuesday", "14:00", "19:30")  # doctest: +NORMALIZE_WHITESPACE
        OpeningRange(day=<Weekday.TUESDAY: 'tuesday'>,
                     opens=datetime.time(14, 0), closes=datetime.time(19, 30))
        """
        try:
            weekday = Weekday(day.strip().lower())
        except ValueError:
            raise OpeningRangeError(
                f"OpeningRange day: expected one of {', '.join(w.value for w in _WEEK)}, got {day!r}"
            ) from None
        try:
            opening = _parse_time(opens, f"OpeningRange.opens ({weekday.value})")
            closing = _parse_time(closes, f"OpeningRange.closes ({weekday.value})")
        except SpecificationError as error:
            raise OpeningRangeError(str(error)) from None
        return cls(weekday, opening, closing)


class WeeklyHours:
    """The weekly opening hours of a place: any number of ranges per day, normalised on construction
    (sorted by day and time; ranges of the same day that overlap or touch are merged into one, so
    9:00–12:00 and 11:00–13:00 become 9:00–13:00). Equal when their normalised ranges are equal; falsy
    when the place publishes no hours."""

    __slots__ = ("_by_day", "_ranges")

    def __init__(self, ranges: Iterable[OpeningRange] = ()) -> None:
        """Normalise ``ranges``; every item must be an ``OpeningRange``."""
        by_day: dict[Weekday, list[OpeningRange]] = {day: [] for day in _WEEK}
        for item in ranges:
            if not isinstance(item, OpeningRange):
                raise OpeningRangeError(f"WeeklyHours: expected OpeningRange items, got {item!r}")
            by_day[item.day].append(item)
        merged: dict[Weekday, tuple[OpeningRange, ...]] = {}
        for day, items in by_day.items():
            day_ranges: list[OpeningRange] = []
            for item in sorted(items, key=lambda each: (each.opens, each.closes)):
                if day_ranges and item.opens <= day_ranges[-1].closes:
                    last = day_ranges[-1]
                    day_ranges[-1] = OpeningRange(day, last.opens, max(last.closes, item.closes))
                else:
                    day_ranges.append(item)
            merged[day] = tuple(day_ranges)
        self._by_day = merged
        self._ranges = tuple(item for day in _WEEK for item in merged[day])

    @property
    def ranges(self) -> tuple[OpeningRange, ...]:
        """All normalised ranges, Monday first, each day's ranges in opening order."""
        return self._ranges

    def for_day(self, day: Weekday) -> tuple[OpeningRange, ...]:
        """The normalised ranges of one weekday, in opening order (empty when closed that day)."""
        return self._by_day[day]

    def __iter__(self) -> Iterator[OpeningRange]:
        return iter(self._ranges)

    def __len__(self) -> int:
        return len(self._ranges)

    def __bool__(self) -> bool:
        return bool(self._ranges)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WeeklyHours):
            return NotImplemented
        return self._ranges == other._ranges

    def __hash__(self) -> int:
        return hash(self._ranges)

    def __repr__(self) -> str:
        return f"WeeklyHours({list(self._ranges)!r})"


@dataclass(frozen=True, slots=True, order=True)
class Closure:
    """An exceptional closure covering whole days from ``start`` to ``end``, both included (a single day
    has ``start == end``). Closures order by start, then end."""

    start: date
    end: date

    def __post_init__(self) -> None:
        """Refuse datetimes (a closure is made of whole days) and an end before the start."""
        for name, value in (("start", self.start), ("end", self.end)):
            if isinstance(value, datetime) or not isinstance(value, date):
                raise ClosureError(
                    f"Closure.{name}: expected a datetime.date, got {type(value).__name__} {value!r}"
                )
        if self.end < self.start:
            raise ClosureError(
                f"Closure: expected start on or before end, got start {self.start} and end {self.end}"
            )

    def covers(self, day: date) -> bool:
        """Whether the closure includes the calendar date ``day``.

        >>> Closure(date(2025, 12, 24), date(2026, 1, 2)).covers(date(2026, 1, 1))
        True
        """
        return self.start <= day <= self.end

    def text(self) -> str:
        """The French phrase of the closure in the ``Horaires`` field: "fermé le 24/12" for one day,
        "fermé du 24/12 au 02/01" for several.

        >>> Closure(date(2025, 12, 24), date(2026, 1, 2)).text()
        'fermé du 24/12 au 02/01'
        """
        if self.start == self.end:
            return f"fermé le {format_date_short(self.start)}"
        return f"fermé du {format_date_short(self.start)} au {format_date_short(self.end)}"


def _format_ranges(ranges: tuple[OpeningRange, ...]) -> str:
    """Return "9h–12h, 14h–18h" for the ranges of one day."""
    return ", ".join(f"{format_hour(item.opens)}{RANGE_DASH}{format_hour(item.closes)}" for item in ranges)


def _day_groups(hours: WeeklyHours) -> list[tuple[Weekday, Weekday, tuple[OpeningRange, ...]]]:
    """Group consecutive weekdays (Monday to Sunday, no wrap-around) whose ranges have identical times;
    each group is (first day, last day, ranges of the first day)."""
    groups: list[tuple[Weekday, Weekday, tuple[OpeningRange, ...]]] = []
    previous_times: tuple[tuple[time, time], ...] = ()
    for day in _WEEK:
        ranges = hours.for_day(day)
        times = tuple((item.opens, item.closes) for item in ranges)
        if not times:
            previous_times = ()
            continue
        if groups and times == previous_times and groups[-1][1].position == day.position - 1:
            first, _, first_ranges = groups[-1]
            groups[-1] = (first, day, first_ranges)
        else:
            groups.append((day, day, ranges))
        previous_times = times
    return groups


def horaires_text(hours: WeeklyHours, closures: Iterable[Closure], today: date) -> str:
    """Return the human ``Horaires`` field of an actor (wire-format §3.1), such as "mar.–ven. 14h–19h ·
    sam. 10h–13h · fermé du 24/12 au 02/01": consecutive days with the same times are grouped, several
    ranges of a day are joined with commas, and only the closures not yet over on ``today`` are listed,
    in date order. Without weekly hours the text starts with "sur rendez-vous uniquement".

    >>> tuesday_to_friday = [OpeningRange(day, time(14), time(19)) for day in
    ...     (Weekday.TUESDAY, Weekday.WEDNESDAY, Weekday.THURSDAY, Weekday.FRIDAY)]
    >>> hours = WeeklyHours([*tuesday_to_friday, OpeningRange(Weekday.SATURDAY, time(10), time(13))])
    >>> horaires_text(hours, [Closure(date(2025, 12, 24), date(2026, 1, 2))], date(2025, 12, 1))
    'mar.–ven. 14h–19h · sam. 10h–13h · fermé du 24/12 au 02/01'
    """
    parts: list[str] = []
    for first, last, ranges in _day_groups(hours):
        days = first.abbreviation if first is last else f"{first.abbreviation}{RANGE_DASH}{last.abbreviation}"
        parts.append(f"{days} {_format_ranges(ranges)}")
    if not parts:
        parts.append(APPOINTMENT_ONLY_TEXT)
    upcoming = sorted({closure for closure in closures if closure.end >= today})
    parts.extend(closure.text() for closure in upcoming)
    return SEPARATOR.join(parts)


def opening_hours_specification(
    hours: WeeklyHours, closures: Iterable[Closure], *, today: date | None = None
) -> list[dict[str, str | list[str]]]:
    """Return the schema.org ``openingHoursSpecification`` entries of wire-format §3.1: one entry per
    distinct (opens, closes) pair with the IRIs of its days in weekday order, entries ordered by their
    first day then opening time, followed by one entry per closure (``opens`` = ``closes`` = "00:00" with
    ``validFrom``/``validThrough`` dates) in date order. When ``today`` is given, closures already over
    are left out.

    >>> opening_hours_specification(WeeklyHours([OpeningRange(Weekday.SATURDAY, time(10), time(13))]),
    ...                             [Closure(date(2025, 12, 24), date(2025, 12, 24))])
    ... # doctest: +NORMALIZE_WHITESPACE
    [{'type': 'OpeningHoursSpecification', 'dayOfWeek': ['https://schema.org/Saturday'],
      'opens': '10:00', 'closes': '13:00'},
     {'type': 'OpeningHoursSpecification', 'opens': '00:00', 'closes': '00:00',
      'validFrom': '2025-12-24', 'validThrough': '2025-12-24'}]
    """
    days_by_pair: dict[tuple[time, time], list[Weekday]] = {}
    for item in hours.ranges:
        days_by_pair.setdefault((item.opens, item.closes), []).append(item.day)
    ordered = sorted(days_by_pair.items(), key=lambda entry: (entry[1][0].position, entry[0]))
    entries: list[dict[str, str | list[str]]] = [
        {
            "type": "OpeningHoursSpecification",
            "dayOfWeek": [day.iri for day in days],
            "opens": f"{opens:%H:%M}",
            "closes": f"{closes:%H:%M}",
        }
        for (opens, closes), days in ordered
    ]
    for closure in sorted(set(closures)):
        if today is not None and closure.end < today:
            continue
        entries.append(
            {
                "type": "OpeningHoursSpecification",
                "opens": "00:00",
                "closes": "00:00",
                "validFrom": closure.start.isoformat(),
                "validThrough": closure.end.isoformat(),
            }
        )
    return entries


def _days_of(entry: Mapping[str, object], where: str) -> list[Weekday]:
    """Read the ``dayOfWeek`` of an entry: one value or a list; strings or objects with an ``id``/``@id``.
    ``PublicHolidays`` is skipped (we do not model public holidays)."""
    raw = entry.get("dayOfWeek")
    if raw is None:
        raise SpecificationError(f"{where}: expected a dayOfWeek on a weekly entry, got none")
    values = raw if isinstance(raw, list) else [raw]
    days: list[Weekday] = []
    for value in values:
        if isinstance(value, Mapping):
            value = value.get("id", value.get("@id"))
        if not isinstance(value, str):
            raise SpecificationError(f"{where}.dayOfWeek: expected a day IRI string, got {value!r}")
        if value.endswith("PublicHolidays"):
            continue
        try:
            days.append(Weekday.from_iri(value))
        except SpecificationError as error:
            raise SpecificationError(f"{where}.{error}") from None
    return days


def parse_opening_hours_specification(
    entries: Iterable[object],
) -> tuple[WeeklyHours, list[Closure]]:
    """Read ``openingHoursSpecification`` entries from a peer into weekly hours and closures (sorted,
    duplicates removed). An entry with ``opens`` = ``closes`` = "00:00", a ``validFrom`` and no
    ``dayOfWeek`` is a closure (``validThrough`` defaults to ``validFrom``; date-times are cut to their
    date); any other entry is a weekly range whose ``dayOfWeek`` may be one value or a list, in any of the
    spellings of ``Weekday.from_iri``. Times may carry ":00" seconds. Entries we cannot express are
    ignored: weekly entries restricted to a validity period (seasonal hours, or a closure limited to some
    weekdays), "00:00"–"00:00" days without a period (schema.org's "closed all day") and
    ``PublicHolidays``. Anything else unreadable raises ``SpecificationError`` naming the entry.

    >>> hours, closures = parse_opening_hours_specification([
    ...     {"dayOfWeek": "https://schema.org/Saturday", "opens": "10:00", "closes": "13:00"},
    ...     {"opens": "00:00", "closes": "00:00", "validFrom": "2025-12-24", "validThrough": "2026-01-02"}])
    >>> hours.ranges[0].day.value, [closure.text() for closure in closures]
    ('saturday', ['fermé du 24/12 au 02/01'])
    """
    ranges: list[OpeningRange] = []
    closures: set[Closure] = set()
    for position, entry in enumerate(entries):
        where = f"openingHoursSpecification[{position}]"
        if not isinstance(entry, Mapping):
            raise SpecificationError(f"{where}: expected an object, got {type(entry).__name__} {entry!r}")
        opens = _parse_time(entry.get("opens"), f"{where}.opens")
        closes = _parse_time(entry.get("closes"), f"{where}.closes")
        valid_from = entry.get("validFrom")
        valid_through = entry.get("validThrough")
        has_days = entry.get("dayOfWeek") is not None
        if opens == closes == _MIDNIGHT and valid_from is not None and not has_days:
            start = _parse_date(valid_from, f"{where}.validFrom")
            end = start if valid_through is None else _parse_date(valid_through, f"{where}.validThrough")
            try:
                closures.add(Closure(start, end))
            except ClosureError as error:
                raise SpecificationError(f"{where}: {error}") from None
            continue
        if valid_from is not None or valid_through is not None:
            continue  # seasonal hours or closures limited to some weekdays: not expressible here
        if opens == closes == _MIDNIGHT:
            continue  # schema.org's way of saying "closed all day" on the listed days
        for day in _days_of(entry, where):
            try:
                ranges.append(OpeningRange(day, opens, closes))
            except OpeningRangeError as error:
                raise SpecificationError(f"{where}: {error}") from None
    return WeeklyHours(ranges), sorted(closures)
