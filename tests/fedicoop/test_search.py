"""The catalogue's search engine (fedicoop.services.search) on SQLite FTS5 and PostgreSQL full text.

Objects are stored the way the inbox stores them (``store_object`` with the Hauts-de-France territory),
then searched: French text (accents, plurals, case), hostile text, territory (a blurred place found in
every commune it overlaps, codes computed and flags), radius with distance order, date ranges for events
and repair slots, origin node, facets, unlisted authors, and cursors over several pages while items
arrive. The helpers that build objects are imported by ``test_search_api.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate

from fedicoop.db import migrate_database, open_database, tortoise_config
from fedicoop.errors import BadRequestError
from fedicoop.models.catalogue import CatalogueCommune, CatalogueItem, CatalogueSlot
from fedicoop.models.remote import RemoteActor
from fedicoop.models.states import CatalogueKind
from fedicoop.services.catalogue import relist_author, remove_object, store_object, store_slots
from fedicoop.services.search import (
    QUERY_WORDS_MAX,
    SearchPage,
    SearchQuery,
    SortOrder,
    fold_word,
    query_words,
    search,
    search_text,
    words,
)
from fedicoop.settings import Settings
from fedicoop.territory import Territory, distance_m

pytestmark = pytest.mark.anyio

NOW = datetime(2025, 10, 13, 6, 0, tzinfo=UTC)
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
PARTAGE = "partage-lille.example"
FIVES = "velo-fives.example"
ARRAS = "atelier-arras.example"
FIVES_POINT = (50.6292, 3.0886)  # the Fives workshop, in Lille
SEA = (51.3, 2.0)


@pytest.fixture(scope="session")
def territory(tmp_path_factory: pytest.TempPathFactory) -> Territory:
    """Hauts-de-France, loaded once per test session (cached on disk for the other search modules)."""
    return Territory.load(["32"], cache_dir=Path(tmp_path_factory.getbasetemp()) / "search-territory")


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[None]:
    """The test's database, open."""
    async with open_database(settings):
        yield


def actor_of(host: str) -> str:
    """The actor that publishes everything of ``host`` in these tests."""
    return f"https://{host}/actors/coop"


def exact(point: tuple[float, float], name: str = "Atelier", **codes: str) -> dict[str, Any]:
    """An exact Place (an organisation's address) at ``point``, with the codes a sender claims."""
    return {"type": "Place", "name": name, "latitude": point[0], "longitude": point[1], **codes}


def blurred(territory: Territory, code: str) -> dict[str, Any]:
    """A Place blurred to commune ``code`` by the recipe of domain.md §6.4."""
    commune = territory.commune(code)
    assert commune is not None
    found = territory.blur(commune)
    assert found is not None
    latitude, longitude, radius = found
    return {
        "type": "Place",
        "name": commune.name,
        "latitude": latitude,
        "longitude": longitude,
        "radius": radius,
        "units": "m",
        "address": {"type": "PostalAddress", "addressLocality": commune.name, "addressCountry": "FR"},
        "communeCode": commune.code,
        "departementCode": commune.departement,
        "regionCode": commune.region,
    }


def townhall(territory: Territory, code: str) -> tuple[float, float]:
    """The town-hall point of commune ``code``."""
    commune = territory.commune(code)
    assert commune is not None and commune.townhall is not None
    return commune.townhall


def note(
    key: str,
    title: str,
    *,
    place: dict[str, Any] | list[dict[str, Any]] | None = None,
    host: str = PARTAGE,
    purpose: str = "offer",
    kind: str = "object",
    category: str = "maison-cuisine",
    text: str = "",
    published: str = "2025-10-01T10:00:00Z",
    updated: str | None = None,
    begins: str | None = None,
    ends: str | None = None,
) -> dict[str, Any]:
    """A FEP-0837 offer, request or repair offer (wire-format §5, §6.1) of ``actor_of(host)``."""
    actor, iri = actor_of(host), f"https://{host}/listings/{key}"
    intent: dict[str, Any] = {
        "type": "Intent",
        "id": f"{iri}#primary",
        "action": "transferCustody" if kind == "object" else "deliverService",
        "resourceConformsTo": f"https://w3id.org/fedicoop/ns/categories/{category}",
        "resourceQuantity": {"hasUnit": "one", "hasNumericalValue": "1"},
    }
    if begins:
        intent["hasBeginning"] = begins
    if ends:
        intent["hasEnd"] = ends
    document: dict[str, Any] = {
        "id": iri,
        "type": "Note",
        "kind": kind,
        "purpose": purpose,
        "attributedTo": actor,
        "title": title,
        "content": f"<p><strong>{title}</strong></p><p>{text}</p>",
        "mediaType": "text/html",
        "url": iri,
        "published": published,
        "to": [PUBLIC],
        "cc": [f"{actor}/followers"],
        "publishes": intent,
        "unitBased": False,
    }
    if place is not None:
        document["location"] = place
    if updated:
        document["updated"] = updated
    if kind == "repair":
        document["slots"] = f"{iri}/slots"
    return document


