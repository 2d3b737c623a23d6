"""The catalogue service (fedicoop.services.catalogue) on SQLite and PostgreSQL, fed the golden examples.

Each kind of object lands in the right columns; hostile HTML is stored sanitised; older Updates, foreign
authors and author changes are refused; removal only by the author. The search text is folded (accents,
case, plurals, punctuation). Searching is tested in test_search*.py.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from fedicoop.db import open_database
from fedicoop.errors import ForbiddenError, ValidationError
from fedicoop.models.catalogue import CatalogueItem
from fedicoop.models.states import CatalogueKind, Purpose
from fedicoop.services.catalogue import (
    remove_actor_items,
    remove_object,
    store_object,
)
from fedicoop.services.search import search_text
from fedicoop.settings import Settings
from schemas.examples import load_example

pytestmark = pytest.mark.anyio

NOW = datetime(2025, 10, 13, 6, 0, tzinfo=UTC)
PARTAGE = "https://partage-lille.example/actors/partage-lille"
FIVES = "https://velo-fives.example/actors/atelier-fives"
DEEP: Any = "x"
for _ in range(33):
    DEEP = [DEEP]
HOSTILE = (
    '<p onclick="steal()">Bonjour <img src="x" onerror="alert(1)">'
    '<a href="javascript:alert(2)">clic</a> <a href="https://ok.example/">ok</a></p>'
    "<script>alert(3)</script><style>body{display:none}</style>"
    '<iframe src="https://evil.example/"></iframe><p style="color:red">fin</p>'
)


def example(name: str, **changes: Any) -> dict[str, Any]:
    """A fresh copy of a golden example with some top-level fields changed (None removes one)."""
    document: dict[str, Any] = copy.deepcopy(load_example(name))
    for key, value in changes.items():
        if value is None:
            document.pop(key, None)
        else:
            document[key] = value
    return document


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[None]:
    """The test's database, open."""
    async with open_database(settings):
        yield


async def test_store__offer_columns(db: None) -> None:
    item = await store_object(example("offer-loan"), actor_iri=PARTAGE, now=NOW)
    assert item is not None
    row = await CatalogueItem.get(iri=item.iri)
    assert (row.kind, row.purpose, row.category) == (CatalogueKind.OFFER, Purpose.OFFER, "travaux-outillage")
    assert row.name == "Prêt : perceuse-visseuse 18 V"
    assert row.actor_iri == PARTAGE and row.host == "partage-lille.example"
    assert row.url == (
        "https://ebs-lille.example/fr/produits/perceuse-visseuse-18-v/1ed7a2a8-0a77-6dbc-a34f-f3a729006754"
    )
    assert row.published == datetime(2025, 10, 2, 7, 15, tzinfo=UTC) == row.updated
    assert (row.location_name, row.latitude, row.longitude) == ("Lille", 50.6309, 3.0709)
    assert row.available is True and row.starts_at is None and row.received_at == NOW
    assert row.content.startswith("<p><strong>Prêt : perceuse-visseuse 18 V</strong></p>")
    assert 'rel="nofollow noopener noreferrer ugc"' in row.content
    assert "perceuse visseuse" in row.text and "travail outillage" in row.text  # "travaux" folded
    assert "pret" in row.text.split() and row.text == search_text(row.text)
    assert row.document["deposit"] == {"type": "MonetaryAmount", "value": "30.00", "currency": "EUR"}


