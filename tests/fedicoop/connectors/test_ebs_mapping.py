"""EBS records → snapshot (fedicoop.connectors.ebs.mapping and .categories) on hand-made records and the
real territory of région 32: the cases the fixture database does not hold."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from fedicoop.connectors.ebs.categories import CategoryMapper
from fedicoop.connectors.ebs.mapping import EbsMapper
from fedicoop.connectors.ebs.options import EbsOptions, check_options
from fedicoop.connectors.ebs.records import EbsCategory, EbsData, EbsOwner, EbsProduct
from fedicoop.connectors.specs import ActorSpec, Skip, Snapshot, SourceKey
from fedicoop.territory import Territory
from tests.conftest import SHARED_CACHE

SOURCE = "ebs reader@db.example:5432/ebs"
OPTIONS = check_options(
    EbsOptions(
        database_url="postgresql://reader@db.example/ebs",
        site_url="https://ebs.example/",
        actor="partage-lille",
        media_url="https://ebs.example/uploads/",
    )
)
TOOLS = EbsCategory(uuid.uuid4(), None, "object", "Outils", "outils")
LESSONS = EbsCategory(uuid.uuid4(), None, "service", "Cours", "cours")
PERSON = EbsOwner(uuid.uuid4(), "user", enabled=True, vacation=False, latitude=50.6330, longitude=3.0586)
PLACE = EbsOwner(
    uuid.uuid4(),
    "place",
    enabled=True,
    vacation=False,
    latitude=50.6290,
    longitude=3.0900,
    name="Objetothèque de Fives",
    street="5 rue de l'Exemple",
    postal_code="59800",
    locality="Lille",
    country="FR",
)


@pytest.fixture(scope="module")
def territory() -> Territory:
    return Territory.load(["32"], cache_dir=SHARED_CACHE)


def make_product(**changes: object) -> EbsProduct:
    base = EbsProduct(
        id=uuid.uuid4(),
        type="object",
        status="active",
        visibility="public",
        owner_id=PERSON.id,
        category_id=TOOLS.id,
        name="Perceuse",
        slug="perceuse",
        description="Sans fil.",
        images=(),
        age=None,
        deposit=None,
        currency="EUR",
        loan_duration=None,
        duration=None,
        grouped=False,
        unavailable=False,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def snapshot_of(territory: Territory, *products: EbsProduct, owners: tuple[EbsOwner, ...] = ()) -> Snapshot:
    data = EbsData(
        categories={TOOLS.id: TOOLS, LESSONS.id: LESSONS},
        owners={owner.id: owner for owner in (PERSON, PLACE, *owners)},
        products=list(products),
    )
    return EbsMapper(OPTIONS, SOURCE, territory).snapshot(data)


def test_mapping__long_texts_are_clipped(territory: Territory) -> None:
    item = make_product(name="Perceuse " * 20, description="x" * 2500, age="très vieille")

    data = snapshot_of(territory, item).listings[0].data

    assert len(data.title) == 120 and data.title.endswith("…")
    assert len(data.description) == 2000
    assert data.description.endswith("…\n\nÂge : très vieille")


def test_mapping__images_keep_known_types_and_at_most_four(territory: Territory) -> None:
    names = ("a.JPG", "b.pdf", "sans-extension", "c d.png", "e.webp", "f.gif", "g.jpeg")

    data = snapshot_of(territory, make_product(images=names)).listings[0].data

    assert [(image.url, image.media_type) for image in data.images] == [
        ("https://ebs.example/uploads/a.JPG", "image/jpeg"),
        ("https://ebs.example/uploads/c%20d.png", "image/png"),
        ("https://ebs.example/uploads/e.webp", "image/webp"),
        ("https://ebs.example/uploads/f.gif", "image/gif"),
    ]
    assert {image.alt for image in data.images} == {"Perceuse"}


def test_mapping__deposit_in_cents_and_other_currencies(territory: Territory) -> None:
    euros, francs, none = (
        make_product(deposit=1250),
        make_product(deposit=2000, currency="CHF"),
        make_product(deposit=0),
    )

    listings = snapshot_of(territory, euros, francs, none).listings

    assert [(spec.data.deposit, spec.data.conditions) for spec in listings] == [
        ("12.50", ""),
        (None, "caution 20.00 CHF"),
        (None, ""),
    ]


def test_mapping__an_invalid_record_is_skipped_with_the_field(territory: Territory) -> None:
    empty_name, negative = make_product(name=""), make_product(deposit=-500)

    snapshot = snapshot_of(territory, empty_name, negative)

    assert snapshot.listings == []
    reasons = [skip.reason for skip in snapshot.skipped]
    assert reasons[0].startswith("invalid: title: String should have at least 1 character")
    assert reasons[1].startswith("invalid: deposit: Value error, must be a non-negative decimal number")


def test_mapping__service_fields_stay_off_objects_and_back(territory: Territory) -> None:
    lesson = make_product(
        type="service", category_id=LESSONS.id, deposit=1000, loan_duration="1 semaine", age="x"
    )

    data = snapshot_of(territory, lesson).listings[0].data

    assert (data.kind, data.exchange, data.deposit, data.loan_duration) == ("service", None, None, None)
    assert data.description == "Sans fil."  # the age of an object is not a service's duration


def test_mapping__a_place_without_name_or_coordinates(territory: Territory) -> None:
    nameless = replace(PLACE, id=uuid.uuid4(), name=None)
    nowhere = replace(PLACE, id=uuid.uuid4(), name="Relay", latitude=None, longitude=None)
    garbage = replace(PLACE, id=uuid.uuid4(), name="Garbage", latitude=512.0)
    item = make_product(owner_id=nameless.id)

    snapshot = snapshot_of(territory, item, owners=(nameless, nowhere, garbage))

    actors = {spec.key.id: spec for spec in snapshot.actors}
    assert actors[str(nowhere.id)].profile.username == "relay-lieu"  # a reserved name gets a suffix
    assert actors[str(nowhere.id)].profile.location is None
    assert actors[str(garbage.id)].profile.location is None
    assert Skip(SourceKey("place", str(nameless.id)), "place without a name") in snapshot.skipped
    assert Skip(SourceKey("product", str(item.id)), "its place is not published (place without a name)") in (
        snapshot.skipped
    )


def test_mapping__a_place_outside_the_territory_keeps_its_exact_address(territory: Territory) -> None:
    paris = replace(PLACE, id=uuid.uuid4(), latitude=48.8566, longitude=2.3522, postal_code="75004 CEDEX")

    spec = next(
        spec for spec in snapshot_of(territory, owners=(paris,)).actors if spec.key.id == str(paris.id)
    )

    assert isinstance(spec, ActorSpec) and spec.profile.location is not None
    location = spec.profile.location
    assert (location.latitude, location.commune_code, location.postal_code) == (48.8566, None, None)


def test_mapping__person_outside_the_globe_is_skipped(territory: Territory) -> None:
    lost = replace(PERSON, id=uuid.uuid4(), latitude=123.0)

    snapshot = snapshot_of(territory, make_product(owner_id=lost.id), owners=(lost,))

    assert [skip.reason for skip in snapshot.skipped] == ["its owner's address has invalid coordinates"]


def test_categories__node_mapping_then_names_then_fallback() -> None:
    parent = EbsCategory(uuid.uuid4(), None, "object", "Maison & Cuisine", "maison")
    child = EbsCategory(uuid.uuid4(), parent.id, "object", "Robots", "robots")
    loop = EbsCategory(uuid.uuid4(), None, "object", "Boucle", "boucle")
    loop = replace(loop, parent_id=loop.id)
    categories = {category.id: category for category in (parent, child, loop)}

    assert CategoryMapper(categories, {}).slug_for(child.id, "object") == "maison-cuisine"
    assert CategoryMapper(categories, {"robots": "multimedia-informatique"}).slug_for(child.id, "object") == (
        "multimedia-informatique"
    )
    assert CategoryMapper(categories, {}).slug_for(loop.id, "object") == "autres-objets"
    assert CategoryMapper(categories, {}).slug_for(uuid.uuid4(), "service") == "autres-services"
    assert CategoryMapper(categories, {}).slug_for(parent.id, "service") == "autres-services"  # kinds apart