def event(
    key: str,
    name: str,
    *,
    starts: str,
    ends: str | None = None,
    place: dict[str, Any] | None = None,
    host: str = FIVES,
    published: str = "2025-10-01T10:00:00Z",
) -> dict[str, Any]:
    """A Mobilizon-compatible Event (wire-format §7) of ``actor_of(host)``."""
    actor, iri = actor_of(host), f"https://{host}/events/{key}"
    document: dict[str, Any] = {
        "id": iri,
        "type": "Event",
        "name": name,
        "summary": name,
        "content": f"<p>{name}</p>",
        "mediaType": "text/html",
        "url": iri,
        "attributedTo": actor,
        "published": published,
        "startTime": starts,
        "timezone": "Europe/Paris",
        "category": "WORKSHOPS_SKILL_SHARING",
        "to": [PUBLIC],
        "cc": [f"{actor}/followers"],
    }
    if ends:
        document["endTime"] = ends
    if place is not None:
        document["location"] = place
    return document


async def put(document: dict[str, Any], territory: Territory | None) -> CatalogueItem:
    """Store ``document`` as received from its author."""
    item = await store_object(document, actor_iri=document["attributedTo"], now=NOW, territory=territory)
    assert item is not None
    return item


async def put_slots(item: CatalogueItem, *slots: tuple[str, str, int | None]) -> None:
    """Store the slot collection of repair offer ``item``: (start, end, places left or None) each."""
    collection = f"{item.iri}/slots"
    entries = []
    for start, end, left in slots:
        utc = datetime.fromisoformat(start).astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
        entry: dict[str, Any] = {
            "type": "Intent",
            "id": f"{collection}#{utc}",
            "action": "deliverService",
            "hasBeginning": start,
            "hasEnd": end,
            "resourceQuantity": {"hasUnit": "one", "hasNumericalValue": "1"},
        }
        if left is not None:
            entry["availableQuantity"] = {"hasUnit": "one", "hasNumericalValue": str(left)}
        entries.append(entry)
    document = {
        "id": collection,
        "type": "OrderedCollection",
        "totalItems": len(entries),
        "orderedItems": entries,
    }
    await store_slots(item, document, NOW)


async def find(**filters: Any) -> SearchPage:
    """Search with ``filters`` (SearchQuery fields), at NOW."""
    return await search(SearchQuery(**filters), now=NOW)


async def titles(**filters: Any) -> list[str]:
    """The names of the first page (100 items) of a search, in order."""
    return [item.name for item in (await find(limit=100, **filters)).items]


async def every_title(**filters: Any) -> list[str]:
    """The names of every page of a search, following the cursors."""
    seen: list[str] = []
    page = await find(**filters)
    seen += [item.name for item in page.items]
    while page.next_cursor is not None:
        page = await find(**filters, cursor=page.next_cursor)
        seen += [item.name for item in page.items]
    return seen


# Text folding: pure functions.


@pytest.mark.parametrize(
    ("word", "folded"),
    [
        ("velos", "velo"),
        ("velo", "velo"),
        ("chevaux", "cheval"),
        ("bateaux", "bateau"),
        ("jeux", "jeu"),
        ("bijoux", "bijou"),
        ("travaux", "travail"),
        ("outils", "outil"),
        ("enfants", "enfant"),
        ("stress", "stress"),
        ("bus", "bus"),
        ("prix", "prix"),
        ("deux", "deux"),
        ("mois", "mois"),  # "moi" is a stop word: the plural-looking word stays whole
        ("18v", "18v"),
    ],
)
def test_fold_word__french_plurals(word: str, folded: str) -> None:
    assert fold_word(word) == folded
    assert fold_word(folded) == folded  # folding twice changes nothing


