"""Mapping Rustine Libre records to specs: the workshop actor, its repair offer, its sessions."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from fedicoop.connectors.errors import SourceFormatError
from fedicoop.connectors.rustine.mapping import (
    Mapped,
    MappingContext,
    RepairerData,
    map_repairer,
    username_for,
)
from fedicoop.connectors.rustine.records import (
    parse_closures,
    parse_interventions,
    parse_opening_hours,
    parse_repairer,
    parse_slots,
)
from fedicoop.connectors.specs import Skip, SourceKey
from fedicoop.domain.hours import Closure
from fedicoop.territory import Territory
from schemas.api import OrganizationKind
from tests.conftest import FROZEN_NOW, SHARED_CACHE
from tests.fedicoop.connectors.rustine_standin import load_fixture

SOURCE = "rustine https://api.rustine.example"
API = "https://api.rustine.example"
SITE = "https://rustine.example"


@pytest.fixture(scope="module")
def territory() -> Territory:
    """Hauts-de-France, through the suite's shared cache."""
    return Territory.load(["32"], cache_dir=SHARED_CACHE)


def _data(number: int, **changes: Any) -> RepairerData:
    record = copy.deepcopy(next(item for item in load_fixture("repairers.json") if item["id"] == number))
    record.update(changes)
    key = str(number)
    slots = load_fixture("slots.json") if number == 1 else []
    return RepairerData(
        repairer=parse_repairer(record, SOURCE, "u"),
        hours=parse_opening_hours(load_fixture("opening_hours.json")[key], SOURCE, "u"),
        closures=parse_closures(load_fixture("closures.json")[key], SOURCE, "u"),
        prices=parse_interventions(load_fixture("interventions.json")[key], SOURCE, "u"),
        slots=parse_slots(slots, SOURCE, "u"),
    )


def _map(territory: Territory, data: RepairerData, now: datetime = FROZEN_NOW) -> Mapped:
    context = MappingContext(source=SOURCE, api_url=API, site_url=SITE, territory=territory, now=now)
    mapped = map_repairer(data, context)
    assert isinstance(mapped, Mapped)
    return mapped


def test_actor__workshop_with_exact_address_and_codes(territory: Territory) -> None:
    actor = _map(territory, _data(1)).actor
    assert actor.key == SourceKey("repairer", "1")
    profile = actor.profile
    assert profile.username == "atelier-velo-de-fives"
    assert profile.kind == OrganizationKind.WORKSHOP
    assert profile.name == "Atelier vélo de Fives"
    assert profile.summary == (
        "Atelier associatif de réparation de vélos à Lille-Fives.\n\n"
        "Réparation sur rendez-vous et ateliers d'autoréparation."
    )
    assert profile.website == f"{SITE}/reparateur/1"
    assert profile.icon_url == f"{API}/media/atelier-fives-logo.png"
    assert profile.fields == []  # structured hours: the document derives the Horaires field itself
    place = profile.location
    assert place is not None
    assert (place.street_address, place.postal_code, place.locality, place.country) == (
        "12 rue de l'Exemple",
        "59800",
        "Lille",
        "FR",
    )
    assert (place.latitude, place.longitude, place.radius) == (50.6292, 3.0886, None)
    assert (place.commune_code, place.departement_code, place.region_code, place.epci_code) == (
        "59350",
        "59",
        "32",
        "200093201",
    )
    assert place.region == "Hauts-de-France" and place.cog_year == 2025
    assert actor.booking_url == f"{SITE}/reparateur/1/creneaux"


def test_actor__availability_from_structured_hours(territory: Territory) -> None:
    availability = _map(territory, _data(1)).actor.availability
    assert availability is not None
    assert [(item.day, item.opens, item.closes) for item in availability.hours] == [
        ("tuesday", time(14), time(19)),
        ("wednesday", time(14), time(19)),
        ("thursday", time(14), time(19)),
        ("friday", time(14), time(19)),
        ("saturday", time(10), time(13)),
    ]
    # the June closure is over on 13 October 2025: only the Christmas one is published
    assert [(item.start, item.end) for item in availability.closures] == [
        (date(2025, 12, 24), date(2026, 1, 2))
    ]
    assert (availability.slot_minutes, availability.capacity) == (60, 2)


