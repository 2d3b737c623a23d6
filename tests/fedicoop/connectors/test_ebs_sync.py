"""Full EBS runs: read_ebs on the fixture EBS database, then synchronise into a real node database
(SQLite and PostgreSQL). What gets published, that a second run sends nothing, that source changes
become Update and Delete, that nothing personal ever reaches the node, and that a broken source
publishes and withdraws nothing until it is fixed."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from tortoise import Tortoise

from fedicoop.connectors.ebs import EbsOptions, read_ebs
from fedicoop.connectors.errors import SourceSchemaError, SourceUnreachableError
from fedicoop.connectors.summary import RunSummary
from fedicoop.connectors.sync import synchronise
from fedicoop.models.activities import Activity
from fedicoop.models.actors import Actor
from fedicoop.models.connectors import SourceLink
from fedicoop.models.listings import Listing
from fedicoop.models.states import ListingState
from fedicoop.node import Node
from fedicoop.services.actors import create_actor
from fedicoop.settings import Settings
from schemas.api import ActorCreate, PlaceInput
from tests.conftest import Clock, _pg_admin, postgres_enabled
from tests.fedicoop.connectors.ebs_database import EbsDatabase, ebs_database
from tests.fedicoop.queue_helpers import open_node

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.postgres,
    pytest.mark.skipif(not postgres_enabled(), reason="an EBS database is a PostgreSQL one"),
]

SITE = "https://ebs-lille.example"
MEDIA = "https://ebs-lille.example/uploads"
COOPERATIVE = "partage-lille"
DRILL = uuid.UUID("1ed7a2a8-0a77-6dbc-a34f-f3a729006754")
PLACE = uuid.UUID("1ef00000-0000-6000-8000-e50000000003")
REPAIR_CAFE = uuid.UUID("1ef00000-0000-6000-8000-e50000000009")
HELENE = uuid.UUID("1ef00000-0000-6000-8000-e50000000004")
CAMILLE_ADDRESS = uuid.UUID("1ef00000-0000-6000-8000-ad0000000001")

PERSONAL = [
    # names, e-mails, phones, streets, avatar and description of the fixture's persons
    *(
        "Camille",
        "Martin",
        "Dominique",
        "Leroy",
        "Hélène",
        "Vacances",
        "Bruno",
        "Bloqué",
        "Sansgéo",
        "Parisien",
    ),
    *(
        "camille.martin@",
        "dominique.leroy@",
        "helene.vacances@",
        "bruno.bloque@",
        "noe.sansgeo@",
        "paul.parisien@",
    ),
    *("+33612345678", "+33698765432", "+33611111111", "+33622222222", "+33633333333", "+33644444444"),
    *("Secret Bien Gardé", "Confidences", "Congés Payés", "Compte Fermé", "Introuvable", "Capitale"),
    *("Appartement 4B", "Vieux-Lille", "camille-avatar", "Couturière", "hashedpassword", "admin@ebs.example"),
]


def product(number: int) -> uuid.UUID:
    """The id of fixture product ``number`` (1 is the drill)."""
    return DRILL if number == 1 else uuid.UUID(f"1ef00000-0000-6000-8000-b000000000{number:02d}")


@pytest.fixture
def ebs() -> Iterator[EbsDatabase]:
    """A fresh fixture EBS database for the test."""
    with ebs_database() as database:
        yield database


@pytest.fixture
async def node(settings: Settings, clock: Clock) -> AsyncIterator[Node]:
    """A node (région 32) with the cooperative ``partage-lille`` that publishes the members' listings."""
    async with open_node(settings, clock) as opened:
        lille = PlaceInput(name="Partage Lille", latitude=50.6366, longitude=3.0635, locality="Lille")
        await create_actor(
            ActorCreate(username=COOPERATIVE, kind="cooperative", name="Partage Lille", location=lille),
            clock(),
        )
        yield opened