def test_words__accents_case_ligatures_and_punctuation() -> None:
    assert words("ÉTÉ à l'Œil — VÉLO-cargo_2!") == ["ete", "a", "l", "oeil", "velo", "cargo", "2"]
    assert search_text("Les Vélos", "<b>CHEVAUX</b>") == "les velo b cheval b"
    assert words('"; DROP TABLE x; --') == ["drop", "table", "x"]


def test_query_words__stop_words_dropped_folded_once() -> None:
    assert query_words("Le vélo, LES VÉLOS et des chevaux") == ["velo", "cheval"]
    assert query_words("de la et à") == []
    assert query_words("*") == [] and query_words('"') == []
    with pytest.raises(BadRequestError, match="at most 16") as caught:
        query_words(" ".join(f"mot{number}" for number in range(QUERY_WORDS_MAX + 1)))
    assert caught.value.field == "q"


# Text on both engines.


async def test_text__accents_plurals_case(db: None, territory: Territory) -> None:
    place = exact(FIVES_POINT)
    for key, title, text in (
        ("t1", "Deux vélos d'enfant", "En bon état"),
        ("t2", "Vélo électrique", ""),
        ("t3", "Réparation de VÉLO", ""),
        ("t4", "Chevaux de bois", "Manège"),
        ("t5", "Cheval à bascule", ""),
        ("t6", "Perceuse-visseuse", "18 V"),
    ):
        await put(note(key, title, text=text, place=place), territory)
    bikes = ["Deux vélos d'enfant", "Vélo électrique", "Réparation de VÉLO"]
    assert sorted(await titles(text="velo")) == sorted(bikes)
    assert sorted(await titles(text="VÉLOS")) == sorted(bikes)
    assert await titles(text="vélo ÉLECTRIQUES") == ["Vélo électrique"]
    assert await titles(text="enfants velo") == ["Deux vélos d'enfant"]
    assert sorted(await titles(text="chevaux")) == ["Cheval à bascule", "Chevaux de bois"]
    assert sorted(await titles(text="Cheval")) == ["Cheval à bascule", "Chevaux de bois"]
    assert await titles(text="visseuses") == ["Perceuse-visseuse"]
    assert await titles(text="manege bois") == ["Chevaux de bois"]
    assert len(await titles(text="Lille")) == 6  # the commune computed from the point
    assert await titles(text="xylophone") == []
    assert await titles(text="de la") == []  # stop words only: nothing to match
    assert (await find(text="velo", limit=1)).total == 3


async def test_text__place_and_commune_names_are_searchable(db: None, territory: Territory) -> None:
    await put(note("p1", "Remorque", place=blurred(territory, "59512")), territory)
    await put(note("p2", "Perceuse", place=exact(FIVES_POINT, "Atelier vélo de Fives")), territory)
    assert await titles(text="roubaix") == ["Remorque"]
    assert await titles(text="fives") == ["Perceuse"]
    assert await titles(text="perceuse lille") == ["Perceuse"]  # the commune computed from the point


HOSTILE_TEXTS = [
    '"; DROP TABLE catalogue_item; --',
    "*",
    "velo*",
    "NEAR(",
    "NEAR(velo cheval, 2)",
    '"',
    "'",
    "velo OR cheval",
    "NOT velo",
    "-velo",
    "text:velo",
    "^velo",
    "velo AND",
    "(",
    "\\",
    "%",
    "_",
    "x" * 10_000,
    "vélo " * 2_000,
    "🚲 vélo",
    "ǅ ﬁ ª ² ⅷ",
]


@pytest.mark.parametrize("text", HOSTILE_TEXTS, ids=range(len(HOSTILE_TEXTS)))
async def test_text__hostile_input_is_only_words(db: None, territory: Territory, text: str) -> None:
    await put(note("h1", "Vélo de ville", place=exact(FIVES_POINT)), territory)
    await put(note("h2", "Cheval", place=exact(FIVES_POINT)), territory)
    bags = {"Vélo de ville": {"velo", "ville", "lille"}, "Cheval": {"cheval", "lille"}}
    wanted = set(query_words(text))
    page = await find(text=text)
    assert {item.name for item in page.items} == {
        name for name, bag in bags.items() if wanted and wanted <= bag
    }
    assert await CatalogueItem.all().count() == 2


