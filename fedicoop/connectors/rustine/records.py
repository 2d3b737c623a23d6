"""Typed records of the Rustine Libre public API, parsed strictly from its JSON-LD (domain.md §2).

Every parser takes the decoded JSON, the source's name and the URL it came from, and raises
:class:`~fedicoop.connectors.errors.SourceFormatError` naming that URL, the member and the field at fault
when something required is missing or ill-typed. Only the fields we publish are read: a repairer's
``owner``, ``mobilePhone``, ``comment`` and Google tokens are never looked at (domain.md §5), and neither
are appointments, customers or bikes, which the connector never requests.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from fedicoop.connectors.errors import SourceFormatError
from fedicoop.domain.hours import Closure, ClosureError, OpeningRange, OpeningRangeError

__all__ = [
    "PriceLine",
    "Record",
    "Repairer",
    "RepairerEntry",
    "ServedCity",
    "SlotTime",
    "describe",
    "expect_object",
    "parse_closures",
    "parse_entry",
    "parse_interventions",
    "parse_opening_hours",
    "parse_repairer",
    "parse_slots",
]

Record = Mapping[str, Any]
"""One JSON object of the API, as decoded."""

_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ].*)?", re.DOTALL)
_TIME = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])(?::00)?")


def expect_object(value: object, source: str, where: str) -> Record:
    """``value`` if it is a JSON object, else SourceFormatError naming ``where``."""
    if not isinstance(value, Mapping):
        raise SourceFormatError(source, f"{where}: expected a JSON object, got {describe(value)}")
    return value


def describe(value: object) -> str:
    """A short description of a JSON value for error messages (``the string '25:00'``, ``null``…)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return f"the string {value[:60]!r}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, list):
        return "a list"
    return "an object" if isinstance(value, Mapping) else type(value).__name__


