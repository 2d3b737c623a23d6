"""read_ebs against a real EBS database (tests/fixtures/ebs) read by a role that may only SELECT what the
connector needs: the snapshot it builds, and the errors of a bad source. Nothing here writes to a node."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from fedicoop.connectors.ebs import EbsOptions, read_ebs, source_name
from fedicoop.connectors.errors import (
    ConnectorError,
    SourceError,
    SourceFormatError,
    SourceSchemaError,
    SourceUnreachableError,
)
from fedicoop.connectors.specs import ListingSpec, Snapshot, SourceKey
from fedicoop.node import Node, build_node
from tests.conftest import Clock, _settings, postgres_enabled
from tests.federation.loopback import free_port
from tests.fedicoop.connectors.ebs_database import EbsDatabase, ebs_database

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.postgres,
    pytest.mark.skipif(not postgres_enabled(), reason="an EBS database is a PostgreSQL one"),
]

SITE = "https://ebs-lille.example"
MEDIA = "https://ebs-lille.example/uploads/images/product"
DRILL = "1ed7a2a8-0a77-6dbc-a34f-f3a729006754"
PLACE = "1ef00000-0000-6000-8000-e50000000003"
REPAIR_CAFE = "1ef00000-0000-6000-8000-e50000000009"


def product(number: int) -> str:
    """The id of fixture product ``number`` (1 is the drill)."""
    return DRILL if number == 1 else f"1ef00000-0000-6000-8000-b000000000{number:02d}"


@pytest.fixture(scope="module")
def ebs() -> Iterator[EbsDatabase]:
    """The fixture EBS database, shared by the module's read-only tests."""
    with ebs_database() as database:
        yield database


@pytest.fixture
def node(tmp_path: Path, clock: Clock) -> Node:
    """A node of région 32 (its database is never opened here)."""
    return build_node(_settings(f"sqlite://{tmp_path / 'node.sqlite3'}", tmp_path), clock)


def options(database_url: str, **extra: object) -> EbsOptions:
    values: dict[str, object] = {"database_url": database_url, "site_url": SITE, "actor": "partage-lille"}
    values.update(extra)
    return EbsOptions(**values)  # type: ignore[arg-type]


def listing(snapshot: Snapshot, number: int) -> ListingSpec:
    key = SourceKey("product", product(number))
    return next(spec for spec in snapshot.listings if spec.key == key)


async def test_read_ebs__publishes_public_products_and_places(ebs: EbsDatabase, node: Node) -> None:
    snapshot = await read_ebs(options(ebs.reader_dsn, media_url=MEDIA), node, None)

    assert snapshot.source == source_name(ebs.reader_dsn)
    assert snapshot.source == f"ebs {ebs.role}@127.0.0.1:5432/{ebs.name}"
    assert [spec.key for spec in snapshot.actors] == [
        SourceKey("place", PLACE),
        SourceKey("place", REPAIR_CAFE),
    ]
    assert sorted(spec.key.id for spec in snapshot.listings) == sorted(
        product(number) for number in (1, 2, 3, 4, 5, 9, 10, 13)
    )
    skipped = {skip.key.id: skip.reason for skip in snapshot.skipped}
    assert skipped == {
        product(6): "deleted",
        product(7): "not public (restricted)",
        product(8): "restricted to a group",
        product(11): "its owner's address has no coordinates",
        product(12): "its owner's address is outside the node's territory (régions 32)",
    }
    assert snapshot.events == []


async def test_read_ebs__maps_a_persons_loan(ebs: EbsDatabase, node: Node) -> None:
    snapshot = await read_ebs(options(ebs.reader_dsn, media_url=MEDIA), node, None)
    drill = listing(snapshot, 1)

    assert drill.owner == "partage-lille"
    assert drill.listing_id == uuid.UUID(DRILL)
    assert drill.paused is False
    data = drill.data
    assert (data.kind, data.purpose, data.exchange, data.category) == (
        "object",
        "offer",
        "loan",
        "travaux-outillage",
    )
    assert data.title == "Perceuse-visseuse 18 V"
    assert data.description == "Sans fil, deux batteries et un coffret d'embouts.\n\nÂge : 2 ans"
    assert (data.deposit, data.loan_duration, data.quantity) == ("30.00", "une semaine", "1")
    assert data.external_url == f"{SITE}/fr/produits/perceuse-visseuse-18-v/{DRILL}"
    assert [(image.url, image.media_type) for image in data.images] == [
        (f"{MEDIA}/4437be7d.jpg", "image/jpeg")
    ]
    location = data.location
    assert location is not None
    assert (location.name, location.locality, location.commune_code, location.epci_code) == (
        "Lille",
        "Lille",
        "59350",
        "200093201",
    )
    assert (location.latitude, location.longitude, location.radius) == (50.6309, 3.0709, 7800.0)
    assert (location.street_address, location.postal_code) == (None, None)