async def test_text__too_many_words_is_a_400(db: None) -> None:
    with pytest.raises(BadRequestError, match="q: at most 16 distinct words") as caught:
        await find(text=" ".join(f"mot{number}" for number in range(40)))
    assert caught.value.field == "q"


async def test_text__index_follows_updates_and_deletes(
    db: None, settings: Settings, territory: Territory
) -> None:
    item = await put(note("u1", "Vélo rouge", place=exact(FIVES_POINT)), territory)
    await put(note("u1", "Tandem bleu", place=exact(FIVES_POINT), updated="2025-10-05T10:00:00Z"), territory)
    assert await titles(text="velo") == [] and await titles(text="tandems") == ["Tandem bleu"]
    assert await remove_object(item.iri, actor_iri=item.actor_iri) is True
    assert await titles(text="tandem") == []
    database = CatalogueItem._meta.db
    if settings.effective_database_url.startswith("sqlite"):  # the external-content index matches its table
        await database.execute_script(
            "INSERT INTO catalogue_fts(catalogue_fts, rank) VALUES ('integrity-check', 1)"
        )


# Territory.


async def test_store__codes_computed_and_wrong_claims_flagged(db: None, territory: Territory) -> None:
    wrong = exact(
        FIVES_POINT, communeCode="59000", departementCode="62", regionCode="32", epciCode="200093201"
    )
    item = await put(note("c1", "Perceuse", place=wrong), territory)
    assert (item.commune_code, item.epci_code, item.departement_code, item.region_code) == (
        "59350",
        "200093201",
        "59",
        "32",
    )
    assert item.territory_flags == [
        "communeCode 59000 does not match 59350 (Lille) computed from the coordinates",
        "departementCode 62 does not match 59 (Nord) computed from the coordinates",
    ]
    assert await titles(departement="62") == [] and await titles(commune="59350") == ["Perceuse"]
    sea = await put(note("c2", "Bouée", place=exact(SEA, communeCode="59183")), territory)
    assert (sea.commune_code, sea.departement_code) == (None, None)
    assert sea.territory_flags[0].startswith("communeCode 59183 cannot be checked")
    assert not await CatalogueCommune.filter(item_id=sea.id).exists()
    assert await titles(region="32") == ["Perceuse"] and await titles(text="bouee") == ["Bouée"]
    bare = await put(note("c3", "Sans territoire", place=exact(FIVES_POINT)), None)
    assert (bare.commune_code, bare.territory_flags) == (None, [])


async def test_territory__blurred_place_found_in_every_commune_it_overlaps(
    db: None, territory: Territory
) -> None:
    place = blurred(territory, "59512")
    await put(note("b1", "Remorque vélo", purpose="request", place=place), territory)
    await put(note("b2", "Perceuse", place=exact(FIVES_POINT)), territory)
    await put(note("b3", "Établi", place=exact(townhall(territory, "62041"))), territory)
    overlapped = {
        commune.code
        for commune in territory.communes_overlapping(place["latitude"], place["longitude"], place["radius"])
    }
    assert {"59512", "59009", "59599", "59163", "59650"} <= overlapped and "59350" not in overlapped
    stored = await CatalogueCommune.filter(item__iri=f"https://{PARTAGE}/listings/b1").values_list(
        "commune", flat=True
    )
    assert set(stored) == overlapped
    for code in sorted(overlapped):
        assert await titles(commune=code) == ["Remorque vélo"], code
    assert await titles(commune="59350") == ["Perceuse"]
    assert sorted(await titles(epci="200093201")) == ["Perceuse", "Remorque vélo"]
    assert sorted(await titles(departement="59")) == ["Perceuse", "Remorque vélo"]
    assert await titles(departement="62") == ["Établi"]
    assert sorted(await titles(region="32")) == ["Perceuse", "Remorque vélo", "Établi"]
    assert await titles(region="11") == [] and await titles(commune="75056") == []
    assert await titles(commune="59009", departement="59", text="remorques") == ["Remorque vélo"]


