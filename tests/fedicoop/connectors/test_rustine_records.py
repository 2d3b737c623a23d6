"""Parsing the Rustine Libre API's JSON-LD: the fixtures' shapes, and precise errors on bad ones."""

from __future__ import annotations

import copy
import dataclasses
from datetime import date, time
from typing import Any

import pytest

from fedicoop.connectors.errors import SourceFormatError
from fedicoop.connectors.rustine.records import (
    PriceLine,
    Repairer,
    ServedCity,
    SlotTime,
    parse_closures,
    parse_entry,
    parse_interventions,
    parse_opening_hours,
    parse_repairer,
    parse_slots,
)
from fedicoop.domain.hours import Closure, OpeningRange, Weekday
from tests.fedicoop.connectors.rustine_standin import load_fixture

SOURCE = "rustine https://api.rustine.example"
URL = "https://api.rustine.example/repairers/1"


def _repairer(number: int) -> dict[str, Any]:
    found: dict[str, Any] = next(item for item in load_fixture("repairers.json") if item["id"] == number)
    return copy.deepcopy(found)


def test_repairer__fixture_is_read() -> None:
    repairer = parse_repairer(_repairer(1), SOURCE, URL)
    assert repairer.id == 1 and repairer.enabled
    assert repairer.name == "Atelier vélo de Fives"
    assert (repairer.street_number, repairer.street, repairer.postcode, repairer.city) == (
        "12",
        "rue de l'Exemple",
        "59800",
        "Lille",
    )
    assert (repairer.latitude, repairer.longitude) == (50.6292, 3.0886)
    assert repairer.types == ("Atelier de réparation", "Auto réparation")
    assert repairer.bike_types == ("Vélo classique", "Vélo électrique")
    assert (repairer.duration_slot, repairer.number_of_slots) == (60, 2)
    assert repairer.thumbnail == "/media/atelier-fives-logo.png"
    assert repairer.opening_hours_text == "Du mardi au vendredi de 14h à 19h, le samedi matin"


def test_repairer__private_fields_are_not_kept() -> None:
    names = {item.name for item in dataclasses.fields(Repairer)}
    assert not names & {"owner", "mobile_phone", "mobilePhone", "comment", "email", "optional_page"}
    repairer = parse_repairer(_repairer(1), SOURCE, URL)
    text = repr(repairer)
    for private in ("06 12 34 56 78", "jeanne.martin", "Martin", "Bernard"):
        assert private not in text


def test_repairer__itinerant_cities_are_read() -> None:
    repairer = parse_repairer(_repairer(2), SOURCE, URL)
    assert repairer.cities[0] == ServedCity("Roubaix", "59100", 50.6912, 3.174)
    assert [city.name for city in repairer.cities] == ["Roubaix", "Tourcoing", "Wattrelos", "Mouscron"]


def test_repairer__defaults_when_optional_fields_are_absent() -> None:
    record = _repairer(4)
    for name in (
        "durationSlot",
        "numberOfSlots",
        "description",
        "thumbnail",
        "bikeTypesSupported",
        "latitude",
    ):
        record.pop(name)
    repairer = parse_repairer(record, SOURCE, URL)
    assert (repairer.duration_slot, repairer.number_of_slots) == (60, 1)
    assert repairer.description is None and repairer.thumbnail is None and repairer.bike_types == ()
    assert repairer.latitude is None


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (lambda r: r.pop("name"), "name", "is missing"),
        (lambda r: r.pop("enabled"), "enabled", "is missing"),
        (lambda r: r.update(enabled="yes"), "enabled", "true or false"),
        (lambda r: r.update(id="1"), "id", "must be an integer"),
        (lambda r: r.update(latitude="50,6x"), "latitude", "decimal number"),
        (lambda r: r.update(longitude="200"), "longitude", "between"),
        (lambda r: r.update(durationSlot=60.5), "durationSlot", "must be an integer"),
        (lambda r: r.update(repairerTypes=["/repairer_types/1"]), "repairerTypes[0]", "embedded object"),
        (lambda r: r.update(repairerTypes=[{"@id": "/repairer_types/1"}]), "name", "is missing"),
        (lambda r: r.update(bikeTypesSupported="Vélo"), "bikeTypesSupported", "must be a list"),
    ],
)
def test_repairer__bad_field_is_named(change: Any, field: str, words: str) -> None:
    record = _repairer(1)
    change(record)
    with pytest.raises(SourceFormatError) as caught:
        parse_repairer(record, SOURCE, URL)
    message = str(caught.value)
    assert message.startswith(f"{SOURCE}: GET {URL}")
    assert f"field {field!r}" in message and words in message
    assert caught.value.source == SOURCE


def test_entry__enabled_flag() -> None:
    assert parse_entry({"id": 3, "enabled": False}, SOURCE, "member 0").enabled is False
    with pytest.raises(SourceFormatError, match="member 0: field 'enabled' is missing"):
        parse_entry({"id": 3}, SOURCE, "member 0")