async def test_read_ebs__maps_states_and_categories(ebs: EbsDatabase, node: Node) -> None:
    snapshot = await read_ebs(options(ebs.reader_dsn), node, None)

    trailer, course, mower = listing(snapshot, 2), listing(snapshot, 3), listing(snapshot, 5)
    assert trailer.data.quantity == "0"  # lent out now (the swapped "type" column says unavailable)
    assert trailer.data.category == "velos-accessoires"  # "Remorques" → its parent
    assert trailer.data.location is not None and trailer.data.location.commune_code == "59512"
    assert trailer.data.images == []  # no media_url: no images
    assert (course.data.kind, course.data.exchange, course.data.category) == ("service", None, "cours")
    assert course.data.description == "Initiation à la machine à coudre.\n\nDurée : 2 heures"
    assert course.data.deposit is None
    assert mower.paused is True and mower.data.category == "jardinage"
    rackets, computer_help = listing(snapshot, 9), listing(snapshot, 10)
    assert rackets.paused is True  # owner on vacation
    assert rackets.data.category == "sport-loisirs"  # "Sport & Loisirs" folded
    assert rackets.data.location is not None and rackets.data.location.commune_code == "59009"
    assert computer_help.paused is True  # owner disabled
    assert computer_help.data.category == "autres-services"
    assert listing(snapshot, 1).data.quantity == "1"  # unavailable before and after today only


async def test_read_ebs__node_mapping_of_categories_wins(ebs: EbsDatabase, node: Node) -> None:
    mapping = {"cuisine": "maison-cuisine", "informatique": "aide-numerique"}
    snapshot = await read_ebs(options(ebs.reader_dsn, categories=mapping), node, None)

    assert listing(snapshot, 4).data.category == "maison-cuisine"
    assert listing(snapshot, 10).data.category == "aide-numerique"


async def test_read_ebs__mapping_to_a_category_of_another_kind_is_refused(
    ebs: EbsDatabase, node: Node
) -> None:
    with pytest.raises(ConnectorError, match="'cuisine' to 'cours', a category of kind 'service'"):
        await read_ebs(options(ebs.reader_dsn, categories={"cuisine": "cours"}), node, None)


async def test_read_ebs__places_are_actors_with_their_products(ebs: EbsDatabase, node: Node) -> None:
    snapshot = await read_ebs(options(ebs.reader_dsn), node, None)

    place = snapshot.actors[0]
    profile = place.profile
    assert (profile.username, profile.kind, profile.name) == (
        "objetotheque-de-fives",
        "place",
        "Objetothèque de Fives",
    )
    assert profile.summary.startswith("Bibliothèque d'objets du quartier de Fives")
    assert [(field.name, field.value) for field in profile.fields] == [
        ("Horaires", "mar. et jeu. 17h–19h, sam. 10h–12h")
    ]
    assert profile.location is not None
    assert (profile.location.street_address, profile.location.postal_code, profile.location.locality) == (
        "5 rue de l'Objetothèque",
        "59800",
        "Lille",
    )
    assert (profile.location.latitude, profile.location.radius, profile.location.commune_code) == (
        50.629,
        None,
        "59350",
    )
    raclette, homework = listing(snapshot, 4), listing(snapshot, 13)
    assert raclette.owner == place.key and homework.owner == place.key
    assert raclette.data.location is None  # the place's own address
    assert raclette.data.category == "autres-objets"
    assert homework.data.category == "soutien-scolaire"
    assert snapshot.actors[1].profile.fields == []  # no schedule


async def test_read_ebs__reports_progress(ebs: EbsDatabase, node: Node) -> None:
    calls: list[tuple[str, int, int | None]] = []

    await read_ebs(options(ebs.reader_dsn), node, lambda *call: calls.append(call))

    assert calls[0] == ("ebs: database", 0, None)
    assert ("ebs: products", 13, 13) in calls
    assert calls[-1] == ("ebs: mapping", 15, 15)


async def test_read_ebs__the_session_is_read_only(ebs: EbsDatabase, node: Node) -> None:
    # The reader role may not write anyway; the administrator role shows the session setting holds.
    snapshot = await read_ebs(options(ebs.admin_dsn), node, None)

    assert len(snapshot.listings) == 8
    assert snapshot.source == f"ebs postgres@127.0.0.1:5432/{ebs.name}"


# --- bad sources -----------------------------------------------------------------------------------


