"""Full Rustine Libre runs: the stand-in over HTTP, ``read_rustine``, then ``synchronise`` on a real node
database (SQLite, then PostgreSQL). What was published is read back from the rows, the activities
recorded and the documents the node serves."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from fedicoop.connectors.errors import SourceFormatError, SourceResponseError
from fedicoop.connectors.rustine import RustineOptions, read_rustine
from fedicoop.connectors.summary import RunSummary, SyncAction
from fedicoop.connectors.sync import synchronise
from fedicoop.models.activities import Activity
from fedicoop.models.actors import Actor, Availability
from fedicoop.models.connectors import SourceLink
from fedicoop.models.events import Event
from fedicoop.models.listings import Listing
from fedicoop.models.states import ActorKind, LinkTarget, ListingState
from fedicoop.node import Node
from fedicoop.services.availability import free_slots, known_capacity
from fedicoop.settings import Settings
from tests.conftest import Clock, _settings
from tests.fedicoop.connectors.rustine_standin import Fault, RustineStandIn, running_standin
from tests.fedicoop.queue_helpers import open_node

pytestmark = pytest.mark.anyio

PRIVATE = (
    "06 12 34 56 78",
    "07 11 22 33 44",
    "jeanne.martin@example.org",
    "karim.benali@example.org",
    "Jeanne",
    "Benali",
    "Bernard",
    "Lefebvre",
    "Paul Durand",
    "07 98 76 54 32",
    "impasse de l'Essai",
    "/users/",
)
"""Owners, phones, e-mails, the repairers' private comments and a customer's appointment."""


@pytest.fixture
def node_settings(database_url: str, tmp_path: Path) -> Settings:
    """The node under test, allowed to reach the loopback stand-in."""
    return _settings(database_url, tmp_path, insecure_peers=True)


@pytest.fixture
async def node(node_settings: Settings, clock: Clock) -> AsyncIterator[Node]:
    """The node with its database open."""
    async with open_node(node_settings, clock) as opened:
        yield opened


@pytest.fixture
async def standin(clock: Clock) -> AsyncIterator[RustineStandIn]:
    """The stand-in instance, on the node's clock."""
    instance = RustineStandIn.from_fixtures(now=clock)
    async with running_standin(instance):
        yield instance


async def run(node: Node, standin: RustineStandIn, **options: Any) -> RunSummary:
    """One import: read the stand-in whole, then apply the snapshot."""
    snapshot = await read_rustine(RustineOptions(url=standin.base_url, **options), node, None)
    return await synchronise(snapshot, node)


def counts(summary: RunSummary, action: SyncAction) -> tuple[int, int, int]:
    return (
        summary.count(LinkTarget.ACTOR, action),
        summary.count(LinkTarget.LISTING, action),
        summary.count(LinkTarget.EVENT, action),
    )


async def activities() -> dict[str, tuple[str, str]]:
    """Every activity recorded: its id → (type, object id)."""
    return {str(row.id): (row.type, row.object_iri) for row in await Activity.all()}


async def since(before: dict[str, tuple[str, str]]) -> list[tuple[str, str]]:
    """(type, object id) of the activities recorded after ``before`` was taken."""
    return [value for key, value in (await activities()).items() if key not in before]


async def workshop(username: str) -> Actor:
    return await Actor.get(username=username).prefetch_related("location")


async def test_run__publishes_workshops_offers_slots_and_sessions(
    node: Node, standin: RustineStandIn
) -> None:
    summary = await run(node, standin)
    assert not summary.failed, summary.failures
    assert counts(summary, SyncAction.CREATED) == (3, 3, 20)
    names = (
        await Actor.filter(kind=ActorKind.WORKSHOP).order_by("username").values_list("username", flat=True)
    )
    assert names == ["atelier-velo-de-fives", "cycles-du-campus", "rustine-mobile"]

    fives = await workshop("atelier-velo-de-fives")
    availability = await Availability.get(actor=fives)
    assert availability.booking_url == f"{standin.base_url}/reparateur/1/creneaux"
    assert (availability.slot_minutes, availability.capacity) == (60, 2)
    offer = await Listing.get(actor=fives, deleted_at=None).prefetch_related("actor", "location")
    assert offer.state == ListingState.PUBLISHED and not known_capacity(offer)
    slots = await free_slots(offer, node.clock())
    assert slots[0].start.isoformat() == "2025-10-14T14:00:00+02:00"
    assert slots[0].end.isoformat() == "2025-10-14T15:00:00+02:00"
    assert await Event.filter(actor=fives, deleted_at=None).count() == 20

    document = await node.documents.actor_document(fives)
    assert document["type"] == "Organization"
    assert document["location"]["address"]["streetAddress"] == "12 rue de l'Exemple"
    assert document["location"]["communeCode"] == "59350"
    fields = {
        item["name"]: item.get("value") for item in document["attachment"] if item["type"] == "PropertyValue"
    }
    assert fields["Horaires"].startswith("mar.–ven. 14h–19h · sam. 10h–13h")
    assert f"{standin.base_url}/reparateur/1/creneaux" in fields["Rendez-vous"]

    note = node.documents.listing(offer)
    assert note["kind"] == "repair"
    assert "Révision 50 €" in note["content"] and "Réglage des freins 15 €" in note["content"]
    assert note["url"] == f"{standin.base_url}/reparateur/1/creneaux"