async def test_territory__an_update_moves_the_item(db: None, territory: Territory) -> None:
    await put(note("m1", "Perceuse", place=exact(FIVES_POINT)), territory)
    arras = exact(townhall(territory, "62041"), "Arras")
    item = await put(note("m1", "Perceuse", place=arras, updated="2025-10-05T10:00:00Z"), territory)
    assert (item.commune_code, item.departement_code) == ("62041", "62")
    assert await titles(commune="59350") == [] and await titles(commune="62041") == ["Perceuse"]
    assert await titles(near=FIVES_POINT, radius_km=20) == []
    await put(note("m1", "Perceuse", place=exact(FIVES_POINT), updated="2025-10-04T10:00:00Z"), territory)
    assert await titles(commune="62041") == ["Perceuse"]  # an older version changes nothing


async def test_territory__itinerant_workshop_covers_every_place(db: None, territory: Territory) -> None:
    places = [blurred(territory, "62041"), blurred(territory, "80021")]
    item = await put(note("i1", "Atelier itinérant", kind="repair", place=places), territory)
    assert item.commune_code == "62041"
    assert await titles(commune="80021") == ["Atelier itinérant"]
    assert await titles(commune="62041") == ["Atelier itinérant"]
    assert (await find(commune="80021")).facets.departements == {"62": 1, "80": 1}


# Radius and distance.


async def test_near__radius_and_distance_order(db: None, territory: Territory) -> None:
    points = {
        "Lille": townhall(territory, "59350"),
        "Roubaix": townhall(territory, "59512"),
        "Tourcoing": townhall(territory, "59599"),
        "Arras": townhall(territory, "62041"),
        "Amiens": townhall(territory, "80021"),
    }
    for number, (name, point) in enumerate(points.items()):
        await put(note(f"r{number}", name, place=exact(point)), territory)
    await put(note("r9", "Nulle part"), territory)
    await put(note("r10", "Antipodes", place=exact((-50.6292, -176.9114))), territory)  # asin near 1
    far = {name: distance_m(*FIVES_POINT, *point) for name, point in points.items()}
    assert (
        far["Roubaix"] < 10_000 < far["Tourcoing"] < 15_000 < 40_000 < far["Arras"] < far["Amiens"] < 200_000
    )
    page = await find(near=FIVES_POINT, radius_km=10, sort=SortOrder.DISTANCE)
    assert [item.name for item in page.items] == ["Lille", "Roubaix"]
    for item in page.items:
        assert page.distances[item.id] == pytest.approx(far[item.name], abs=1.0)
    assert await titles(near=FIVES_POINT, radius_km=15, sort=SortOrder.DISTANCE) == [
        "Lille",
        "Roubaix",
        "Tourcoing",
    ]
    assert await titles(near=FIVES_POINT, radius_km=200, sort=SortOrder.DISTANCE) == list(points)
    assert await titles(near=FIVES_POINT, radius_km=0.5) == []
    assert await titles(near=FIVES_POINT, sort=SortOrder.DISTANCE) == ["Lille", "Roubaix"]  # 10 km by default
    assert await titles(near=points["Arras"], radius_km=1, text="arras") == ["Arras"]
    by_date = await find(near=FIVES_POINT, radius_km=15)  # any order, filtered, distances given
    assert {item.name for item in by_date.items} == {"Lille", "Roubaix", "Tourcoing"}
    assert set(by_date.distances) == {item.id for item in by_date.items}


async def test_near__bad_values_are_400s(db: None) -> None:
    cases = [
        ({"radius_km": 5.0}, "radius"),
        ({"sort": SortOrder.DISTANCE}, "sort"),
        ({"near": (91.0, 3.0)}, "near"),
        ({"near": (50.0, 3.0), "radius_km": 0.0}, "radius"),
        ({"near": (50.0, 3.0), "radius_km": 201.0}, "radius"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"date_from": datetime(2025, 10, 14)}, "from"),
        ({"date_from": NOW, "date_to": NOW}, "to"),
    ]
    for filters, field in cases:
        with pytest.raises(BadRequestError) as caught:
            await find(**filters)
        assert caught.value.field == field and str(caught.value).startswith(f"{field}: "), filters


# Dates: events overlapping the range, repair offers with a free slot starting in it.


