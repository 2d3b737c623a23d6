"""``/catalogue.ics`` and ``/catalogue.atom`` on a running node (SQLite and PostgreSQL).

The catalogue is filled the way the inbox fills it (``store_object`` with the territory), hostile text
included; the feeds are read back with ``icalendar`` and ``feedparser``. Bad parameters answer 400
naming the parameter; fuzzed parameters answer a feed or a 400, never a 500.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import feedparser
import httpx
import icalendar
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from fedicoop.db import open_database
from fedicoop.settings import Settings
from fedicoop.territory import Territory
from tests.conftest import TEST_BASE_URL
from tests.fedicoop.test_search import ARRAS, FIVES, FIVES_POINT, event, exact, note, put, townhall
from tests.fedicoop.test_search_api import PARAMETERS

pytestmark = pytest.mark.anyio

MEL = "200093201"
HOSTILE_NAME = "Fête ]]> du vélo;\nEND:VEVENT, <b>gras</b> \x07fin"
HOSTILE_CLEAN = "Fête ]]> du vélo;\nEND:VEVENT, <b>gras</b> fin"


def _iri(host: str, path: str) -> str:
    return f"https://{host}/{path}"


@pytest.fixture
async def filled(settings: Settings, territory: Territory) -> None:
    """Events in Lille (one past, one hostile), one in Arras, and two offers in Lille."""
    lille = exact(FIVES_POINT, "Atelier de Fives")
    arras = exact(townhall(territory, "62041"), "Hôtel de ville d'Arras")
    async with open_database(settings):
        await put(
            event("e1", "Atelier réparation", starts="2025-10-18T14:00:00+02:00", place=lille), territory
        )
        await put(
            event("e2", "Bourse aux vélos", starts="2025-10-20T09:00:00+02:00", host=ARRAS, place=arras),
            territory,
        )
        await put(event("e3", "Fête passée", starts="2025-10-01T14:00:00+02:00", place=lille), territory)
        hostile = event(
            "e4",
            "x",
            starts="2025-10-19T10:00:00+02:00",
            ends="2025-10-19T12:00:00+02:00",
            place=lille,
        )
        hostile["name"] = HOSTILE_NAME
        hostile["content"] = (
            '<p>Bonjour<script>alert(1)</script><iframe src="https://x.example"></iframe></p>'
        )
        await put(hostile, territory)
        await put(note("o1", "Perceuse", place=lille, published="2025-10-02T10:00:00Z"), territory)
        await put(note("o2", "Remorque", place=lille, published="2025-10-03T10:00:00Z"), territory)


def _calendar(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(response.content)


def _uids(parsed: Any) -> list[str]:
    return [str(component["UID"]) for component in parsed.walk("VEVENT")]


async def test_ical__events_of_an_epci_from_today(client: httpx.AsyncClient, filled: None) -> None:
    parsed = _calendar(await client.get("/catalogue.ics", params={"kind": "event", "epci": MEL}))
    assert _uids(parsed) == [_iri(FIVES, "events/e1"), _iri(FIVES, "events/e4")]  # soonest first, not e3
    assert "Métropole Européenne de Lille" in str(parsed["NAME"])
    first = parsed.walk("VEVENT")[0]
    assert str(first["SUMMARY"]) == "Atelier réparation"
    assert str(first["LOCATION"]) == "Atelier de Fives"
    assert (first["GEO"].latitude, first["GEO"].longitude) == FIVES_POINT
    assert str(first["URL"]) == _iri(FIVES, "events/e1")
    assert first.decoded("DTSTART").isoformat() == "2025-10-18T12:00:00+00:00"


async def test_ical__hostile_event_stays_text(client: httpx.AsyncClient, filled: None) -> None:
    response = await client.get("/catalogue.ics", params={"epci": MEL})  # events by default
    parsed = _calendar(response)
    hostile = next(item for item in parsed.walk("VEVENT") if str(item["UID"]).endswith("/e4"))
    assert str(hostile["SUMMARY"]) == HOSTILE_CLEAN
    assert str(hostile["DESCRIPTION"]) == "x\n\nBonjour"  # summary, then content's text: no script
    assert hostile.decoded("DTEND").isoformat() == "2025-10-19T10:00:00+00:00"
    assert b"alert" not in response.content and b"iframe" not in response.content
    assert len(parsed.walk("VEVENT")) == 2


async def test_ical__dates_and_other_kinds(client: httpx.AsyncClient, filled: None) -> None:
    since = _calendar(await client.get("/catalogue.ics", params={"from": "2025-09-01", "node": FIVES}))
    assert _uids(since) == [_iri(FIVES, f"events/{key}") for key in ("e3", "e1", "e4")]
    window = _calendar(await client.get("/catalogue.ics", params={"from": "2025-10-20", "to": "2025-10-20"}))
    assert _uids(window) == [_iri(ARRAS, "events/e2")]
    offers = _calendar(await client.get("/catalogue.ics", params={"kind": "offer"}))
    assert _uids(offers) == []  # offers have no start: nothing to put in a calendar


async def test_atom__listings_newest_first_with_next_link(client: httpx.AsyncClient, filled: None) -> None:
    response = await client.get("/catalogue.atom", params={"kind": "offer", "limit": "1"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert [entry.id for entry in parsed.entries] == ["https://partage-lille.example/listings/o2"]
    assert parsed.entries[0].title == "Remorque"
    assert parsed.entries[0].link == "https://partage-lille.example/listings/o2"
    links = {link["rel"]: link["href"] for link in parsed.feed.links}
    assert links["alternate"] == f"{TEST_BASE_URL}/catalogue?kind=offer"
    assert links["self"] == f"{TEST_BASE_URL}/catalogue.atom?kind=offer&limit=1"
    following = await client.get(links["next"].removeprefix(TEST_BASE_URL))
    second = feedparser.parse(following.content)
    assert [entry.id for entry in second.entries] == ["https://partage-lille.example/listings/o1"]
    assert "next" not in {link["rel"] for link in second.feed.links}


async def test_atom__hostile_content_sanitised(client: httpx.AsyncClient, filled: None) -> None:
    response = await client.get("/catalogue.atom", params={"kind": "event", "q": "fête vélo"})
    ET.fromstring(response.content)  # noqa: S314 - our own output
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo
    [entry] = parsed.entries
    assert entry.title == HOSTILE_CLEAN
    assert entry.content[0].value == "<p>Bonjour</p>"
    assert b"script" not in response.content and b"iframe" not in response.content
    assert "« fête vélo »" in parsed.feed.title


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/catalogue.ics", {"colour": "red"}, "colour"),
        ("/catalogue.atom", {"kind": "offer", "utm_source": "x"}, "utm_source"),
        ("/catalogue.ics", {"kind": "concert"}, "kind"),
        ("/catalogue.atom", {"radius": "5"}, "radius"),
        ("/catalogue.ics", {"near": "99999"}, "near"),
        ("/catalogue.atom", {"limit": "0"}, "limit"),
        ("/catalogue.ics", {"from": "2025-13-01"}, "from"),
        ("/catalogue.atom", {"cursor": "nope"}, "cursor"),
        ("/catalogue.atom", {"q": "x\x00"}, "q"),
        ("/catalogue.ics", {"q": " ".join(f"mot{number}" for number in range(20))}, "q"),
    ],
)
async def test_feeds__bad_parameter_is_a_400_naming_it(
    client: httpx.AsyncClient, path: str, params: dict[str, str], field: str
) -> None:
    response = await client.get(path, params=params, headers={"Accept": "application/activity+json"})
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == "bad_request" and body["detail"].startswith(f"{field}: "), body
    html = await client.get(path, params=params, headers={"Accept": "text/html"})
    assert html.status_code == 400 and field in html.text


VALUES = st.one_of(
    st.sampled_from(
        ["", "event", "offer,repair", "59350", MEL, "59", "32", "50.6292,3.0886", "10", "2025-10-14"]
    ),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=120),
)


@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(["/catalogue.ics", "/catalogue.atom"]),
    params=st.dictionaries(st.sampled_from([*PARAMETERS, "other"]), VALUES, max_size=4),
)
async def test_feeds__fuzzed_parameters_are_a_feed_or_a_400(
    client: httpx.AsyncClient, filled: None, path: str, params: dict[str, str]
) -> None:
    response = await client.get(path, params=params, headers={"Accept": "application/activity+json"})
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert response.json()["detail"].split(":", 1)[0] in {*params, "other"}
    elif path.endswith(".ics"):
        icalendar.Calendar.from_ical(response.content)
    else:
        assert not feedparser.parse(response.content).bozo