def test_opening_hours__fixture_and_short_hours() -> None:
    members = load_fixture("opening_hours.json")["2"]
    ranges = parse_opening_hours(members, SOURCE, "u")
    assert ranges == [
        OpeningRange(Weekday.MONDAY, time(9), time(12)),
        OpeningRange(Weekday.THURSDAY, time(14), time(18)),
    ]


@pytest.mark.parametrize(
    ("member", "words"),
    [
        ({"day": "funday", "startTime": "14:00", "endTime": "19:00"}, "funday"),
        ({"day": "monday", "startTime": "25:00", "endTime": "19:00"}, "'startTime' must be a time"),
        ({"day": "monday", "startTime": "19:00", "endTime": "14:00"}, "opens before closes"),
        ({"day": "monday", "startTime": "14:00"}, "'endTime' is missing"),
    ],
)
def test_opening_hours__bad_member_is_named(member: dict[str, Any], words: str) -> None:
    member = {"@id": "/repairer_opening_hours/9", **member}
    with pytest.raises(SourceFormatError) as caught:
        parse_opening_hours([member], SOURCE, "https://api.rustine.example/repairer_opening_hours?repairer=1")
    message = str(caught.value)
    assert "repairer_opening_hours?repairer=1: member 0 (/repairer_opening_hours/9)" in message
    assert words in message


def test_closures__datetimes_and_dates() -> None:
    closures = parse_closures(load_fixture("closures.json")["1"], SOURCE, "u")
    assert closures == [
        Closure(date(2025, 6, 2), date(2025, 6, 6)),
        Closure(date(2025, 12, 24), date(2026, 1, 2)),
    ]
    assert parse_closures([{"startDate": "2025-11-11", "endDate": "2025-11-11"}], SOURCE, "u") == [
        Closure(date(2025, 11, 11), date(2025, 11, 11))
    ]


def test_closures__bad_dates_are_named() -> None:
    with pytest.raises(SourceFormatError, match="'startDate' must be a date"):
        parse_closures([{"startDate": "24/12/2025", "endDate": "2025-12-25"}], SOURCE, "u")
    with pytest.raises(SourceFormatError, match="'endDate' must be an existing date"):
        parse_closures([{"startDate": "2025-02-01", "endDate": "2025-02-30"}], SOURCE, "u")
    with pytest.raises(SourceFormatError, match="start on or before end"):
        parse_closures([{"startDate": "2025-12-25", "endDate": "2025-12-24"}], SOURCE, "u")


def test_interventions__prices_in_cents() -> None:
    lines = parse_interventions(load_fixture("interventions.json")["1"], SOURCE, "u")
    assert lines == [PriceLine("Révision", 5000), PriceLine("Réglage des freins", 1500)]


def test_interventions__bad_members_are_named() -> None:
    with pytest.raises(SourceFormatError, match="'price' must be an integer"):
        parse_interventions([{"price": "50 €", "intervention": {"description": "Révision"}}], SOURCE, "u")
    with pytest.raises(SourceFormatError, match="'intervention' must be an embedded object"):
        parse_interventions([{"price": 500, "intervention": "/interventions/1"}], SOURCE, "u")
    with pytest.raises(SourceFormatError, match="intervention: field 'description' is missing"):
        parse_interventions([{"price": 500, "intervention": {}}], SOURCE, "u")


def test_slots__map_of_days() -> None:
    slots = parse_slots(load_fixture("slots.json"), SOURCE, "u")
    assert len(slots) == 12
    assert slots[0] == SlotTime(date(2025, 10, 14), time(14))
    assert slots[-1] == SlotTime(date(2025, 10, 18), time(12))
    assert slots == sorted(slots, key=lambda slot: (slot.day, slot.start))


def test_slots__php_empty_array_and_duplicates() -> None:
    assert parse_slots([], SOURCE, "u") == []
    assert parse_slots({}, SOURCE, "u") == []
    assert parse_slots({"2025-10-14": ["9:00", "09:00"]}, SOURCE, "u") == [
        SlotTime(date(2025, 10, 14), time(9))
    ]


@pytest.mark.parametrize(
    ("document", "words"),
    [
        ({"14/10/2025": ["14:00"]}, "is not a date"),
        ({"2025-02-30": ["14:00"]}, "is not a date"),
        ({"2025-10-14": "14:00"}, "must hold a list"),
        ({"2025-10-14": ["2pm"]}, "expected a time"),
        (["14:00"], "expected a JSON object"),
    ],
)
def test_slots__bad_shapes_are_named(document: object, words: str) -> None:
    with pytest.raises(SourceFormatError, match=words) as caught:
        parse_slots(document, SOURCE, "https://api.rustine.example/repairer_get_slots_available/1")
    assert "repairer_get_slots_available/1" in str(caught.value)