async def fill_dates(territory: Territory) -> None:
    fives, arras = exact(FIVES_POINT), exact(townhall(territory, "62041"))
    await put(
        event(
            "e1",
            "Atelier samedi",
            starts="2025-10-18T10:00:00+02:00",
            ends="2025-10-18T13:00:00+02:00",
            place=fives,
        ),
        territory,
    )
    await put(
        event(
            "e2", "Soirée", starts="2025-10-20T18:00:00+02:00", ends="2025-10-20T20:00:00+02:00", place=fives
        ),
        territory,
    )
    await put(event("e3", "Sans fin", starts="2025-10-25T09:00:00+02:00", place=fives), territory)
    await put(
        event(
            "e4", "Passé", starts="2025-10-05T10:00:00+02:00", ends="2025-10-05T12:00:00+02:00", place=fives
        ),
        territory,
    )
    r1 = await put(
        note("r1", "Réparation Fives", kind="repair", category="reparation-velo", place=fives, host=FIVES),
        territory,
    )
    r2 = await put(
        note("r2", "Réparation Arras", kind="repair", category="reparation-velo", place=arras, host=ARRAS),
        territory,
    )
    r3 = await put(
        note("r3", "Réparation complète", kind="repair", category="reparation-velo", place=fives, host=FIVES),
        territory,
    )
    await put(
        note(
            "r4",
            "Réparation sans créneau",
            kind="repair",
            category="reparation-velo",
            place=fives,
            host=FIVES,
        ),
        territory,
    )
    await put_slots(
        r1,
        ("2025-10-14T14:00:00+02:00", "2025-10-14T15:00:00+02:00", 2),
        ("2025-10-15T10:00:00+02:00", "2025-10-15T11:00:00+02:00", None),
    )
    await put_slots(
        r2,
        ("2025-10-14T09:00:00+02:00", "2025-10-14T10:00:00+02:00", 1),
        ("2025-10-20T09:00:00+02:00", "2025-10-20T10:00:00+02:00", 1),
    )
    await put_slots(
        r3,
        ("2025-10-14T16:00:00+02:00", "2025-10-14T17:00:00+02:00", 0),
        ("2025-10-30T10:00:00+01:00", "2025-10-30T11:00:00+01:00", 3),
    )
    await put(
        note(
            "o1",
            "Prêt du week-end",
            place=fives,
            begins="2025-10-25T09:00:00+02:00",
            ends="2025-10-26T19:00:00+01:00",
        ),
        territory,
    )
    await put(note("o2", "Prêt sans date", place=fives), territory)


def paris(text: str) -> datetime:
    """A Paris wall-clock time in October 2025 (UTC+2)."""
    return datetime.fromisoformat(text + "+02:00")


async def test_dates__events_overlap_and_repairs_need_a_free_slot(db: None, territory: Territory) -> None:
    await fill_dates(territory)
    in_three_days = {"date_from": NOW, "date_to": NOW + timedelta(days=3)}
    assert sorted(await titles(**in_three_days)) == ["Réparation Arras", "Réparation Fives"]  # r3's is full
    assert await titles(date_from=paris("2025-10-18T11:00"), date_to=paris("2025-10-18T12:00")) == [
        "Atelier samedi"
    ]
    assert sorted(await titles(date_from=paris("2025-10-20T00:00"), date_to=paris("2025-10-21T00:00"))) == [
        "Réparation Arras",
        "Soirée",
    ]
    assert sorted(await titles(date_from=paris("2025-10-25T00:00"))) == [
        "Prêt du week-end",
        "Réparation complète",
        "Sans fin",
    ]
    assert await titles(date_to=paris("2025-10-14T00:00")) == ["Passé"]
    assert await titles(date_from=paris("2025-10-18T13:00"), date_to=paris("2025-10-18T14:00")) == []  # ended
    # "a repair slot in the next 3 days within 10 km of Roubaix"
    roubaix = townhall(territory, "59512")
    assert await titles(kinds=(CatalogueKind.REPAIR,), near=roubaix, radius_km=10, **in_three_days) == [
        "Réparation Fives"
    ]