async def run(ebs: EbsDatabase, node: Node, **extra: Any) -> RunSummary:
    """One import: read the EBS database with the reader role, apply the snapshot."""
    options = EbsOptions(
        database_url=ebs.reader_dsn, site_url=SITE, actor=COOPERATIVE, media_url=MEDIA, **extra
    )
    return await synchronise(await read_ebs(options, node, None), node)


def counted(summary: RunSummary) -> dict[str, dict[str, int]]:
    counts = {
        target.value: {a.value: n for a, n in row.items() if n} for target, row in summary.counts.items()
    }
    return {target: row for target, row in counts.items() if row}


async def activities() -> list[tuple[str, str]]:
    return sorted(await Activity.all().values_list("type", "object_iri"))


async def test_ebs_sync__first_run_publishes_and_a_second_sends_nothing(ebs: EbsDatabase, node: Node) -> None:
    first = await run(ebs, node)

    assert counted(first) == {"actor": {"created": 2}, "listing": {"created": 8}}
    assert not first.failed
    assert sorted(str(skip.key) for skip in first.skipped) == sorted(
        f"product {product(number)}" for number in (6, 7, 8, 11, 12)
    )
    drill = await Listing.get(id=DRILL).prefetch_related("actor", "location")
    assert (drill.actor.username, drill.state, drill.deposit, drill.loan_duration) == (
        COOPERATIVE,
        ListingState.PUBLISHED,
        "30.00",
        "une semaine",
    )
    assert (drill.location.locality, drill.location.radius, drill.location.street_address) == (
        "Lille",
        7800,
        None,
    )
    assert drill.external_url == f"{SITE}/fr/produits/perceuse-visseuse-18-v/{DRILL}"
    assert drill.images == [{"url": f"{MEDIA}/4437be7d.jpg", "media_type": "image/jpeg", "alt": drill.title}]
    trailer = await Listing.get(id=product(2))
    assert (trailer.quantity, trailer.state) == ("0", ListingState.PUBLISHED)
    paused = await Listing.filter(state=ListingState.PAUSED).values_list("id", flat=True)
    assert sorted(paused) == sorted([product(5), product(9), product(10)])
    place = await Actor.get(username="objetotheque-de-fives").prefetch_related("location")
    assert (place.kind.value, place.location.street_address, place.location.radius) == (
        "place",
        "5 rue de l'Objetothèque",
        None,
    )
    assert place.fields_json == [{"name": "Horaires", "value": "mar. et jeu. 17h–19h, sam. 10h–12h"}]
    raclette = await Listing.get(id=product(4)).prefetch_related("actor", "location")
    assert raclette.actor.id == place.id and raclette.location.street_address == "5 rue de l'Objetothèque"
    creates = [iri for kind, iri in await activities() if kind == "Create"]
    assert sorted(creates) == sorted(
        node.urls.listing(product(number)) for number in (1, 2, 3, 4, 5, 9, 10, 13)
    )
    mower = await Activity.get(type="Create", object_iri=node.urls.listing(product(5)))
    assert mower.document["object"]["content"].startswith("<p><strong>[En pause] Tondeuse à gazon")
    assert mower.document["object"]["publishes"]["availableQuantity"]["hasNumericalValue"] == "0"
    before = await activities()

    second = await run(ebs, node)

    assert counted(second) == {"actor": {"unchanged": 2}, "listing": {"unchanged": 8}}
    assert not second.changed
    assert await activities() == before