def test_actor__free_text_hours_without_structured_ones(territory: Territory) -> None:
    actor = _map(territory, _data(4)).actor
    assert [(field.name, field.value) for field in actor.profile.fields] == [
        ("Horaires", "Sur rendez-vous, du lundi au vendredi")
    ]
    assert actor.availability is not None and actor.availability.hours == []
    assert actor.profile.location is not None and actor.profile.location.commune_code == "59009"


def test_offer__repair_offer_with_prices_and_bike_types(territory: Territory) -> None:
    offer = _map(territory, _data(1)).offer
    assert offer.key == SourceKey("repair-offer", "1") and offer.owner == SourceKey("repairer", "1")
    data = offer.data
    assert (data.kind, data.purpose, data.category) == ("repair", "offer", "reparation-velo")
    assert data.title == "Réparation de vélo sur rendez-vous"
    assert "Vélos pris en charge : Vélo classique, Vélo électrique." in data.description
    assert "Tarifs : Révision 50 €, Réglage des freins 15 €." in data.description
    assert data.tags == ["ReparationVelo", "VéloClassique", "VéloÉlectrique"]
    assert data.external_url == f"{SITE}/reparateur/1/creneaux"
    assert data.location is None and offer.served_places == ()


def test_offer__slots_made_aware_and_long_as_a_slot(territory: Territory) -> None:
    slots = _map(territory, _data(1)).offer.slots
    assert slots is not None and len(slots) == 12
    first = slots[0]
    assert first.start.isoformat() == "2025-10-14T14:00:00+02:00"
    assert first.end - first.start == timedelta(minutes=60)
    assert first.start.astimezone(UTC) == datetime(2025, 10, 14, 12, 0, tzinfo=UTC)


def test_offer__past_slots_are_dropped(territory: Territory) -> None:
    later = datetime(2025, 10, 15, 13, 30, tzinfo=UTC)  # 15:30 in Paris on the 15th
    slots = _map(territory, _data(1), now=later).offer.slots
    assert slots is not None
    assert [slot.start.isoformat() for slot in slots[:2]] == [
        "2025-10-15T16:00:00+02:00",
        "2025-10-15T17:00:00+02:00",
    ]


def test_offer__slot_across_the_autumn_change(territory: Territory) -> None:
    data = _data(2)
    data = RepairerData(
        data.repairer,
        data.hours,
        data.closures,
        data.prices,
        parse_slots({"2025-10-25": ["23:00"], "2025-10-27": ["09:00"]}, SOURCE, "u"),
    )
    slots = _map(territory, data).offer.slots
    assert slots is not None
    assert [slot.start.isoformat() for slot in slots] == [
        "2025-10-25T23:00:00+02:00",
        "2025-10-27T09:00:00+01:00",
    ]
    # 90 minutes of real time, across the night the clocks go back
    assert slots[0].end.isoformat() == "2025-10-26T00:30:00+02:00"
    assert slots[1].end - slots[1].start == timedelta(minutes=90)


def test_offer__itinerant_serves_blurred_communes(territory: Territory) -> None:
    mapped = _map(territory, _data(2))
    offer = mapped.offer
    assert offer.data.title == "Réparation de vélo itinérante sur rendez-vous"
    places = offer.served_places
    assert [(place.name, place.commune_code, place.radius) for place in places] == [
        ("Roubaix", "59512", 3000.0),
        ("Tourcoing", "59599", 3600.0),
        ("Wattrelos", "59650", 4200.0),
    ]
    for place in places:
        assert place.street_address is None and place.postal_code is None
        assert place.locality == place.name
    assert (places[0].latitude, places[0].longitude) == (50.6912, 3.174)
    assert "Se déplace à : Roubaix, Tourcoing, Wattrelos." in offer.data.description
    assert mapped.skipped == [
        Skip(SourceKey("served-commune", "2 Mouscron"), "outside the node's territory (régions 32)")
    ]