async def test_run__free_text_hours_without_structured_ones(node: Node, standin: RustineStandIn) -> None:
    await run(node, standin)
    document = await node.documents.actor_document(await workshop("cycles-du-campus"))
    fields = [
        (item["name"], item.get("value"))
        for item in document["attachment"]
        if item["type"] == "PropertyValue"
    ]
    assert [value for name, value in fields if name == "Horaires"] == [
        "Sur rendez-vous, du lundi au vendredi"
    ]


async def test_run__itinerant_workshop_serves_blurred_communes(node: Node, standin: RustineStandIn) -> None:
    await run(node, standin)
    offer = await Listing.get(actor=await workshop("rustine-mobile"), deleted_at=None).prefetch_related(
        "actor", "location"
    )
    location = node.documents.listing(offer)["location"]
    assert isinstance(location, list)
    assert [(place["name"], place["communeCode"], place["radius"]) for place in location] == [
        ("Roubaix", "59512", 3000.0),
        ("Tourcoing", "59599", 3600.0),
        ("Wattrelos", "59650", 4200.0),
    ]
    assert all("streetAddress" not in place.get("address", {}) for place in location)


async def test_run__second_run_sends_nothing(node: Node, standin: RustineStandIn) -> None:
    await run(node, standin)
    before = await activities()
    summary = await run(node, standin)
    assert counts(summary, SyncAction.UNCHANGED) == (3, 3, 20)
    assert summary.total(SyncAction.CREATED) == summary.total(SyncAction.UPDATED) == 0
    assert summary.total(SyncAction.WITHDRAWN) == 0
    assert await activities() == before


async def test_run__changes_become_updates_and_deletes(
    node: Node, standin: RustineStandIn, clock: Clock
) -> None:
    await run(node, standin)
    fives = await workshop("atelier-velo-de-fives")
    fives_id = node.documents.actors.actor_id(fives)

    clock.now += timedelta(minutes=10)
    standin.set_hours(1, [("tuesday", "14:00", "20:00"), ("saturday", "10:00", "13:00")])
    seen = await activities()
    summary = await run(node, standin)
    assert summary.count(LinkTarget.ACTOR, SyncAction.UPDATED) == 1
    new = await since(seen)
    assert ("Update", fives_id) in new
    document = await node.documents.actor_document(await workshop("atelier-velo-de-fives"))
    hours = [entry for entry in document["openingHoursSpecification"] if "dayOfWeek" in entry]
    assert [(entry["dayOfWeek"], entry["opens"], entry["closes"]) for entry in hours] == [
        (["https://schema.org/Tuesday"], "14:00", "20:00"),
        (["https://schema.org/Saturday"], "10:00", "13:00"),
    ]

    clock.now += timedelta(minutes=10)
    standin.add_closure(1, date(2025, 10, 28), date(2025, 10, 29))
    seen = await activities()
    summary = await run(node, standin)
    assert summary.count(LinkTarget.ACTOR, SyncAction.UPDATED) == 1
    assert ("Update", fives_id) in await since(seen)
    document = await node.documents.actor_document(await workshop("atelier-velo-de-fives"))
    closures = [entry for entry in document["openingHoursSpecification"] if "validFrom" in entry]
    assert ("2025-10-28", "2025-10-29") in [(entry["validFrom"], entry["validThrough"]) for entry in closures]
    # the Tuesday session of 28 October falls in the closure: it is withdrawn (deleted)
    assert summary.count(LinkTarget.EVENT, SyncAction.WITHDRAWN) == 1
    closed = await Event.get(actor=fives, start_time=datetime(2025, 10, 28, 13, 0, tzinfo=UTC))
    assert closed.deleted_at is not None and ("Delete", node.documents.object_id(closed)) in await since(seen)

    clock.now += timedelta(minutes=10)
    mobile = await workshop("rustine-mobile")
    mobile_id = node.documents.actors.actor_id(mobile)
    offer = await Listing.get(actor=mobile, deleted_at=None)
    standin.remove(2)
    seen = await activities()
    summary = await run(node, standin)
    assert summary.count(LinkTarget.ACTOR, SyncAction.WITHDRAWN) == 1
    assert summary.count(LinkTarget.LISTING, SyncAction.WITHDRAWN) == 1
    new = await since(seen)
    assert ("Delete", node.documents.object_id(offer)) in new
    assert ("Delete", mobile_id) in new
    assert (await Actor.get(username="rustine-mobile")).deleted_at is not None
    assert await SourceLink.filter(source_id="2").count() == 0