async def test_dates__sort_by_start_with_cursors(db: None, territory: Territory) -> None:
    await fill_dates(territory)
    soonest = [
        "Réparation Fives",  # free slot 14 Oct 14:00
        "Atelier samedi",  # 18 Oct 10:00
        "Réparation Arras",  # 20 Oct 09:00
        "Soirée",  # 20 Oct 18:00
        "Sans fin",  # 25 Oct 09:00
        "Prêt du week-end",  # 25 Oct 09:00 too, stored after
        "Réparation complète",  # 30 Oct
    ]
    assert await titles(date_from=paris("2025-10-14T12:00"), sort=SortOrder.START) == soonest
    # Without a range: past events first, then from NOW; items without a start come last.
    assert await every_title(sort=SortOrder.START, limit=3) == [
        "Passé",
        "Réparation Arras",  # its 14 Oct 09:00 slot
        "Réparation Fives",
        "Atelier samedi",
        "Soirée",
        "Sans fin",
        "Prêt du week-end",
        "Réparation complète",
        "Réparation sans créneau",  # no start: last, by id
        "Prêt sans date",
    ]


# Origin node, facets, unlisted authors.


async def test_node_and_facets(db: None, territory: Territory) -> None:
    await fill_dates(territory)
    await put(note("x1", "Remorque", purpose="request", place=blurred(territory, "59512")), territory)
    assert sorted(await titles(host=ARRAS)) == ["Réparation Arras"]
    assert len(await titles(host=FIVES)) == 7
    page = await find(limit=1)
    assert page.total == 11
    assert page.facets.kinds == {"event": 4, "repair": 4, "offer": 2, "request": 1}
    assert page.facets.categories == {
        "WORKSHOPS_SKILL_SHARING": 4,
        "reparation-velo": 4,
        "maison-cuisine": 3,
    }
    assert page.facets.departements == {"59": 10, "62": 1}
    assert list(page.facets.kinds) == ["event", "repair", "offer", "request"]  # most first, then by name
    repairs = await find(kinds=(CatalogueKind.REPAIR, CatalogueKind.REQUEST), departement="59")
    assert repairs.total == 4 and repairs.facets.kinds == {"repair": 3, "request": 1}
    assert repairs.facets.departements == {"59": 4}
    assert (await find(categories=("reparation-velo",), host=FIVES)).total == 3
    empty = await find(text="xylophone")
    assert (empty.total, empty.facets.kinds, empty.items) == (0, {}, [])


async def test_unlisted_author__not_listed_nor_searched(db: None, territory: Territory) -> None:
    actor = actor_of(ARRAS)
    document = {"id": actor, "type": "Organization", "discoverable": True, "indexable": False}
    remote = await RemoteActor.create(
        iri=actor, host=ARRAS, type="Organization", inbox=f"{actor}/inbox", document=document, fetched_at=NOW
    )
    await put(note("d1", "Établi", host=ARRAS, place=exact(FIVES_POINT)), territory)
    await put(note("d2", "Perceuse", place=exact(FIVES_POINT)), territory)
    assert await titles() == ["Perceuse"] and await titles(text="etabli") == []
    assert (await find()).total == 1 and await titles(commune="59350") == ["Perceuse"]
    remote.document = {**document, "indexable": True}
    await remote.save()
    assert await relist_author(actor) == 1
    assert sorted(await titles()) == ["Perceuse", "Établi"]


# Slots mirrored for date searches.


async def test_slots__free_ones_mirrored_and_removed_with_the_item(db: None, territory: Territory) -> None:
    item = await put(note("s1", "Réparation", kind="repair", host=FIVES, place=exact(FIVES_POINT)), territory)
    await put_slots(
        item,
        ("2025-10-14T14:00:00+02:00", "2025-10-14T15:00:00+02:00", 0),
        ("2025-10-15T14:00:00+02:00", "2025-10-15T15:00:00+02:00", 1),
    )
    starts = await CatalogueSlot.filter(item_id=item.id).values_list("starts_at", flat=True)
    assert starts == [datetime(2025, 10, 15, 12, 0, tzinfo=UTC)]
    await put_slots(item, ("2025-10-16T14:00:00+02:00", "2025-10-16T15:00:00+02:00", None))
    starts = await CatalogueSlot.filter(item_id=item.id).values_list("starts_at", flat=True)
    assert starts == [datetime(2025, 10, 16, 12, 0, tzinfo=UTC)]
    assert await CatalogueCommune.filter(item_id=item.id).count() == 1
    await remove_object(item.iri, actor_iri=item.actor_iri)
    assert await CatalogueSlot.all().count() == 0 and await CatalogueCommune.all().count() == 0


# Cursors.