class _Fields:
    """Reads the fields of one record, naming the record in every error."""

    def __init__(self, record: Record, source: str, where: str) -> None:
        self.record = record
        self.source = source
        self.where = where

    def fail(self, name: str, problem: str) -> SourceFormatError:
        return SourceFormatError(self.source, f"{self.where}: field {name!r} {problem}")

    def _present(self, name: str) -> Any:
        if name not in self.record:
            raise self.fail(name, "is missing")
        return self.record[name]

    def string(self, name: str) -> str:
        value = self._present(name)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(name, f"must be a non-empty string, got {describe(value)}")
        return value.strip()

    def optional_string(self, name: str) -> str | None:
        value = self.record.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(name, f"must be a string, got {describe(value)}")
        return value.strip() or None

    def integer(self, name: str) -> int:
        value = self._present(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(name, f"must be an integer, got {describe(value)}")
        return value

    def optional_integer(self, name: str, default: int) -> int:
        value = self.record.get(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(name, f"must be an integer, got {describe(value)}")
        return value

    def boolean(self, name: str) -> bool:
        value = self._present(name)
        if not isinstance(value, bool):
            raise self.fail(name, f"must be true or false, got {describe(value)}")
        return value

    def coordinate(self, name: str, bound: float) -> float | None:
        """A coordinate written as a string (Rustine's columns) or a number; ``None`` when absent."""
        value = self.record.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.fail(name, f"must be a decimal number written as a string, got {describe(value)}")
        try:
            number = float(value.strip().replace(",", ".") if isinstance(value, str) else value)
        except ValueError:
            raise self.fail(name, f"must be a decimal number, got {describe(value)}") from None
        if not math.isfinite(number) or abs(number) > bound:
            raise self.fail(name, f"must be a number between -{bound:g} and {bound:g}, got {describe(value)}")
        return number

    def objects(self, name: str) -> list[_Fields]:
        """The members of an embedded list (absent or null: empty), each an object."""
        value = self.record.get(name)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(name, f"must be a list, got {describe(value)}")
        found = []
        for position, item in enumerate(value):
            if not isinstance(item, Mapping):
                raise self.fail(f"{name}[{position}]", f"must be an embedded object, got {describe(item)}")
            found.append(_Fields(item, self.source, f"{self.where}: {name}[{position}]"))
        return found


def _member_where(url: str, position: int, member: Record) -> str:
    label = member.get("@id")
    return f"GET {url}: member {position}" + (f" ({label})" if isinstance(label, str) else "")


@dataclass(frozen=True, slots=True)
class RepairerEntry:
    """A repairer as listed by ``GET /repairers``: only what decides whether we read it."""

    id: int
    enabled: bool


@dataclass(frozen=True, slots=True)
class ServedCity:
    """A commune an itinerant repairer serves (``RepairerCity``)."""

    name: str
    postcode: str | None
    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class Repairer:
    """A repairer as ``GET /repairers/{id}`` describes it, its private fields left out.

    ``latitude`` and ``longitude`` are ``None`` when the source has none; ``duration_slot`` (minutes)
    and ``number_of_slots`` (capacity per slot) take Rustine's defaults (60 and 1) when absent.
    ``thumbnail`` is the logo's ``contentUrl`` as given (possibly relative to the instance).
    """

    id: int
    enabled: bool
    name: str
    description: str | None
    street: str | None
    street_number: str | None
    city: str
    postcode: str | None
    country: str | None
    latitude: float | None
    longitude: float | None
    opening_hours_text: str | None
    duration_slot: int
    number_of_slots: int
    types: tuple[str, ...]
    bike_types: tuple[str, ...]
    cities: tuple[ServedCity, ...]
    thumbnail: str | None


@dataclass(frozen=True, slots=True)
class PriceLine:
    """One line of a repairer's price list: the intervention and its price in cents."""

    description: str
    price_cents: int


@dataclass(frozen=True, slots=True)
class SlotTime:
    """A free slot as the slots endpoint lists it: a Paris calendar date and wall-clock start."""

    day: date
    start: time


def parse_entry(record: Record, source: str, where: str) -> RepairerEntry:
    """A member of the repairers collection: its ``id`` and ``enabled`` flag."""
    fields = _Fields(record, source, where)
    return RepairerEntry(id=fields.integer("id"), enabled=fields.boolean("enabled"))


def parse_repairer(record: Record, source: str, url: str) -> Repairer:
    """A repairer document (``GET /repairers/{id}``); see :class:`Repairer`."""
    fields = _Fields(record, source, f"GET {url}")
    types = tuple(item.string("name") for item in fields.objects("repairerTypes"))
    bike_types = tuple(item.string("name") for item in fields.objects("bikeTypesSupported"))
    cities = []
    for item in fields.objects("repairerCities"):
        latitude, longitude = item.coordinate("latitude", 90.0), item.coordinate("longitude", 180.0)
        if latitude is None or longitude is None:
            raise item.fail("latitude" if latitude is None else "longitude", "is missing")
        cities.append(
            ServedCity(
                name=item.string("name"),
                postcode=item.optional_string("postcode"),
                latitude=latitude,
                longitude=longitude,
            )
        )
    thumbnail = record.get("thumbnail")
    content_url = None
    if isinstance(thumbnail, Mapping):
        content_url = _Fields(thumbnail, source, f"GET {url}: thumbnail").optional_string("contentUrl")
    return Repairer(
        id=fields.integer("id"),
        enabled=fields.boolean("enabled"),
        name=fields.string("name"),
        description=fields.optional_string("description"),
        street=fields.optional_string("street"),
        street_number=fields.optional_string("streetNumber"),
        city=fields.string("city"),
        postcode=fields.optional_string("postcode"),
        country=fields.optional_string("country"),
        latitude=fields.coordinate("latitude", 90.0),
        longitude=fields.coordinate("longitude", 180.0),
        opening_hours_text=fields.optional_string("openingHours"),
        duration_slot=fields.optional_integer("durationSlot", 60),
        number_of_slots=fields.optional_integer("numberOfSlots", 1),
        types=types,
        bike_types=bike_types,
        cities=tuple(cities),
        thumbnail=content_url,
    )


def _wall(fields: _Fields, name: str) -> str:
    """A wall-clock time as ``HH:MM``: Rustine accepts ``9:00`` as well as ``09:00``."""
    value = fields.string(name)
    match = _TIME.fullmatch(value)
    if match is None:
        raise fields.fail(name, f"must be a time such as 14:00, got {describe(value)}")
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def parse_opening_hours(members: Sequence[Record], source: str, url: str) -> list[OpeningRange]:
    """The weekly ranges of ``GET /repairer_opening_hours?repairer={id}`` (``day``, ``startTime``,
    ``endTime``)."""
    ranges = []
    for position, member in enumerate(members):
        fields = _Fields(member, source, _member_where(url, position, member))
        day, opens, closes = fields.string("day"), _wall(fields, "startTime"), _wall(fields, "endTime")
        try:
            ranges.append(OpeningRange.from_strings(day, opens, closes))
        except OpeningRangeError as exc:
            raise SourceFormatError(source, f"{fields.where}: {exc}") from None
    return ranges


def _date(fields: _Fields, name: str) -> date:
    value = fields.string(name)
    match = _DATE.fullmatch(value)
    if match is None:
        raise fields.fail(name, f"must be a date such as 2025-12-24, got {describe(value)}")
    try:
        return date(*(int(group) for group in match.groups()))
    except ValueError:
        raise fields.fail(name, f"must be an existing date, got {describe(value)}") from None


def parse_closures(members: Sequence[Record], source: str, url: str) -> list[Closure]:
    """The exceptional closures of ``GET /repairer_exceptional_closures?repairer={id}``: whole days from
    ``startDate`` to ``endDate`` (the date part of API Platform's datetimes)."""
    closures = []
    for position, member in enumerate(members):
        fields = _Fields(member, source, _member_where(url, position, member))
        start, end = _date(fields, "startDate"), _date(fields, "endDate")
        try:
            closures.append(Closure(start, end))
        except ClosureError as exc:
            raise SourceFormatError(source, f"{fields.where}: {exc}") from None
    return closures


def parse_interventions(members: Sequence[Record], source: str, url: str) -> list[PriceLine]:
    """The price list of ``GET /repairer_interventions?repairer={id}``: ``price`` in cents and the
    embedded ``intervention.description``."""
    lines = []
    for position, member in enumerate(members):
        fields = _Fields(member, source, _member_where(url, position, member))
        price = fields.integer("price")
        if price < 0:
            raise fields.fail("price", f"must not be negative, got {price}")
        intervention = member.get("intervention")
        if not isinstance(intervention, Mapping):
            raise fields.fail("intervention", f"must be an embedded object, got {describe(intervention)}")
        inner = _Fields(intervention, source, f"{fields.where}: intervention")
        lines.append(PriceLine(description=inner.string("description"), price_cents=price))
    return lines


def parse_slots(document: object, source: str, url: str) -> list[SlotTime]:
    """The free slots of ``GET /repairer_get_slots_available/{id}``: an object mapping each date to its
    start times (``{"2025-10-14": ["14:00", "15:00"]}``), or ``[]`` when there is none (PHP's empty
    array). Sorted and without duplicates."""
    if isinstance(document, list) and not document:
        return []
    days = expect_object(document, source, f"GET {url}")
    found: set[SlotTime] = set()
    for key, times in days.items():
        match = _DATE.fullmatch(key)
        try:
            day = date(*(int(group) for group in match.groups())) if match and len(key) == 10 else None
        except ValueError:
            day = None
        if day is None:
            raise SourceFormatError(source, f"GET {url}: key {key!r} is not a date such as 2025-10-14")
        if not isinstance(times, list):
            raise SourceFormatError(
                source, f"GET {url}: {key} must hold a list of times, got {describe(times)}"
            )
        for value in times:
            parsed = _TIME.fullmatch(value) if isinstance(value, str) else None
            if parsed is None:
                raise SourceFormatError(
                    source, f"GET {url}: {key} holds {describe(value)}, expected a time such as 14:00"
                )
            found.add(SlotTime(day, time(int(parsed.group(1)), int(parsed.group(2)))))
    return sorted(found, key=lambda slot: (slot.day, slot.start))