async def test_ebs_sync__source_changes_become_updates_and_deletes(ebs: EbsDatabase, node: Node) -> None:
    await run(ebs, node)
    repair_cafe = await Actor.get(username="repair-cafe-de-roubaix")
    before = set(await Activity.all().values_list("id", flat=True))
    changes = [
        ("UPDATE product SET name = 'Perceuse-visseuse 18 V sans fil' WHERE id = $1", DRILL),
        ("DELETE FROM product_availability WHERE product_id = $1", product(2)),
        ("UPDATE product SET status = 'paused' WHERE id = $1", product(3)),
        ("UPDATE product SET status = 'deleted' WHERE id = $1", product(5)),
        ("UPDATE product SET visibility = 'restricted' WHERE id = $1", product(4)),
        ('UPDATE "user" SET vacation_mode = false WHERE id = $1', HELENE),
        ("UPDATE \"user\" SET schedule = 'sam. 10h–12h' WHERE id = $1", PLACE),
        ('DELETE FROM "user" WHERE id = $1', REPAIR_CAFE),
    ]
    for statement, record in changes:
        await ebs.aexecute(statement, record)

    summary = await run(ebs, node)

    assert counted(summary) == {
        "actor": {"updated": 1, "withdrawn": 1},
        "listing": {"updated": 4, "withdrawn": 2, "unchanged": 2},
    }
    new = sorted((row.type, row.object_iri) for row in await Activity.all() if row.id not in before)
    place = await Actor.get(username="objetotheque-de-fives")
    assert new == sorted(
        [
            ("Update", node.urls.listing(DRILL)),
            ("Update", node.urls.listing(product(2))),
            ("Update", node.urls.listing(product(3))),
            ("Update", node.urls.listing(product(9))),
            ("Update", node.urls.actor(place.username)),
            ("Delete", node.urls.listing(product(4))),
            ("Delete", node.urls.listing(product(5))),
            ("Delete", node.urls.actor(repair_cafe.username)),
        ]
    )
    assert (await Listing.get(id=DRILL)).title == "Perceuse-visseuse 18 V sans fil"
    assert (await Listing.get(id=product(2))).quantity == "1"
    assert (await Listing.get(id=product(3))).state == ListingState.PAUSED
    assert (await Listing.get(id=product(9))).state == ListingState.PUBLISHED
    assert (await Listing.get(id=product(5))).state == ListingState.WITHDRAWN
    assert (await Actor.get(id=repair_cafe.id)).deleted_at is not None
    assert place.fields_json == [{"name": "Horaires", "value": "sam. 10h–12h"}]

    # A withdrawn product that comes back is published anew: its old id answers 410 for good.
    await ebs.aexecute("UPDATE product SET status = 'active' WHERE slug = 'tondeuse-a-gazon'")
    again = await run(ebs, node)
    assert counted(again)["listing"] == {"created": 1, "unchanged": 6}
    link = await SourceLink.get(source=again.source, kind="product", source_id=str(product(5)))
    assert link.target_id != product(5)
    assert (await Listing.get(id=link.target_id)).title == "Tondeuse à gazon"


async def test_ebs_sync__a_person_who_moves_moves_their_listings_by_commune(
    ebs: EbsDatabase, node: Node
) -> None:
    await run(ebs, node)
    await ebs.aexecute(
        "UPDATE address SET latitude = 50.6900, longitude = 3.1780, locality = 'Roubaix' WHERE id = $1",
        CAMILLE_ADDRESS,
    )

    summary = await run(ebs, node)

    assert counted(summary)["listing"] == {"updated": 2, "unchanged": 6}  # the drill and the sewing course
    for number in (1, 3):
        listing = await Listing.get(id=product(number)).prefetch_related("location")
        assert (listing.location.commune_code, listing.location.radius) == ("59512", 3000)


async def test_ebs_sync__nothing_personal_reaches_the_node(ebs: EbsDatabase, node: Node) -> None:
    await run(ebs, node)
    await ebs.aexecute('UPDATE "user" SET vacation_mode = false WHERE id = $1', HELENE)
    await run(ebs, node)

    dump = await dump_node_database()
    assert "Objetothèque de Fives" in dump and "Perceuse-visseuse 18 V" in dump  # the dump holds the rest
    leaked = [text for text in PERSONAL if text in dump]
    assert leaked == []
    for number in (1, 2, 3, 5, 9, 10):  # the persons' listings: blurred to their commune
        listing = await Listing.get(id=product(number)).prefetch_related("actor", "location")
        assert listing.actor.username == COOPERATIVE
        place = listing.location
        assert place.radius is not None and place.radius >= 1000
        assert (place.street_address, place.postal_code) == (None, None)
        assert place.name == place.locality
        documents = await Activity.filter(object_iri=node.urls.listing(listing.id)).values_list(
            "document", flat=True
        )
        for document in documents:
            location = document["object"]["location"]
            assert location["radius"] == place.radius
            assert set(location["address"]) == {"type", "addressLocality", "addressCountry"}