async def test_cursor__date_order_stable_while_items_arrive(db: None, territory: Territory) -> None:
    for number in range(5):
        await put(note(f"n{number}", f"Demande {number}", published="2025-10-05T10:00:00Z"), territory)
    await put(note("n5", "Demande 5", published="2025-10-07T10:00:00Z"), territory)
    await put(note("n6", "Demande 6", published="2025-10-01T10:00:00Z"), territory)
    expected = ["Demande 5", "Demande 4", "Demande 3", "Demande 2", "Demande 1", "Demande 0", "Demande 6"]
    seen: list[str] = []
    page = await find(limit=3)
    seen += [item.name for item in page.items]
    arrived = 100
    while page.next_cursor is not None:
        # Items arriving between two pages, newer and older, never shift the next page.
        await put(note(f"n{arrived}", f"Demande {arrived}", published="2025-10-20T00:00:00Z"), territory)
        await put(
            note(f"n{arrived + 1}", f"Demande {arrived + 1}", published="2025-10-05T10:00:00Z"), territory
        )
        arrived += 2
        page = await find(limit=3, cursor=page.next_cursor)
        seen += [item.name for item in page.items if int(item.name.split()[1]) < 100]
    assert seen == expected


async def test_cursor__distance_order_stable_while_items_arrive(db: None, territory: Territory) -> None:
    codes = ["59350", "59009", "59512", "59599", "59360", "59650"]
    for code in codes:
        await put(note(f"d{code}", code, place=exact(townhall(territory, code))), territory)
    expected = sorted(codes, key=lambda code: distance_m(*FIVES_POINT, *townhall(territory, code)))
    query = {"near": FIVES_POINT, "radius_km": 30.0, "sort": SortOrder.DISTANCE, "limit": 2}
    page = await find(**query)
    seen = [item.name for item in page.items]
    while page.next_cursor is not None:
        await put(note(f"x{len(seen)}", f"nearer {len(seen)}", place=exact(FIVES_POINT)), territory)
        page = await find(**query, cursor=page.next_cursor)
        seen += [item.name for item in page.items]
    assert seen == expected


async def test_cursor__bad_or_from_another_sort_is_a_400(db: None, territory: Territory) -> None:
    for number in range(3):
        await put(note(f"k{number}", f"Objet {number}", place=exact(FIVES_POINT)), territory)
    page = await find(limit=1)
    assert page.next_cursor is not None
    with pytest.raises(BadRequestError, match="made for sort=date, not sort=start") as caught:
        await find(limit=1, sort=SortOrder.START, cursor=page.next_cursor)
    assert caught.value.field == "cursor"
    for cursor in (
        "nope",
        "W10",
        "WyJkYXRlIiwxLDFd",
        "WyJkYXRlIiwiMjAyNS0xMC0wNSIsMV0",
        "WyJ4IiwxLDFd",
        "!!",
    ):
        with pytest.raises(BadRequestError, match="cursor") as caught:
            await find(cursor=cursor)
        assert caught.value.field == "cursor"


# The migration.


async def test_migration__existing_rows_are_folded_and_indexed(unmigrated: Settings) -> None:
    """Rows stored before 0003 (an empty database migrated up to 0002) are folded, indexed and placed
    by the migrations after it."""
    settings = unmigrated
    url = settings.effective_database_url
    context = TortoiseContext()
    with context:
        try:
            await migrate(config=tortoise_config(url), target="fedicoop.0002_federation")
        finally:
            await context.close_connections()
    async with open_database(settings):
        await CatalogueItem._meta.db.execute_script(
            "INSERT INTO catalogue_item (iri, actor_iri, host, kind, name, content, summary, text, "
            "document, available, received_at, published) VALUES ('https://x.example/1', "
            "'https://x.example/a', 'x.example', 'offer', 'Manège', '', '', 'deux velos, chevaux de bois!', "
            "'{}', TRUE, '2025-10-01 10:00:00+00:00', '2025-10-01 10:00:00+00:00')"
        )
    assert (await migrate_database(settings))[0] == "fedicoop.0003_portal"
    async with open_database(settings):
        item = await CatalogueItem.get(iri="https://x.example/1")
        assert (item.text, item.discoverable, item.territory_flags) == ("deux velo cheval de bois", True, [])
        assert await titles(text="CHEVAL") == ["Manège"] and await titles(text="vélos") == ["Manège"]