async def test_read_ebs__unreachable_database(node: Node) -> None:
    port = free_port()

    with pytest.raises(SourceUnreachableError) as caught:
        await read_ebs(options(f"postgresql://reader:s3cret@127.0.0.1:{port}/ebs"), node, None)

    assert str(caught.value).startswith(
        f"ebs reader@127.0.0.1:{port}/ebs: cannot connect to the EBS database"
    )
    assert "s3cret" not in str(caught.value)


async def test_read_ebs__unknown_database(ebs: EbsDatabase, node: Node) -> None:
    url = ebs.admin_dsn.rsplit("/", 1)[0] + "/fc_ebs_nowhere"

    with pytest.raises(SourceUnreachableError, match='refused the connection: database "fc_ebs_nowhere"'):
        await read_ebs(options(url), node, None)


@pytest.fixture
def fresh_ebs() -> Iterator[EbsDatabase]:
    """A fixture EBS database of the test's own, to break."""
    with ebs_database() as database:
        yield database


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        (
            "ALTER TABLE product RENAME COLUMN preferred_loan_duration TO loan_duration",
            "column product.preferred_loan_duration missing",
        ),
        ('ALTER TABLE "user" DROP COLUMN vacation_mode', "column user.vacation_mode missing"),
        ("DROP TABLE product_group", "table 'product_group' is missing"),
    ],
)
async def test_read_ebs__missing_column_or_table(
    statement: str, message: str, fresh_ebs: EbsDatabase, node: Node
) -> None:
    await fresh_ebs.aexecute(statement)

    with pytest.raises(SourceSchemaError, match=message) as caught:
        await read_ebs(options(fresh_ebs.admin_dsn), node, None)

    assert str(caught.value).startswith(f"ebs postgres@127.0.0.1:5432/{fresh_ebs.name}: ")


async def test_read_ebs__column_not_granted_counts_as_missing(fresh_ebs: EbsDatabase, node: Node) -> None:
    await fresh_ebs.revoke("SELECT (schedule)", '"user"')

    with pytest.raises(SourceSchemaError, match=r"column user\.schedule missing"):
        await read_ebs(options(fresh_ebs.reader_dsn), node, None)


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        (
            "UPDATE product SET images = '{\"a\": 1}' WHERE slug = 'escabeau'",
            f"product.images of row {product(11)}: expected a JSON list of file names",
        ),
        (
            "UPDATE product SET status = 'archived' WHERE slug = 'escabeau'",
            f"product.status of row {product(11)}: unknown value 'archived'",
        ),
        (
            "ALTER TABLE product ALTER COLUMN deposit TYPE text",
            f"product.deposit of row {DRILL}: expected int, got str",
        ),
    ],
)
async def test_read_ebs__malformed_value(
    statement: str, message: str, fresh_ebs: EbsDatabase, node: Node
) -> None:
    await fresh_ebs.aexecute(statement)

    with pytest.raises(SourceFormatError, match=message):
        await read_ebs(options(fresh_ebs.reader_dsn), node, None)


async def test_read_ebs__a_refused_query_names_the_source(fresh_ebs: EbsDatabase, node: Node) -> None:
    await fresh_ebs.aexecute(f"ALTER ROLE \"{fresh_ebs.role}\" SET lock_timeout = '200ms'")
    locker = await asyncpg.connect(fresh_ebs.admin_dsn)
    try:
        async with locker.transaction():
            await locker.execute("LOCK TABLE product IN ACCESS EXCLUSIVE MODE")
            with pytest.raises(
                SourceError, match="refused a query: canceling statement due to lock timeout"
            ) as caught:
                await read_ebs(options(fresh_ebs.reader_dsn), node, None)
    finally:
        await locker.close()

    assert type(caught.value) is SourceError
    assert caught.value.source == f"ebs {fresh_ebs.role}@127.0.0.1:5432/{fresh_ebs.name}"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"database_url": "mysql://db.example/ebs"}, "must be a postgresql:// URL"),
        ({"site_url": "ebs-lille.example"}, "site_url must be an absolute http(s) URL"),
        ({"media_url": "ftp://ebs.example/media"}, "media_url must be an absolute http(s) URL"),
        ({"actor": "Partage Lille"}, "actor must be the username of a local actor"),
        ({"categories": {"cuisine": "cuisine"}}, "'cuisine' to 'cuisine', which is not a fedicoop category"),
        ({"locale": "français"}, "locale must look like"),
    ],
)
async def test_read_ebs__bad_options(change: dict[str, object], message: str, node: Node) -> None:
    extra = dict(change)
    url = str(extra.pop("database_url", "postgresql://reader@127.0.0.1:1/ebs"))
    with pytest.raises(ConnectorError, match=re.escape(message)):
        await read_ebs(options(url, **extra), node, None)