async def dump_node_database() -> str:
    """Every row of every table of the node, as one JSON text."""
    rows: dict[str, Any] = {}
    for name, model in Tortoise.apps["fedicoop"].items():
        rows[name] = await model.all().values()
    return json.dumps(rows, default=str, ensure_ascii=False)


async def test_ebs_sync__a_missing_column_publishes_and_withdraws_nothing_then_recovers(
    ebs: EbsDatabase, node: Node
) -> None:
    await ebs.aexecute('ALTER TABLE "user" RENAME COLUMN vacation_mode TO on_holiday')

    with pytest.raises(SourceSchemaError, match=r"column user\.vacation_mode missing"):
        await run(ebs, node)

    assert await SourceLink.all().count() == 0
    assert await Activity.all().count() == 0
    await ebs.aexecute('ALTER TABLE "user" RENAME COLUMN on_holiday TO vacation_mode')
    first = await run(ebs, node)
    assert counted(first) == {"actor": {"created": 2}, "listing": {"created": 8}}
    before = await activities()

    await ebs.aexecute("ALTER TABLE product DROP COLUMN preferred_loan_duration")
    with pytest.raises(SourceSchemaError, match=r"column product\.preferred_loan_duration missing"):
        await run(ebs, node)

    assert await activities() == before  # nothing withdrawn because the source could not be read
    assert await Listing.filter(state=ListingState.WITHDRAWN).count() == 0
    await ebs.aexecute("ALTER TABLE product ADD COLUMN preferred_loan_duration VARCHAR(255) DEFAULT NULL")
    recovered = await run(ebs, node)
    # the drill, the trailer and the raclette set lost their loan duration
    assert counted(recovered)["listing"] == {"updated": 3, "unchanged": 5}
    assert (await Listing.get(id=DRILL)).loan_duration is None


async def test_ebs_sync__an_unreachable_database_then_recovers(ebs: EbsDatabase, node: Node) -> None:
    await run(ebs, node)
    await _pg_admin(f'ALTER DATABASE "{ebs.name}" ALLOW_CONNECTIONS false')
    try:
        with pytest.raises(SourceUnreachableError, match="refused the connection"):
            await run(ebs, node)
    finally:
        await _pg_admin(f'ALTER DATABASE "{ebs.name}" ALLOW_CONNECTIONS true')

    assert await Listing.filter(state=ListingState.WITHDRAWN).count() == 0
    await ebs.aexecute("UPDATE product SET name = 'Perceuse' WHERE id = $1", DRILL)
    summary = await run(ebs, node)
    assert counted(summary)["listing"] == {"updated": 1, "unchanged": 7}


async def test_ebs_sync__hostile_markup_is_published_as_text(ebs: EbsDatabase, node: Node) -> None:
    await ebs.aexecute(
        "UPDATE product SET name = $1, description = $2 WHERE id = $3",
        'Perceuse <img src="x" onerror="alert(1)">',
        '<script>alert(2)</script><a href="javascript:alert(3)">lien</a>',
        DRILL,
    )
    summary = await run(ebs, node)
    assert not summary.failed, summary.failures
    drill = await Listing.get(id=DRILL).prefetch_related("actor", "location")
    content = node.documents.listing(drill)["content"]
    assert "Perceuse" in content and "&lt;script&gt;" in content  # shown as the text it is
    for live in ("<script", "<img", '<a href="javascript'):
        assert live not in content, live
