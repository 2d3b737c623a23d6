"""The portal pages on SQLite and PostgreSQL: home, results with facets and pages, item, node and actor.

The catalogue holds what three remote nodes published, stored as the inbox stores it (``store_object``
with the Hauts-de-France territory, slots with ``store_slots``) and, for two of their authors, the actor
documents the node fetched. Every page is checked with the HTML checker of ``test_portal_html``; bad
parameters answer 400 with the message on the page, unknown things 404, never 500.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from fedicoop.app import create_app
from fedicoop.db import open_database
from fedicoop.models.remote import RemoteActor
from fedicoop.services.catalogue import relist_author
from fedicoop.settings import NodeRole, Settings
from fedicoop.territory import Territory
from tests.conftest import SHARED_CACHE, TEST_BASE_URL, Clock
from tests.fedicoop.test_search import (
    FIVES_POINT,
    NOW,
    actor_of,
    blurred,
    event,
    exact,
    note,
    put,
    put_slots,
)
from tests.fedicoop.web.test_portal_html import ParsedPage, assert_inert, assert_valid

pytestmark = pytest.mark.anyio

PARTAGE = "partage-lille.example"
ATELIER = "atelier-lille.example"
ARRAS = "atelier-arras.example"
HTML = {"Accept": "text/html"}


@pytest.fixture(scope="session")
def territory() -> Territory:
    """Hauts-de-France, from the territory cache every test node shares."""
    return Territory.load(["32"], cache_dir=SHARED_CACHE)


@dataclass(frozen=True)
class Seeded:
    """The catalogue row ids of what :func:`seed_catalogue` stored."""

    offer: int
    request: int
    repair: int
    event: int
    arras: int


def actor_document(host: str, name: str, summary: str, **extra: Any) -> dict[str, Any]:
    """An Organization document as a node would have fetched it."""
    iri = actor_of(host)
    return {
        "id": iri,
        "type": "Organization",
        "preferredUsername": "coop",
        "name": name,
        "summary": summary,
        "url": f"https://{host}/@coop",
        "inbox": f"{iri}/inbox",
        "discoverable": True,
        "indexable": True,
        **extra,
    }


async def remember(document: dict[str, Any]) -> None:
    """Keep ``document`` as the last fetched version of its actor."""
    await RemoteActor.update_or_create(
        iri=document["id"],
        defaults={
            "host": document["id"].split("/")[2],
            "type": document["type"],
            "username": document.get("preferredUsername"),
            "name": document.get("name", ""),
            "inbox": document["inbox"],
            "discoverable": document.get("discoverable") is True,
            "document": document,
            "fetched_at": NOW,
        },
    )


async def seed_catalogue(settings: Settings, territory: Territory) -> Seeded:
    """Two listings of a Lille cooperative, a workshop's repair offer (with free slots) and event, and an
    offer from Arras whose author the node never fetched."""
    async with open_database(settings):
        await remember(actor_document(PARTAGE, "Partage Lille", "<p>Coopérative d'échange à Lille.</p>"))
        await remember(
            actor_document(
                ATELIER,
                "Atelier vélo de Fives",
                "<p>Atelier coopératif de réparation de vélos.</p>",
                openingHoursSpecification=[
                    {
                        "type": "OpeningHoursSpecification",
                        "dayOfWeek": ["https://schema.org/Tuesday"],
                        "opens": "14:00",
                        "closes": "19:00",
                    }
                ],
            )
        )
        offer = await put(
            note(
                "perceuse",
                "Perceuse-visseuse à prêter",
                place=blurred(territory, "59350"),
                category="travaux-outillage",
                text="Deux batteries et un coffret d'embouts.",
                published="2025-10-05T10:00:00Z",
            ),
            territory,
        )
        request = await put(
            note(
                "remorque",
                "Remorque vélo pour enfant",
                purpose="request",
                place=blurred(territory, "59512"),
                category="velos-accessoires",
                published="2025-10-06T10:00:00Z",
            ),
            territory,
        )
        repair = await put(
            note(
                "reparation",
                "Réparation de vélos",
                kind="repair",
                host=ATELIER,
                category="reparation-velo",
                place=exact(FIVES_POINT, "Atelier vélo de Fives"),
                text="Révision complète, réglage des freins.",
                published="2025-10-04T10:00:00Z",
            ),
            territory,
        )
        await put_slots(
            repair,
            ("2025-10-14T14:00:00+02:00", "2025-10-14T15:00:00+02:00", 2),
            ("2025-10-15T16:00:00+02:00", "2025-10-15T17:00:00+02:00", 1),
        )
        workshop_event = await put(
            event(
                "autoreparation",
                "Atelier d'autoréparation",
                starts="2025-10-18T10:00:00+02:00",
                ends="2025-10-18T13:00:00+02:00",
                place=exact(FIVES_POINT, "Atelier vélo de Fives"),
                host=ATELIER,
            ),
            territory,
        )
        arras = await put(
            note(
                "velo-ville",
                "Vélo de ville à donner",
                host=ARRAS,
                place=blurred(territory, "62041"),
                category="velos-accessoires",
                published="2025-10-07T10:00:00Z",
            ),
            territory,
        )
    return Seeded(offer.id, request.id, repair.id, workshop_event.id, arras.id)


async def page(client: httpx.AsyncClient, url: str, status: int = 200, **params: Any) -> ParsedPage:
    """GET a page, check its status, type and HTML, and return it parsed."""
    response = await client.get(url, params=params or None, headers=HTML)
    assert response.status_code == status, (url, response.status_code, response.text[:2000])
    assert response.headers["content-type"].startswith("text/html")
    return assert_valid(response.text)


def titles(parsed: ParsedPage) -> list[str]:
    """The item links of the cards, in order (their text is taken from the page source)."""
    return [href for href in parsed.hrefs() if "/catalogue/items/" in href]


def item_url(item_id: int) -> str:
    return f"{TEST_BASE_URL}/catalogue/items/{item_id}"


def actor_url(host: str) -> str:
    return f"{TEST_BASE_URL}/catalogue/actors/{quote(actor_of(host), safe='')}"


# --- home ----------------------------------------------------------------------------------------------


async def test_home__form_latest_listings_upcoming_events_and_nodes(
    client: httpx.AsyncClient, settings: Settings, territory: Territory
) -> None:
    seeded = await seed_catalogue(settings, territory)
    home = await page(client, "/portal")
    assert "Perceuse-visseuse à prêter" in home.text and "Vélo de ville à donner" in home.text
    assert "Atelier d'autoréparation" in home.text and "samedi 18 octobre 2025, 10h–13h" in home.text.lower()
    links = home.hrefs()
    assert item_url(seeded.arras) in links and item_url(seeded.event) in links
    assert f"{TEST_BASE_URL}/catalogue/nodes/{PARTAGE}" in links
    names = {attrs.get("name") for attrs in home.all("input") + home.all("select")}
    assert {
        "q",
        "kind",
        "category",
        "commune",
        "departement",
        "near",
        "radius",
        "from",
        "to",
        "sort",
    } <= names
    (form,) = home.all("form")
    assert form["action"] == f"{TEST_BASE_URL}/catalogue" and form["method"] == "get"


async def test_home__empty_catalogue_says_so(client: httpx.AsyncClient) -> None:
    home = await page(client, "/portal")
    assert "Aucune annonce pour le moment." in home.text and "ne suit encore aucun nœud" in home.text


async def test_home__root_is_the_portal_only_on_a_portal(
    client: httpx.AsyncClient, settings: Settings, clock: Clock
) -> None:
    node_home = await page(client, "/")
    assert not node_home.all("form")
    app = create_app(settings.model_copy(update={"role": NodeRole.PORTAL}), clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=TEST_BASE_URL) as portal:
            root = await page(portal, "/")
    assert root.all("form") and "Dernières annonces" in root.text


# --- results -------------------------------------------------------------------------------------------


async def test_results__kind_filter_facets_and_removable_filters(
    client: httpx.AsyncClient, settings: Settings, territory: Territory
) -> None:
    seeded = await seed_catalogue(settings, territory)
    everything = await page(client, "/catalogue")
    assert "5 résultats" in everything.text
    offers = await page(client, "/catalogue", kind="offer")
    assert titles(offers) == [item_url(seeded.arras), item_url(seeded.offer)]
    assert "2 résultats" in offers.text and "Type : Offres" in offers.text
    facet_text = everything.text.split("Affiner", 1)[1]
    assert "Nord (59) (4)" in facet_text and "Pas-de-Calais (62) (1)" in facet_text
    assert "Vélos & accessoires (2)" in facet_text and "Événements (1)" in facet_text
    (arras_facet,) = [href for href in everything.hrefs() if "departement=62" in href]
    assert titles(await page(client, arras_facet)) == [item_url(seeded.arras)]
    both = await page(client, "/catalogue", kind="offer", departement="59")
    assert titles(both) == [item_url(seeded.offer)]
    assert "Département : Nord (59)" in both.text
    without_kind = f"{TEST_BASE_URL}/catalogue?departement=59"
    assert without_kind in both.hrefs() and f"{TEST_BASE_URL}/catalogue?kind=offer" in both.hrefs()
    widened = await page(client, without_kind)
    assert item_url(seeded.request) in titles(widened) and item_url(seeded.arras) not in titles(widened)


async def test_results__words_commune_names_and_dates(
    client: httpx.AsyncClient, settings: Settings, territory: Territory
) -> None:
    seeded = await seed_catalogue(settings, territory)
    assert titles(await page(client, "/catalogue", q="PERCEUSES")) == [item_url(seeded.offer)]
    by_name = await page(client, "/catalogue", commune="arras")
    assert titles(by_name) == [item_url(seeded.arras)]
    assert "Commune : Arras (62041)" in by_name.text
    assert any(attrs.get("value") == "Arras (62041)" for attrs in by_name.all("input"))
    assert titles(await page(client, "/catalogue", commune="Arras (62041)")) == [item_url(seeded.arras)]
    slot_day = await page(client, "/catalogue", kind="repair", **{"from": "2025-10-14", "to": "2025-10-14"})
    assert titles(slot_day) == [item_url(seeded.repair)]
    assert titles(await page(client, "/catalogue", kind="repair", **{"from": "2025-10-16"})) == []
    events = await page(client, "/catalogue", kind="event", **{"from": "2025-10-18", "sort": "start"})
    assert titles(events) == [item_url(seeded.event)]


async def test_results__near_a_point_shows_distances_nearest_first(
    client: httpx.AsyncClient, settings: Settings, territory: Territory
) -> None:
    seeded = await seed_catalogue(settings, territory)
    near = await page(client, "/catalogue", near="50.6292,3.0886", radius="3")
    assert set(titles(near)[:2]) == {item_url(seeded.repair), item_url(seeded.event)}
    assert "à 0 m" in near.text and "Autour de : 50.6292,3.0886" in near.text
    assert item_url(seeded.arras) not in titles(near)
    arras = await page(client, "/catalogue", near="Arras", radius="10")
    assert titles(arras) == [item_url(seeded.arras)] and " km" in arras.text
    assert "Autour de : Arras (62041)" in arras.text and "Rayon : 10 km" in arras.text
    assert f"{TEST_BASE_URL}/catalogue" in arras.hrefs()  # removing near removes the radius too


async def test_results__pages_follow_the_cursor(
    client: httpx.AsyncClient, settings: Settings, territory: Territory
) -> None:
    await seed_catalogue(settings, territory)
    seen: list[str] = []
    current = await page(client, "/catalogue", limit="2")
    while True:
        seen += titles(current)
        following = [attrs["href"] for attrs in current.all("a") if attrs.get("rel") == "next"]
        if not following:
            break
        assert following[0] is not None and "limit=2" in following[0]
        current = await page(client, following[0])
        assert "Première page" in current.text
    assert len(seen) == 5 and len(set(seen)) == 5


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"kind": "<script>"}, "kind: expected one of offer, request, repair, event"),
        ({"radius": "5"}, "radius: a radius needs near"),
        ({"near": "91,0"}, "near: expected a latitude from -90 to 90"),
        ({"from": "2025-13-01"}, "from: expected a date"),
        ({"cursor": "garbage"}, "cursor: 'garbage' is not a cursor of this catalogue"),
        ({"limit": "0"}, "limit: expected a whole number from 1 to 100"),
        ({"sort": "distance"}, "sort: sort=distance needs near"),
        ({"commune": "Xyzzy"}, "commune: aucune commune « Xyzzy » dans Hauts-de-France"),
        ({"commune": "Saint-André"}, "peut désigner Saint-André-lez-Lille (59527)"),
        ({"near": "Nulle-Part-Sur-Mer"}, "near: aucune commune"),
        ({"q": "x" * 201}, "q: at most 200 characters, got 201"),
        ({"from": "2025-10-20", "to": "2025-10-10"}, "to: '2025-10-10' does not come after from"),
    ],
)
async def test_results__bad_parameters_show_the_form_again_with_a_400(
    client: httpx.AsyncClient, params: dict[str, str], message: str
) -> None:
    refused = await page(client, "/catalogue", status=400, **params)
    assert message in refused.text
    assert refused.all("form") and "La recherche n'a pas pu être faite" in refused.text
    assert_inert(refused.source)


# --- item, node, actor -------------------------------------------------------------------------------


async def test_item__shows_what_it_says_where_when_slots_origin_and_author(
    client: httpx.AsyncClient, settings: Settings, territory: Territory
) -> None:
    seeded = await seed_catalogue(settings, territory)
    repair = await page(client, f"/catalogue/items/{seeded.repair}")
    assert repair.all("h1") and "Réparation de vélos" in repair.text
    assert "Révision complète, réglage des freins." in repair.text
    assert "Commune Lille (59350)" in repair.text and "Département Nord (59)" in repair.text
    assert "Intercommunalité Métropole Européenne de Lille" in repair.text
    assert "mardi 14 octobre 2025, 14h–15h · 2 places libres" in repair.text.lower()
    assert "1 place libre" in repair.text
    links = repair.hrefs()
    assert (
        f"https://{ATELIER}/listings/reparation" in links
        and f"https://{ATELIER}/listings/reparation/slots" in links
    )
    assert actor_url(ATELIER) in links and f"{TEST_BASE_URL}/catalogue/nodes/{ATELIER}" in links
    assert "Atelier vélo de Fives" in repair.text
    happening = await page(client, f"/catalogue/items/{seeded.event}")
    assert "samedi 18 octobre 2025, 10h–13h" in happening.text.lower()
    offer = await page(client, f"/catalogue/items/{seeded.offer}")
    assert "Travaux & outillage" in offer.text and "position approximative" in offer.text


@pytest.mark.parametrize("path", ["/catalogue/items/999999", "/catalogue/items/99999999999999999999999"])
async def test_item__unknown_is_a_404(client: httpx.AsyncClient, path: str) -> None:
    missing = await page(client, path, status=404)
    assert "Page introuvable" in missing.text


async def test_item__not_a_number_is_a_404(client: httpx.AsyncClient) -> None:
    await page(client, "/catalogue/items/abc", status=404)


async def test_node__what_a_host_publishes_with_its_actors(
    client: httpx.AsyncClient, settings: Settings, territory: Territory
) -> None:
    seeded = await seed_catalogue(settings, territory)
    partage = await page(client, f"/catalogue/nodes/{PARTAGE}")
    assert sorted(titles(partage)) == sorted([item_url(seeded.offer), item_url(seeded.request)])
    assert "Nœud partage-lille.example" in partage.text and "2 annonces et événements" in partage.text
    assert actor_url(PARTAGE) in partage.hrefs() and f"https://{PARTAGE}/" in partage.hrefs()
    assert "Partage Lille" in partage.text
    arras = await page(client, f"/catalogue/nodes/{ARRAS.upper()}")
    assert titles(arras) == [item_url(seeded.arras)] and "coop" in arras.text


async def test_node__unknown_404_and_malformed_400(client: httpx.AsyncClient) -> None:
    await page(client, "/catalogue/nodes/nowhere.example", status=404)
    refused = await page(client, "/catalogue/nodes/%3Cscript%3E", status=400)
    assert "node: expected the host of a node" in refused.text


async def test_actor__a_workshop_shows_its_next_free_slots(
    client: httpx.AsyncClient, settings: Settings, territory: Territory
) -> None:
    seeded = await seed_catalogue(settings, territory)
    workshop = await page(client, actor_url(ATELIER))
    assert "Atelier vélo de Fives" in workshop.text and "Atelier de réparation" in workshop.text
    assert "@coop@atelier-lille.example" in workshop.text and "Du mardi" not in workshop.text
    assert "Mardi : 14h–19h" in workshop.text
    assert "Prochains créneaux libres" in workshop.text
    assert "mercredi 15 octobre 2025, 16h–17h · 1 place libre" in workshop.text.lower()
    assert item_url(seeded.repair) in workshop.hrefs() and item_url(seeded.event) in workshop.hrefs()
    cooperative = await page(client, actor_url(PARTAGE))
    assert "Coopérative" in cooperative.text and "Prochains créneaux" not in cooperative.text
    assert f"https://{PARTAGE}/@coop" in cooperative.hrefs()
    unfetched = await page(client, actor_url(ARRAS))
    assert item_url(seeded.arras) in unfetched.hrefs()
    raw_path = await page(client, f"/catalogue/actors/{actor_of(PARTAGE)}")
    assert "Partage Lille" in raw_path.text


async def test_actor__unknown_404_and_malformed_400(client: httpx.AsyncClient) -> None:
    await page(client, f"/catalogue/actors/{quote('https://nowhere.example/actors/x', safe='')}", status=404)
    refused = await page(client, "/catalogue/actors/javascript:alert(1)", status=400)
    assert "actor: expected the http(s) id of an actor" in refused.text


async def test_unlisted_author__vanishes_from_every_page(
    client: httpx.AsyncClient, settings: Settings, territory: Territory
) -> None:
    seeded = await seed_catalogue(settings, territory)
    async with open_database(settings):
        await remember(actor_document(PARTAGE, "Partage Lille", "", discoverable=False))
        assert await relist_author(actor_of(PARTAGE)) == 2
    results = await page(client, "/catalogue")
    assert item_url(seeded.offer) not in titles(results) and "3 résultats" in results.text
    await page(client, f"/catalogue/items/{seeded.offer}", status=404)
    await page(client, actor_url(PARTAGE), status=404)
    await page(client, f"/catalogue/nodes/{PARTAGE}", status=200)  # the node is known: it lists nothing