def test_offer__same_commune_twice_is_served_once(territory: Territory) -> None:
    record = copy.deepcopy(load_fixture("repairers.json")[1])
    record["repairerCities"].append(
        {"name": "Roubaix Centre", "postcode": "59100", "latitude": "50.6900", "longitude": "3.1800"}
    )
    data = _data(2, repairerCities=record["repairerCities"])
    assert [place.name for place in _map(territory, data).offer.served_places] == [
        "Roubaix",
        "Tourcoing",
        "Wattrelos",
    ]


def test_sessions__only_for_self_repair_workshops(territory: Territory) -> None:
    assert _map(territory, _data(2)).sessions == []
    assert _map(territory, _data(4)).sessions == []


def test_sessions__one_per_opening_range_over_four_weeks(territory: Territory) -> None:
    sessions = _map(territory, _data(1)).sessions
    # Monday 13 October 2025 to Sunday 9 November: four weeks of Tuesday–Friday + Saturday ranges
    assert len(sessions) == 20
    first = sessions[0]
    assert first.key == SourceKey("session", "1-2025-10-14-14:00")
    assert first.owner == SourceKey("repairer", "1")
    assert first.data.start_time.isoformat() == "2025-10-14T14:00:00+02:00"
    assert first.data.end_time.isoformat() == "2025-10-14T19:00:00+02:00"
    assert first.data.name == "Atelier d'autoréparation vélo – Atelier vélo de Fives"
    assert first.data.registration_url == f"{SITE}/reparateur/1"
    after_change = next(item for item in sessions if item.key.id == "1-2025-10-28-14:00")
    assert after_change.data.start_time.isoformat() == "2025-10-28T14:00:00+01:00"
    assert sessions[-1].key.id == "1-2025-11-08-10:00"


def test_sessions__closures_remove_days_and_ongoing_session_stays(territory: Territory) -> None:
    data = _data(1)
    data.closures.append(Closure(date(2025, 10, 15), date(2025, 10, 16)))
    during = datetime(2025, 10, 14, 15, 0, tzinfo=UTC)  # 17:00 in Paris: the Tuesday session is on
    keys = [item.key.id for item in _map(territory, data, now=during).sessions]
    assert keys[0] == "1-2025-10-14-14:00"
    assert "1-2025-10-15-14:00" not in keys and "1-2025-10-16-14:00" not in keys
    assert "1-2025-10-17-14:00" in keys


def test_map__no_coordinates_is_skipped(territory: Territory) -> None:
    context = MappingContext(source=SOURCE, api_url=API, site_url=SITE, territory=territory, now=FROZEN_NOW)
    mapped = map_repairer(_data(1, latitude=None), context)
    assert mapped == Skip(SourceKey("repairer", "1"), "no latitude and longitude at the source")


def test_map__outside_the_territory_has_no_codes(territory: Territory) -> None:
    actor = _map(territory, _data(1, latitude="48.8566", longitude="2.3522")).actor
    place = actor.profile.location
    assert place is not None and place.commune_code is None and place.region is None


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"durationSlot": 5}, "durationSlot must be from 15 to 480 minutes, got 5"),
        ({"numberOfSlots": 12}, "numberOfSlots must be from 1 to 10, got 12"),
        ({"postcode": "59800", "country": "France", "name": "x" * 600}, None),
    ],
)
def test_map__values_out_of_our_bounds(
    territory: Territory, changes: dict[str, Any], words: str | None
) -> None:
    data = _data(1, **changes)
    if words is None:  # a long name is clipped, an unknown country spelling falls back to FR
        actor = _map(territory, data).actor
        assert len(actor.profile.name) == 500 and actor.profile.name.endswith("…")
        assert actor.profile.location is not None and actor.profile.location.country == "FR"
        return
    context = MappingContext(source=SOURCE, api_url=API, site_url=SITE, territory=territory, now=FROZEN_NOW)
    with pytest.raises(SourceFormatError) as caught:
        map_repairer(data, context)
    assert str(caught.value) == f"{SOURCE}: repairer 1 ({API}/repairers/1): {words}"


def test_username__folded_and_safe() -> None:
    assert username_for("Cycles du Campus", 4) == "cycles-du-campus"
    assert username_for("L'Œuf à Vélo !", 5) == "l-oeuf-a-velo"
    assert username_for("relay", 6) == "atelier-6"
    assert len(username_for("Atelier " * 20, 7)) <= 60
