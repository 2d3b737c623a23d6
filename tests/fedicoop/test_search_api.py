"""``GET /api/v1/catalogue`` with the search parameters, on a running node (SQLite and PostgreSQL).

Every parameter is exercised with good values, with known bad ones (400 naming it), and fuzzed with
hypothesis, alone and together: the answer is a page or a 400 whose ``field`` is one of the parameters
sent, never a 500. ``near`` with a commune code loads the node's own territory (Hauts-de-France).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from fedicoop.db import open_database
from fedicoop.settings import Settings
from fedicoop.territory import Territory
from tests.fedicoop.test_search import (
    ARRAS,
    FIVES,
    FIVES_POINT,
    blurred,
    event,
    exact,
    note,
    put,
    put_slots,
    townhall,
)

pytestmark = pytest.mark.anyio

URL = "/api/v1/catalogue"
PARAMETERS = (
    "kind",
    "category",
    "q",
    "commune",
    "epci",
    "departement",
    "region",
    "near",
    "radius",
    "from",
    "to",
    "node",
    "sort",
    "purpose",
    "actor",
    "limit",
    "cursor",
)


@pytest.fixture(scope="session")
def territory(tmp_path_factory: pytest.TempPathFactory) -> Territory:
    """Hauts-de-France, as test_search.py loads it (same cache folder)."""
    return Territory.load(["32"], cache_dir=Path(tmp_path_factory.getbasetemp()) / "search-territory")


@pytest.fixture
async def filled(settings: Settings, territory: Territory) -> None:
    """A small catalogue: a blurred request in Roubaix, an offer and a repair offer in Fives, an event
    in Fives, a repair offer in Arras; slots on the two repair offers."""
    async with open_database(settings):
        await put(
            note("a1", "Remorque vélo", purpose="request", place=blurred(territory, "59512")), territory
        )
        wrong = exact(FIVES_POINT, "Atelier de Fives", communeCode="59000")
        await put(note("a2", "Perceuse", category="travaux-outillage", place=wrong), territory)
        fives = await put(
            note(
                "a3", "Réparation Fives", kind="repair", category="reparation-velo", host=FIVES, place=wrong
            ),
            territory,
        )
        await put(
            event(
                "a4",
                "Atelier samedi",
                starts="2025-10-18T10:00:00+02:00",
                ends="2025-10-18T13:00:00+02:00",
                place=wrong,
            ),
            territory,
        )
        arras = await put(
            note(
                "a5",
                "Réparation Arras",
                kind="repair",
                category="reparation-velo",
                host=ARRAS,
                place=exact(townhall(territory, "62041")),
            ),
            territory,
        )
        await put_slots(fives, ("2025-10-14T14:00:00+02:00", "2025-10-14T15:00:00+02:00", 1))
        await put_slots(arras, ("2025-10-20T09:00:00+02:00", "2025-10-20T10:00:00+02:00", 1))


async def names(client: httpx.AsyncClient, params: Any) -> list[str]:
    response = await client.get(URL, params=params)
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


async def test_api__every_parameter(client: httpx.AsyncClient, filled: None) -> None:
    everything = ["Remorque vélo", "Perceuse", "Réparation Fives", "Atelier samedi", "Réparation Arras"]
    assert sorted(await names(client, {})) == sorted(everything)
    assert sorted(await names(client, {"kind": "repair,event"})) == [
        "Atelier samedi",
        "Réparation Arras",
        "Réparation Fives",
    ]
    assert sorted(await names(client, [("kind", "repair"), ("kind", "request")])) == [
        "Remorque vélo",
        "Réparation Arras",
        "Réparation Fives",
    ]
    assert await names(client, {"category": "travaux-outillage"}) == ["Perceuse"]
    assert await names(client, {"q": "REMORQUES", "kind": ""}) == ["Remorque vélo"]  # blank: no filter
    assert await names(client, {"commune": "59009"}) == ["Remorque vélo"]  # overlapped by the blur
    assert sorted(await names(client, {"epci": "200093201", "kind": "offer,request"})) == [
        "Perceuse",
        "Remorque vélo",
    ]
    assert await names(client, {"departement": "62"}) == ["Réparation Arras"]
    assert len(await names(client, {"region": "32"})) == 5
    assert await names(client, {"node": "atelier-arras.example"}) == ["Réparation Arras"]
    assert len(await names(client, {"node": "https://VELO-FIVES.example/"})) == 2
    assert await names(client, {"purpose": "request"}) == ["Remorque vélo"]
    assert await names(client, {"actor": f"https://{ARRAS}/actors/coop"}) == ["Réparation Arras"]
    # Whole Paris days, "to" included: the slot of 14 October, the event of the 18th.
    assert await names(client, {"from": "2025-10-14", "to": "2025-10-14"}) == ["Réparation Fives"]
    assert sorted(await names(client, {"from": "2025-10-15T00:00", "to": "2025-10-20"})) == [
        "Atelier samedi",
        "Réparation Arras",
    ]
    assert await names(client, {"from": "2025-10-18T12:30:00+02:00", "to": "2025-10-18T11:00:00Z"}) == [
        "Atelier samedi"
    ]
    assert await names(client, {"sort": "start", "kind": "repair,event"}) == [
        "Réparation Fives",
        "Atelier samedi",
        "Réparation Arras",
    ]
    first = (await client.get(URL, params={"limit": "2", "sort": "start"})).json()
    assert len(first["items"]) == 2 and first["total"] == 5
    second = await names(client, {"limit": "2", "sort": "start", "cursor": first["next_cursor"]})
    assert len(second) == 2 and not set(second) & {item["name"] for item in first["items"]}


async def test_api__near_territory_columns_and_facets(client: httpx.AsyncClient, filled: None) -> None:
    response = await client.get(URL, params={"near": "59512", "radius": "12.5"})  # Roubaix's town hall
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["items"][0]["name"] == "Remorque vélo"  # distance order by default
    distances = [item["distance_m"] for item in body["items"]]
    assert distances == sorted(distances) and distances[0] < 100 and len(distances) == 4
    offer = next(item for item in body["items"] if item["name"] == "Perceuse")
    assert (offer["commune_code"], offer["epci_code"], offer["departement_code"], offer["region_code"]) == (
        "59350",
        "200093201",
        "59",
        "32",
    )
    assert offer["territory_flags"] == [
        "communeCode 59000 does not match 59350 (Lille) computed from the coordinates"
    ]
    request = body["items"][0]
    assert (request["radius"], request["commune_code"]) == (3000.0, "59512")
    assert body["total"] == 4
    assert body["facets"] == {
        "kind": {"event": 1, "offer": 1, "repair": 1, "request": 1},
        "category": {
            "WORKSHOPS_SKILL_SHARING": 1,
            "reparation-velo": 1,
            "travaux-outillage": 1,
            "maison-cuisine": 1,
        },
        "departement": {"59": 4},
    }
    by_point = await names(client, {"near": "50.6292,3.0886", "radius": "2", "sort": "date"})
    assert sorted(by_point) == ["Atelier samedi", "Perceuse", "Réparation Fives"]
    assert await names(
        client,
        {
            "kind": "repair",
            "from": "2025-10-13T08:00",
            "to": "2025-10-16T08:00",
            "near": "59512",
            "radius": "10",
        },
    ) == ["Réparation Fives"]


BAD_VALUES = [
    ("kind", "spaceship"),
    ("kind", "offer,,nope"),
    ("category", "<script>"),
    ("q", "x" * 201),
    ("q", " ".join(f"mot{number}" for number in range(17))),
    ("commune", "5935"),
    ("commune", "2C004"),
    ("epci", "20009320"),
    ("departement", "2C"),
    ("region", "321"),
    ("near", "50.6,"),
    ("near", "nan,3"),
    ("near", "1e2,3"),
    ("near", "91,3"),
    ("near", "99999"),  # a commune code the territory does not hold
    ("radius", "5"),  # without near
    ("from", "2025-13-01"),
    ("from", "0001-01-01"),
    ("to", "tomorrow"),
    ("to", "9999-12-31"),
    ("node", "exa mple"),
    ("node", "http://["),
    ("sort", "random"),
    ("sort", "distance"),  # without near
    ("purpose", "gift"),
    ("actor", "ftp://x.example/a"),
    ("limit", "0"),
    ("limit", "1e3"),
    ("cursor", "nope"),
    ("cursor", "x" * 201),
]


@pytest.mark.parametrize(("name", "value"), BAD_VALUES)
async def test_api__bad_values_are_400s_naming_the_parameter(
    client: httpx.AsyncClient, name: str, value: str
) -> None:
    response = await client.get(URL, params={name: value})
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["field"] == name and body["detail"].startswith(f"{name}: "), body


async def test_api__inconsistent_combinations_are_400s(client: httpx.AsyncClient, filled: None) -> None:
    cases = [
        ({"from": "2025-10-20", "to": "2025-10-19"}, "to"),
        ({"from": "2025-10-20T10:00", "to": "2025-10-20T10:00"}, "to"),
        ({"near": "50.6,3.1", "radius": "0"}, "radius"),
        ({"near": "50.6,3.1", "radius": "201"}, "radius"),
    ]
    date_cursor = (await client.get(URL, params={"limit": "1"})).json()["next_cursor"]
    cases.append(({"sort": "start", "cursor": date_cursor}, "cursor"))
    for params, field in cases:
        response = await client.get(URL, params=params)
        assert response.status_code == 400, (params, response.text)
        assert response.json()["field"] == field, params


ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=300)
PLAUSIBLE = st.sampled_from(
    [
        "",
        " ",
        "offer",
        "repair,event",
        "59350",
        "2A004",
        "75104",
        "200093201",
        "59",
        "32",
        "50.6292,3.0886",
        "-90,-180",
        "90,180",
        "10",
        "0.5",
        "200",
        "2025-10-14",
        "2025-10-14T14:00",
        "2025-10-14T14:00:00+02:00",
        "velo-fives.example",
        "date",
        "distance",
        "start",
        "request",
        "https://velo-fives.example/actors/coop",
        "1",
        "100",
        "WyJkYXRlIiwiMjAyNS0xMC0wNVQxMDowMDowMCswMDowMCIsMV0",
        '"; DROP TABLE catalogue_item; --',
        "NEAR(velo",
        "*",
    ]
)
VALUES = st.one_of(PLAUSIBLE, ANY_TEXT)


def _check(response: httpx.Response, sent: set[str]) -> None:
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        body = response.json()
        assert body["field"] in sent and body["detail"].startswith(f"{body['field']}: "), body


@hypothesis_settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=st.sampled_from(PARAMETERS), value=VALUES)
async def test_api__fuzzed_parameter_is_a_page_or_a_400(
    client: httpx.AsyncClient, filled: None, name: str, value: str
) -> None:
    _check(await client.get(URL, params={name: value}), {name})


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(params=st.dictionaries(st.sampled_from(PARAMETERS), VALUES, min_size=2, max_size=6))
async def test_api__fuzzed_combinations_are_a_page_or_a_400(
    client: httpx.AsyncClient, filled: None, params: dict[str, str]
) -> None:
    _check(await client.get(URL, params=params), set(params))