async def test_store__request_repair_and_event_columns(db: None) -> None:
    request = await store_object(example("request"), actor_iri=PARTAGE, now=NOW)
    assert request is not None
    assert (request.kind, request.purpose, request.category) == (
        CatalogueKind.REQUEST,
        Purpose.REQUEST,
        "velos-accessoires",
    )
    assert request.starts_at == datetime(2025, 10, 25, 7, 0, tzinfo=UTC)
    assert request.ends_at == datetime(2025, 10, 26, 18, 0, tzinfo=UTC)
    assert request.updated is None and request.location_name == "Roubaix"

    repair = await store_object(example("repair-offer"), actor_iri=FIVES, now=NOW)
    assert repair is not None
    assert (repair.kind, repair.purpose, repair.category) == (
        CatalogueKind.REPAIR,
        Purpose.OFFER,
        "reparation-velo",
    )
    assert repair.document["slots"].endswith("/slots") and repair.slots is None
    assert repair.location_name == "Atelier vélo de Fives"

    event = await store_object(example("event"), actor_iri=FIVES, now=NOW)
    assert event is not None
    assert (event.kind, event.purpose, event.category) == (
        CatalogueKind.EVENT,
        None,
        "WORKSHOPS_SKILL_SHARING",
    )
    assert event.name == "Atelier d'autoréparation vélo"
    assert event.starts_at == datetime(2025, 10, 18, 8, 0, tzinfo=UTC)
    assert event.ends_at == datetime(2025, 10, 18, 11, 0, tzinfo=UTC)
    assert event.summary.startswith("Samedi 18 octobre 2025")
    assert (event.latitude, event.longitude) == (50.6292, 3.0886)
    assert "autoreparation" in event.text and "workshop skill sharing" in event.text
    assert await CatalogueItem.all().count() == 3


async def test_store__not_a_catalogue_object_stores_nothing(db: None) -> None:
    mastodon_note = {
        "id": "https://partage-lille.example/notes/1",
        "type": "Note",
        "attributedTo": PARTAGE,
        "content": "<p>Salut</p>",
    }
    for document in (mastodon_note, example("actor-organization"), example("announce"), {"type": ["Note"]}):
        assert await store_object(document, actor_iri=PARTAGE, now=NOW) is None
    assert await CatalogueItem.all().count() == 0


async def test_store__hostile_html_is_sanitised(db: None) -> None:
    document = example("offer-loan", content=HOSTILE, contentMap={"fr": HOSTILE, "en": HOSTILE})
    item = await store_object(document, actor_iri=PARTAGE, now=NOW)
    assert item is not None
    row = await CatalogueItem.get(iri=item.iri)
    for html in (row.content, row.document["content"], *row.document["contentMap"].values()):
        for bad in ("script", "alert", "style", "iframe", "onerror", "onclick", "javascript:", "<img"):
            assert bad not in html, (bad, html)
        assert '<a href="https://ok.example/" rel="nofollow noopener noreferrer ugc">ok</a>' in html
    assert "alert" not in row.text and "display" not in row.text
    event = await store_object(example("event", summary=HOSTILE, content=None), actor_iri=FIVES, now=NOW)
    assert event is not None and "script" not in event.summary and "onerror" not in event.summary


async def test_store__paused_and_cancelled_are_unavailable(db: None) -> None:
    offer = example("offer-loan")
    offer["publishes"]["availableQuantity"]["hasNumericalValue"] = "0"
    paused = await store_object(offer, actor_iri=PARTAGE, now=NOW)
    cancelled = await store_object(example("event", status="CANCELLED"), actor_iri=FIVES, now=NOW)
    assert paused is not None and paused.available is False
    assert cancelled is not None and cancelled.available is False


async def test_store__a_listing_summary_is_kept_only_when_text(db: None) -> None:
    odd = await store_object(example("request", summary={"not": "text"}), actor_iri=PARTAGE, now=NOW)
    assert odd is not None and odd.summary == ""
    warned = example("offer-loan", summary="Attention <script>x()</script>")
    kept = await store_object(warned, actor_iri=PARTAGE, now=NOW)
    assert kept is not None and kept.summary == "Attention " and "attention" in kept.text


async def test_store__nul_characters_are_dropped(db: None) -> None:
    item = await store_object(example("request", title="Re\x00cherche"), actor_iri=PARTAGE, now=NOW)
    assert item is not None and (await CatalogueItem.get(iri=item.iri)).name == "Recherche"