async def test_run__two_days_later(node: Node, standin: RustineStandIn, clock: Clock) -> None:
    await run(node, standin)
    fives = await workshop("atelier-velo-de-fives")
    tuesday = await Event.get(actor=fives, start_time=datetime(2025, 10, 14, 12, 0, tzinfo=UTC))
    clock.now += timedelta(days=2)  # Wednesday 15 October: Tuesday's session is over
    seen = await activities()
    summary = await run(node, standin)
    # the session of Tuesday 11 November enters the four weeks; the one that ended is forgotten
    assert summary.count(LinkTarget.EVENT, SyncAction.CREATED) == 1
    assert summary.count(LinkTarget.EVENT, SyncAction.WITHDRAWN) == 0
    assert (await Event.get(id=tuesday.id)).deleted_at is None
    assert await SourceLink.filter(kind="session", source_id="1-2025-10-14-14:00").count() == 0
    assert await Event.filter(actor=fives, start_time=datetime(2025, 11, 11, 13, 0, tzinfo=UTC)).exists()
    # the slots moved on: the imported copy is refreshed, with no Update of any profile
    assert summary.slots_refreshed == 2  # Fives and the itinerant one; the campus workshop has none
    offer = await Listing.get(actor=fives, deleted_at=None)
    assert (await free_slots(offer, clock.now))[0].start.isoformat() == "2025-10-15T14:00:00+02:00"
    assert all(kind != "Update" or "/actors/" not in iri for kind, iri in await since(seen))


async def test_run__disabled_repairer_is_withdrawn(node: Node, standin: RustineStandIn) -> None:
    await run(node, standin)
    standin.repairers[4]["enabled"] = False
    summary = await run(node, standin)
    assert summary.count(LinkTarget.ACTOR, SyncAction.WITHDRAWN) == 1
    assert (await Actor.get(username="cycles-du-campus")).deleted_at is not None


@pytest.mark.parametrize(
    ("path", "fault", "error"),
    [
        ("/repairer_interventions", Fault(500, b"{}"), SourceResponseError),
        ("/repairers/4", Fault(200, b'{"id": 4, '), SourceFormatError),
    ],
)
async def test_run__bad_source_writes_nothing_and_next_run_recovers(
    node: Node, standin: RustineStandIn, path: str, fault: Fault, error: type[Exception]
) -> None:
    standin.faults[path] = fault
    with pytest.raises(error):
        await run(node, standin)
    assert await SourceLink.all().count() == 0
    assert await Actor.filter(kind=ActorKind.WORKSHOP).count() == 0
    assert await Activity.all().count() == 0

    standin.faults.clear()
    summary = await run(node, standin)
    assert counts(summary, SyncAction.CREATED) == (3, 3, 20)

    standin.set_hours(4, [("monday", "09:00", "12:00")])
    del standin.repairers[1]["name"]
    seen = await activities()
    with pytest.raises(SourceFormatError, match="field 'name' is missing"):
        await run(node, standin)
    assert await activities() == seen
    standin.repairers[1]["name"] = "Atelier vélo de Fives"
    summary = await run(node, standin)
    assert summary.count(LinkTarget.ACTOR, SyncAction.UPDATED) == 1


async def test_run__nothing_private_is_published(node: Node, standin: RustineStandIn) -> None:
    await run(node, standin)
    published: list[Any] = [row.document for row in await Activity.all()]
    for actor in await Actor.filter(kind=ActorKind.WORKSHOP).prefetch_related("location"):
        published.append(await node.documents.actor_document(actor))
    for listing in await Listing.all().prefetch_related("actor", "location"):
        published.append(node.documents.listing(listing))
    for event in await Event.all().prefetch_related("actor", "location"):
        published.append(node.documents.event(event))
    text = json.dumps(published, ensure_ascii=False)
    assert "Atelier vélo de Fives" in text  # the check reads real documents
    for private in PRIVATE:
        assert private not in text, private
    assert not standin.requested("/appointments")


async def test_run__hostile_markup_at_the_source_is_never_published_live(
    node: Node, standin: RustineStandIn
) -> None:
    standin.repairers[1]["description"] = (
        '<p>Atelier</p><script>alert(1)</script><img src="x" onerror="alert(2)">'
        '<a href="javascript:alert(3)">lien</a>&lt;script&gt;alert(5)&lt;/script&gt;'
    )
    standin.repairers[1]["name"] = 'Fives <b onmouseover="alert(4)">vélo</b>'
    summary = await run(node, standin)
    assert not summary.failed, summary.failures
    published: list[Any] = [row.document for row in await Activity.all()]
    for actor in await Actor.filter(kind=ActorKind.WORKSHOP).prefetch_related("location"):
        published.append(await node.documents.actor_document(actor))
    text = json.dumps(published, ensure_ascii=False)
    assert "Fives vélo" in text and "Atelier" in text  # the check reads the real documents
    for live in ("<script", "<img", " onerror=", "javascript:", "<b", "onmouseover"):
        assert live not in text, live
