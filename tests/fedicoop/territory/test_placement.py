"""Tests of ``fedicoop.territory.placement``: our codes from the coordinates, the sender's checked."""

from __future__ import annotations

import math

import pytest

from fedicoop.errors import ValidationError
from fedicoop.territory import Territory, locate

LILLE = (50.6365, 3.0635)
LOMME = (50.6435, 2.9873)
PARIS_4E = (48.8546, 2.3572)
CHANNEL = (50.5, 1.0)
RIGHT = {"communeCode": "59350", "departementCode": "59", "regionCode": "32", "epciCode": "200093201"}


def test_locate__exact_point_with_right_codes(territory: Territory) -> None:
    placement = locate(territory, *LILLE, None, RIGHT)
    assert placement.commune is not None and placement.commune.code == "59350"
    assert [commune.code for commune in placement.communes] == ["59350"]
    assert placement.flags == ()


def test_locate__no_codes_sent(territory: Territory) -> None:
    placement = locate(territory, *LOMME, None, {})
    assert placement.commune is not None and placement.commune.code == "59350"
    assert placement.flags == ()


def test_locate__wrong_codes_are_corrected_and_flagged(territory: Territory) -> None:
    claimed = {"communeCode": "59000", "departementCode": "62", "regionCode": "11", "epciCode": "200041960"}
    placement = locate(territory, *LILLE, None, claimed)
    assert placement.commune is not None
    assert (placement.commune.code, placement.commune.departement, placement.commune.region) == (
        "59350",
        "59",
        "32",
    )
    epci = territory.epci_name("200093201")
    assert placement.flags == (
        "communeCode 59000 does not match 59350 (Lille) computed from the coordinates",
        "departementCode 62 does not match 59 (Nord) computed from the coordinates",
        "regionCode 11 does not match 32 (Hauts-de-France) computed from the coordinates",
        f"epciCode 200041960 does not match 200093201 ({epci}) computed from the coordinates",
    )


def test_locate__only_the_wrong_code_is_flagged(territory: Territory) -> None:
    placement = locate(territory, *LILLE, None, {**RIGHT, "communeCode": "59355"})  # Lomme, part of Lille
    assert placement.flags == ()
    placement = locate(territory, *LILLE, None, {**RIGHT, "communeCode": "59512", "epciCode": None})
    assert placement.flags == (
        "communeCode 59512 does not match 59350 (Lille) computed from the coordinates",
    )


def test_locate__arrondissement_code_agrees_with_paris(territory: Territory) -> None:
    claimed = {"communeCode": "75104", "departementCode": "75", "regionCode": "11"}
    placement = locate(territory, *PARIS_4E, None, claimed)
    assert placement.commune is not None and placement.commune.code == "75056"
    assert placement.flags == ()


def test_locate__hostile_codes_are_quoted_and_cut(territory: Territory) -> None:
    placement = locate(territory, *LILLE, None, {"communeCode": "<script>" + "x" * 500, "regionCode": "32"})
    assert placement.flags == (
        f"communeCode {'<script>' + 'x' * 32!r} does not match 59350 (Lille) computed from the coordinates",
    )


def test_locate__at_sea(territory: Territory) -> None:
    placement = locate(territory, *CHANNEL, 2000.0, RIGHT)
    assert placement.commune is None
    assert placement.communes == ()
    assert placement.flags == (
        "communeCode 59350, departementCode 59, regionCode 32, epciCode 200093201 cannot be checked: "
        "the coordinates are in no commune of the territory served",
    )
    assert locate(territory, *CHANNEL, None, {}).flags == ()


def test_locate__blurred_roubaix_covers_its_neighbours(territory: Territory) -> None:
    roubaix = territory.commune("59512")
    assert roubaix is not None
    blurred = territory.blur(roubaix)
    assert blurred is not None
    latitude, longitude, radius = blurred
    placement = locate(territory, latitude, longitude, radius, {"communeCode": "59512"})
    assert placement.commune == roubaix
    assert placement.communes[0] == roubaix
    names = {commune.name for commune in placement.communes}
    assert {"Tourcoing", "Croix", "Wattrelos", "Hem"} <= names
    assert len(placement.communes) == len(set(placement.communes)) > 5
    assert placement.flags == ()


def test_locate__zero_radius_is_an_exact_point(territory: Territory) -> None:
    assert [commune.code for commune in locate(territory, *LILLE, 0.0, {}).communes] == ["59350"]


@pytest.mark.parametrize(
    ("latitude", "longitude", "radius", "field"),
    [
        (math.nan, 3.0, None, "latitude"),
        (50.6, math.inf, None, "longitude"),
        (95.0, 3.0, None, "latitude"),
        (50.6, 3.0, -5.0, "radius"),
        (50.6, 3.0, math.nan, "radius"),
    ],
)
def test_locate__malformed_input(
    territory: Territory, latitude: float, longitude: float, radius: float | None, field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        locate(territory, latitude, longitude, radius, RIGHT)
    assert caught.value.field == field