async def test_update__older_or_equal_ignored_newer_applied(db: None) -> None:
    first = await store_object(example("repair-offer"), actor_iri=FIVES, now=NOW)
    assert first is not None
    older = example("repair-offer", title="Ancien titre", updated="2025-10-01T00:00:00Z")
    same = example("repair-offer", title="Même date", updated="2025-10-13T06:00:00Z")
    for stale in (older, same, example("repair-offer", title="Sans date", updated=None, published=None)):
        kept = await store_object(stale, actor_iri=FIVES, now=NOW + timedelta(hours=1))
        assert kept is not None and kept.id == first.id and kept.name == "Réparation de vélo sur rendez-vous"
    newer = example("repair-offer", title="Nouveau titre", updated="2025-10-14T06:00:00Z", published=None)
    updated = await store_object(newer, actor_iri=FIVES, now=NOW + timedelta(days=1))
    row = await CatalogueItem.get(iri=first.iri)
    assert updated is not None and updated.id == row.id
    assert (row.name, row.updated) == ("Nouveau titre", datetime(2025, 10, 14, 6, 0, tzinfo=UTC))
    assert row.published == datetime(2025, 9, 1, 8, 0, tzinfo=UTC) and row.received_at == NOW
    assert "nouveau titre" in row.text and await CatalogueItem.all().count() == 1


async def test_store__someone_elses_object_is_refused(db: None) -> None:
    with pytest.raises(ForbiddenError, match="not to the sender"):
        await store_object(example("offer-loan"), actor_iri=FIVES, now=NOW)
    foreign = example("offer-loan", id="https://velo-fives.example/listings/1", attributedTo=FIVES)
    foreign["attributedTo"] = PARTAGE
    with pytest.raises(ForbiddenError, match="origin"):
        await store_object(foreign, actor_iri=PARTAGE, now=NOW)
    assert await CatalogueItem.all().count() == 0


async def test_update__attributed_to_may_never_change(db: None) -> None:
    await store_object(example("offer-loan"), actor_iri=PARTAGE, now=NOW)
    other = "https://partage-lille.example/actors/other"
    takeover = example("offer-loan", attributedTo=other, updated="2025-12-01T00:00:00Z", title="À moi")
    with pytest.raises(ForbiddenError, match="cannot become"):
        await store_object(takeover, actor_iri=other, now=NOW)
    row = await CatalogueItem.get()
    assert (row.actor_iri, row.name) == (PARTAGE, "Prêt : perceuse-visseuse 18 V")


async def test_event_owner__organizers_when_no_attributed_to(db: None) -> None:
    item = await store_object(example("event", attributedTo=None), actor_iri=FIVES, now=NOW)
    assert item is not None and item.actor_iri == FIVES
    with pytest.raises(ForbiddenError):
        await store_object(example("event", attributedTo=None), actor_iri=PARTAGE, now=NOW)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": "x" * 121}, "$.title"),
        ({"content": "x" * 100_001}, "$.content"),
        ({"tag": [{"type": "Hashtag", "name": "#a"}] * 51}, "$.tag"),
        ({"purpose": "swap"}, "$.purpose"),
        ({"url": "javascript:alert(1)"}, "$.url"),
        ({"deep": DEEP}, "$.deep"),
    ],
)
async def test_store__bounds_and_shapes_are_enforced(db: None, changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        await store_object(example("offer-loan", **changes), actor_iri=PARTAGE, now=NOW)
    assert caught.value.field is not None and caught.value.field.startswith(field), caught.value
    assert await CatalogueItem.all().count() == 0


async def test_remove__only_by_the_author(db: None) -> None:
    offer = await store_object(example("offer-loan"), actor_iri=PARTAGE, now=NOW)
    await store_object(example("request"), actor_iri=PARTAGE, now=NOW)
    await store_object(example("event"), actor_iri=FIVES, now=NOW)
    assert offer is not None
    assert await remove_object(offer.iri, actor_iri=FIVES) is False
    assert await CatalogueItem.filter(iri=offer.iri).exists()
    assert await remove_object(offer.iri, actor_iri=PARTAGE) is True
    assert await remove_object(offer.iri, actor_iri=PARTAGE) is False
    assert await remove_actor_items(PARTAGE) == 1
    assert [row.actor_iri for row in await CatalogueItem.all()] == [FIVES]
