"""The connectors' engine (fedicoop.connectors.sync) on hand-made snapshots, on SQLite and PostgreSQL.

Each test opens a real node database, applies snapshots with ``synchronise`` and reads back the rows,
the activities recorded and the deliveries queued; the last test delivers a workshop's ``Delete`` to a
loopback peer that checks its signature.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx
import pytest
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate

from fedicoop.clock import system_clock
from fedicoop.connectors import sync as sync_module
from fedicoop.connectors.errors import ConnectorError
from fedicoop.connectors.specs import (
    ActorSpec,
    EventSpec,
    ImportedSlot,
    ListingSpec,
    Skip,
    Snapshot,
    SourceKey,
)
from fedicoop.connectors.summary import RunSummary, SyncAction
from fedicoop.connectors.sync import synchronise
from fedicoop.db import migrate_database, open_database, tortoise_config
from fedicoop.domain.french import paris_zone
from fedicoop.ids import uuid7
from fedicoop.models.activities import Activity
from fedicoop.models.actors import Actor, Availability
from fedicoop.models.catalogue import CatalogueItem, CatalogueSlot
from fedicoop.models.connectors import SourceLink
from fedicoop.models.deliveries import Delivery
from fedicoop.models.events import Event
from fedicoop.models.listings import Listing
from fedicoop.models.states import DeliveryState, LinkTarget, ListingState
from fedicoop.network import open_network
from fedicoop.node import Node
from fedicoop.services.actors import create_actor
from fedicoop.services.availability import free_slots, known_capacity, set_availability
from fedicoop.services.listings import create_listing
from fedicoop.settings import Settings
from fedicoop.worker import DeliveryJob
from schemas.api import (
    ActorCreate,
    AvailabilityInput,
    ClosureInput,
    EventCreate,
    ListingCreate,
    OpeningRangeInput,
    PlaceInput,
)
from tests.conftest import Clock
from tests.federation.loopback import running_peer
from tests.fedicoop.queue_helpers import follower, open_node, relay_follower, trust

pytestmark = pytest.mark.anyio

SOURCE = "rustine https://rustine.example"
PARIS = paris_zone()
WORKSHOP = SourceKey("repairer", "1")
OFFER = SourceKey("offer", "1")
SESSION = SourceKey("session", "1-2025-10-18-10:00")
LOAN = SourceKey("product", "drill")
BOOKING_URL = "https://rustine.example/reparateur/1/creneaux"

FIVES = PlaceInput(
    name="Atelier vélo de Fives",
    latitude=50.6292,
    longitude=3.0886,
    street_address="12 rue de l'Exemple",
    postal_code="59800",
    locality="Lille",
    commune_code="59350",
    departement_code="59",
    region_code="32",
)
LILLE = PlaceInput(
    name="Lille",
    latitude=50.6309,
    longitude=3.0709,
    radius=7800,
    locality="Lille",
    commune_code="59350",
    departement_code="59",
)
ROUBAIX = PlaceInput(
    name="Roubaix",
    latitude=50.6912,
    longitude=3.174,
    radius=3000,
    locality="Roubaix",
    commune_code="59512",
    departement_code="59",
)


def workshop(**profile: Any) -> ActorSpec:
    """The Rustine workshop: Tuesday afternoons, bookings on Rustine's page."""
    values: dict[str, Any] = {
        "username": "atelier-fives",
        "kind": "workshop",
        "name": "Atelier vélo de Fives",
        "summary": "Réparation sur rendez-vous.",
        "location": FIVES,
    }
    values.update(profile)
    hours = AvailabilityInput(
        hours=[OpeningRangeInput(day="tuesday", opens=time(14), closes=time(19))], slot_minutes=60
    )
    return ActorSpec(
        WORKSHOP, ActorCreate.model_validate(values), availability=hours, booking_url=BOOKING_URL
    )


def slot(day: int, hour: int) -> ImportedSlot:
    start = datetime(2025, 10, day, hour, tzinfo=PARIS)
    return ImportedSlot(start, start + timedelta(hours=1))


def repair_offer(*slots: ImportedSlot, **data: Any) -> ListingSpec:
    values: dict[str, Any] = {
        "actor": "ignored",
        "kind": "repair",
        "title": "Réparation de vélo sur rendez-vous",
        "description": "Révision 50 €.",
    }
    values.update(data)
    return ListingSpec(
        OFFER, WORKSHOP, ListingCreate.model_validate(values), slots=slots or (slot(14, 14), slot(14, 15))
    )


def session(**data: Any) -> EventSpec:
    values: dict[str, Any] = {
        "actor": "ignored",
        "name": "Atelier d'autoréparation",
        "start_time": datetime(2025, 10, 18, 10, tzinfo=PARIS),
        "end_time": datetime(2025, 10, 18, 12, tzinfo=PARIS),
    }
    values.update(data)
    return EventSpec(SESSION, WORKSHOP, EventCreate.model_validate(values))


def loan(owner: str = "partage-lille", **options: Any) -> ListingSpec:
    data = ListingCreate(
        actor="ignored",
        kind="object",
        exchange="loan",
        title="Prêt : perceuse-visseuse 18 V",
        deposit="30.00",
        location=LILLE,
    )
    return ListingSpec(LOAN, owner, data, **options)


def snapshot(*specs: ActorSpec | ListingSpec | EventSpec, skipped: tuple[Skip, ...] = ()) -> Snapshot:
    return Snapshot(
        SOURCE,
        actors=[spec for spec in specs if isinstance(spec, ActorSpec)],
        listings=[spec for spec in specs if isinstance(spec, ListingSpec)],
        events=[spec for spec in specs if isinstance(spec, EventSpec)],
        skipped=list(skipped),
    )


def full() -> Snapshot:
    return snapshot(workshop(), repair_offer(), session(), loan())


@pytest.fixture
async def node(settings: Settings, clock: Clock) -> AsyncIterator[Node]:
    """A node at https://velo-fives.example with the cooperative ``partage-lille`` that EBS-like
    listings are attributed to."""
    async with open_node(settings, clock) as opened:
        await create_actor(
            ActorCreate(username="partage-lille", kind="cooperative", name="Partage Lille", location=LILLE),
            clock(),
        )
        yield opened


async def counts() -> tuple[int, int]:
    return await Activity.all().count(), await Delivery.all().count()


async def linked(target: LinkTarget, key: SourceKey) -> Any:
    link = await SourceLink.get(source=SOURCE, kind=key.kind, source_id=key.id)
    assert link.target == target
    model = {LinkTarget.ACTOR: Actor, LinkTarget.LISTING: Listing, LinkTarget.EVENT: Event}[target]
    return (
        await model.get(id=link.target_id).prefetch_related("actor", "location")
        if target != (LinkTarget.ACTOR)
        else await Actor.get(id=link.target_id)
    )


def counted(summary: RunSummary) -> dict[str, dict[str, int]]:
    return {target.value: {a.value: n for a, n in row.items() if n} for target, row in summary.counts.items()}


# Creating and doing nothing -------------------------------------------------------------------------


async def test_synchronise__creates_everything_then_a_second_run_sends_nothing(node: Node) -> None:
    phases: list[tuple[str, int, int | None]] = []
    first = await synchronise(full(), node, progress=lambda *args: phases.append(args))
    assert counted(first) == {"actor": {"created": 1}, "listing": {"created": 2}, "event": {"created": 1}}
    assert not first.failed and first.changed
    assert ("actors", 1, 1) in phases and ("listings", 2, 2) in phases and ("withdrawals", 0, 0) in phases
    actor = await linked(LinkTarget.ACTOR, WORKSHOP)
    assert (actor.username, actor.kind.value) == ("atelier-fives", "workshop")
    availability = await Availability.get(actor=actor)
    assert (availability.read_only, availability.booking_url) == (True, BOOKING_URL)
    offer = await linked(LinkTarget.LISTING, OFFER)
    assert offer.actor.id == actor.id and offer.imported_slots is not None
    event = await linked(LinkTarget.EVENT, SESSION)
    assert event.actor.id == actor.id and event.location.street_address == FIVES.street_address
    drill = await linked(LinkTarget.LISTING, LOAN)
    assert drill.actor.username == "partage-lille" and drill.location.radius == 7800
    creates = await Activity.filter(type="Create").values_list("object_iri", flat=True)
    assert sorted(creates) == sorted(
        [node.urls.listing(offer.id), node.urls.listing(drill.id), node.urls.event(event.id)]
    )
    before = await counts()

    second = await synchronise(full(), node)

    assert counted(second) == {
        "actor": {"unchanged": 1},
        "listing": {"unchanged": 2},
        "event": {"unchanged": 1},
    }
    assert not second.changed
    assert await counts() == before
    assert await SourceLink.filter(source=SOURCE).count() == 4


async def test_synchronise__snapshots_are_scoped_by_source(node: Node) -> None:
    await synchronise(snapshot(loan()), node)
    other = Snapshot("ebs ebs@db.example:5432/ebs", listings=[loan()])
    summary = await synchronise(other, node)
    assert summary.count(LinkTarget.LISTING, SyncAction.CREATED) == 1
    assert await Listing.filter(deleted_at=None, title__startswith="Prêt").count() == 2
    emptied = await synchronise(Snapshot("ebs ebs@db.example:5432/ebs"), node)
    assert emptied.count(LinkTarget.LISTING, SyncAction.WITHDRAWN) == 1
    assert await SourceLink.filter(source=SOURCE).count() == 1  # the other source's link is left alone


# Updating ---------------------------------------------------------------------------------------------


async def new_activities(before: set[Any]) -> list[Activity]:
    return [row for row in await Activity.all() if row.id not in before]


async def activity_ids() -> set[Any]:
    return set(await Activity.all().values_list("id", flat=True))


async def test_synchronise__changes_become_updates_of_what_changed_only(node: Node, clock: Clock) -> None:
    await synchronise(full(), node)
    before = await activity_ids()
    clock.now += timedelta(minutes=5)
    later = snapshot(
        workshop(name="Atelier vélo de Fives-Lille"),
        repair_offer(),
        session(name="Atelier d'autoréparation du samedi"),
        loan(),
    )

    summary = await synchronise(later, node)

    assert counted(summary) == {
        "actor": {"updated": 1},
        "listing": {"unchanged": 2},
        "event": {"updated": 1},
    }
    documents = {row.document["object"]["type"]: row for row in await new_activities(before)}
    assert sorted(documents) == ["Event", "Organization"]
    assert {row.type for row in documents.values()} == {"Update"}
    assert documents["Organization"].document["object"]["name"] == "Atelier vélo de Fives-Lille"
    assert documents["Event"].document["object"]["name"] == "Atelier d'autoréparation du samedi"
    actor = await linked(LinkTarget.ACTOR, WORKSHOP)
    assert (actor.username, actor.name) == ("atelier-fives", "Atelier vélo de Fives-Lille")


async def test_synchronise__hours_alone_send_one_actor_update(node: Node) -> None:
    await synchronise(full(), node)
    before = await activity_ids()
    closed = workshop()
    assert closed.availability is not None
    hours = closed.availability.model_copy(
        update={"closures": [ClosureInput(start=date(2025, 12, 24), end=date(2026, 1, 2))]}
    )
    changed = replace(closed, availability=hours)

    summary = await synchronise(snapshot(changed, repair_offer(), session(), loan()), node)

    assert summary.count(LinkTarget.ACTOR, SyncAction.UPDATED) == 1
    (update,) = await new_activities(before)
    assert (update.type, update.document["object"]["type"]) == ("Update", "Organization")
    specification = update.document["object"]["openingHoursSpecification"]
    assert {"validFrom": "2025-12-24", "validThrough": "2026-01-02"}.items() <= specification[-1].items()


async def test_synchronise__listing_changes_pause_and_resume(node: Node) -> None:
    await synchronise(full(), node)
    paused = snapshot(workshop(), repair_offer(), session(), loan(paused=True))

    summary = await synchronise(paused, node)

    assert summary.count(LinkTarget.LISTING, SyncAction.UPDATED) == 1
    drill = await linked(LinkTarget.LISTING, LOAN)
    assert drill.state == ListingState.PAUSED
    update = await Activity.filter(type="Update", object_iri=node.urls.listing(drill.id)).first()
    assert update is not None
    note = update.document["object"]
    assert note["content"].startswith("<p><strong>[En pause] Prêt")
    assert note["publishes"]["availableQuantity"]["hasNumericalValue"] == "0"
    resumed = await synchronise(full(), node)
    assert resumed.count(LinkTarget.LISTING, SyncAction.UPDATED) == 1
    assert (await linked(LinkTarget.LISTING, LOAN)).state == ListingState.PUBLISHED


async def test_synchronise__a_new_owner_or_nature_withdraws_and_publishes_anew(node: Node) -> None:
    await synchronise(full(), node)
    old = await linked(LinkTarget.LISTING, LOAN)
    gift = ListingSpec(
        LOAN, WORKSHOP, ListingCreate(actor="x", kind="object", exchange="gift", title="Perceuse")
    )

    summary = await synchronise(snapshot(workshop(), repair_offer(), session(), gift), node)

    assert summary.count(LinkTarget.LISTING, SyncAction.UPDATED) == 1
    new = await linked(LinkTarget.LISTING, LOAN)
    assert new.id != old.id and new.actor.username == "atelier-fives"
    assert (await Listing.get(id=old.id)).state == ListingState.WITHDRAWN
    delete = await Activity.get(type="Delete", object_iri=node.urls.listing(old.id))
    assert delete.document["object"]["type"] == "Tombstone"
    assert await Activity.exists(type="Create", object_iri=node.urls.listing(new.id))


# Withdrawing ------------------------------------------------------------------------------------------


async def test_synchronise__records_that_leave_the_source_are_withdrawn(node: Node, clock: Clock) -> None:
    await synchronise(full(), node)
    actor = await linked(LinkTarget.ACTOR, WORKSHOP)
    offer = await linked(LinkTarget.LISTING, OFFER)
    event = await linked(LinkTarget.EVENT, SESSION)
    actor_iri = node.urls.actor(actor.username)
    assert await CatalogueItem.exists(iri=node.urls.listing(offer.id))
    skip = Skip(WORKSHOP, "not enabled")

    summary = await synchronise(snapshot(loan(), skipped=(skip,)), node)

    assert counted(summary) == {
        "actor": {"withdrawn": 1},
        "listing": {"withdrawn": 1, "unchanged": 1},
        "event": {"withdrawn": 1},
    }
    assert summary.skipped == [skip]
    assert "  skipped repairer 1: not enabled" in summary.lines()
    deletes = {row.object_iri: row for row in await Activity.filter(type="Delete")}
    assert set(deletes) == {node.urls.listing(offer.id), node.urls.event(event.id), actor_iri}
    actor_delete = deletes[actor_iri].document
    assert (actor_delete["actor"], actor_delete["object"]) == (actor_iri, actor_iri)
    assert deletes[node.urls.listing(offer.id)].document["object"]["type"] == "Tombstone"
    assert (await Actor.get(id=actor.id)).deleted_at == clock.now
    assert not await CatalogueItem.exists(iri=node.urls.listing(offer.id))
    assert await SourceLink.filter(source=SOURCE).values_list("kind", flat=True) == ["product"]
    again = await synchronise(snapshot(loan()), node)
    assert not again.changed


async def test_synchronise__an_event_that_has_ended_is_forgotten_not_deleted(
    node: Node, clock: Clock
) -> None:
    await synchronise(full(), node)
    event = await linked(LinkTarget.EVENT, SESSION)
    clock.now = datetime(2025, 10, 19, 8, tzinfo=UTC)

    summary = await synchronise(snapshot(workshop(), repair_offer(), loan()), node)

    assert summary.count(LinkTarget.EVENT, SyncAction.WITHDRAWN) == 0
    assert (await Event.get(id=event.id)).deleted_at is None
    assert not await Activity.exists(type="Delete")
    assert not await SourceLink.exists(source=SOURCE, kind=SESSION.kind)


async def test_synchronise__an_object_deleted_on_the_node_is_published_again(node: Node) -> None:
    await synchronise(full(), node)
    drill = await linked(LinkTarget.LISTING, LOAN)
    await Listing.filter(id=drill.id).update(deleted_at=drill.published, state=ListingState.WITHDRAWN)

    summary = await synchronise(full(), node)

    assert summary.count(LinkTarget.LISTING, SyncAction.CREATED) == 1
    assert (await linked(LinkTarget.LISTING, LOAN)).id != drill.id


# Checking the snapshot first --------------------------------------------------------------------------


async def nothing_written() -> None:
    assert await SourceLink.all().count() == 0
    assert await Activity.all().count() == 0
    assert await Actor.filter(username="atelier-fives").count() == 0


async def test_synchronise__an_unknown_local_owner_is_refused_before_anything_is_written(node: Node) -> None:
    with pytest.raises(ConnectorError, match=r"owner 'coop-inconnue': no such actor") as caught:
        await synchronise(snapshot(workshop(), repair_offer(), loan(owner="coop-inconnue")), node)
    assert str(caught.value).startswith(SOURCE)
    await nothing_written()


async def test_synchronise__an_owner_key_missing_from_the_snapshot_is_refused(node: Node) -> None:
    with pytest.raises(ConnectorError) as caught:
        await synchronise(snapshot(repair_offer(), session()), node)
    message = str(caught.value)
    assert "offer 1: its owner repairer 1 is not an actor of the snapshot" in message
    assert "session 1-2025-10-18-10:00: its owner repairer 1 is not an actor" in message
    await nothing_written()


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda: snapshot(workshop(), loan(), loan()), "product drill: the key is used twice"),
        (
            lambda: snapshot(workshop(), repair_offer(ImportedSlot(slot(14, 14).end, slot(14, 14).start))),
            "offer 1: slot 2025-10-14T15:00:00+02:00 ends at 2025-10-14T14:00:00+02:00, not after",
        ),
        (
            lambda: snapshot(workshop(), loan(slots=(slot(14, 14),))),
            "product drill: only a repair offer has slots",
        ),
        (
            lambda: snapshot(workshop(), loan(), skipped=(Skip(LOAN, "restricted"),)),
            "product drill: both published and skipped (restricted)",
        ),
        (
            lambda: snapshot(ListingSpec(OFFER, "partage-lille", repair_offer().data)),
            "offer 1: a repair offer needs a workshop, local actor 'partage-lille' is not",
        ),
        (
            lambda: snapshot(workshop(location=None), EventSpec(SESSION, WORKSHOP, session().data)),
            "no location, and actor repairer 1 has none",
        ),
    ],
)
async def test_synchronise__inconsistent_snapshots_are_refused(
    node: Node, make: Callable[[], Snapshot], problem: str
) -> None:
    with pytest.raises(ConnectorError) as caught:
        await synchronise(make(), node)
    assert problem in str(caught.value)
    await nothing_written()


# Usernames and ids -------------------------------------------------------------------------------------


async def test_synchronise__a_taken_username_gets_a_suffix_kept_afterwards(node: Node, clock: Clock) -> None:
    for username in ("atelier-fives", "atelier-fives-2"):
        await create_actor(ActorCreate(username=username, kind="workshop", name=username), clock())
    long_name = "a" * 64
    other = ActorSpec(SourceKey("repairer", "2"), workshop(username=long_name).profile)
    long_taken = ActorCreate(username=long_name, kind="workshop", name="Long")
    await create_actor(long_taken, clock())

    await synchronise(snapshot(workshop(), other), node)

    assert (await linked(LinkTarget.ACTOR, WORKSHOP)).username == "atelier-fives-3"
    assert (await linked(LinkTarget.ACTOR, SourceKey("repairer", "2"))).username == "a" * 62 + "-2"
    renamed = workshop(username="atelier-lille", name="Atelier de Lille")
    summary = await synchronise(snapshot(renamed, other), node)
    assert summary.count(LinkTarget.ACTOR, SyncAction.UPDATED) == 1
    actor = await linked(LinkTarget.ACTOR, WORKSHOP)
    assert (actor.username, actor.name) == ("atelier-fives-3", "Atelier de Lille")


async def test_synchronise__the_source_listing_id_is_reused_unless_taken(node: Node, clock: Clock) -> None:
    wanted, taken = uuid7(), uuid7()
    existing = ListingCreate(actor="partage-lille", kind="object", exchange="gift", title="Chaise")
    await create_listing(existing, node.publisher, clock(), listing_id=taken)
    first = replace(loan(), listing_id=wanted)
    second = replace(loan(), key=SourceKey("product", "saw"), listing_id=taken)

    await synchronise(snapshot(first, second), node)

    assert (await linked(LinkTarget.LISTING, LOAN)).id == wanted
    other = await linked(LinkTarget.LISTING, SourceKey("product", "saw"))
    assert other.id not in (wanted, taken) and other.id.version == 7


# Documents ---------------------------------------------------------------------------------------------


async def test_synchronise__an_itinerant_workshop_offer_has_its_served_places(node: Node) -> None:
    itinerant = replace(repair_offer(), served_places=(LILLE, ROUBAIX))
    await synchronise(snapshot(workshop(), itinerant), node)
    offer = await linked(LinkTarget.LISTING, OFFER)

    document = node.documents.listing(offer)

    places = document["location"]
    assert [place["name"] for place in places] == ["Lille", "Roubaix"]
    assert all("id" not in place and place["units"] == "m" for place in places)
    assert [place["radius"] for place in places] == [7800.0, 3000.0]
    assert all(set(place["address"]) == {"type", "addressLocality", "addressCountry"} for place in places)
    assert "itinérant : Lille, Roubaix" in document["content"]
    assert "rue de l" not in json.dumps(places)
    item = await CatalogueItem.get(iri=document["id"])
    assert isinstance(item.document["location"], list) and item.location_name == "Lille"
    moved = replace(itinerant, served_places=(ROUBAIX,))
    summary = await synchronise(snapshot(workshop(), moved), node)
    assert summary.count(LinkTarget.LISTING, SyncAction.UPDATED) == 1
    offer = await linked(LinkTarget.LISTING, OFFER)
    assert [place["name"] for place in node.documents.listing(offer)["location"]] == ["Roubaix"]
    assert offer.location.name == "Roubaix"


async def test_synchronise__imported_slots_served_without_capacity(node: Node, clock: Clock) -> None:
    await synchronise(full(), node)
    offer = await linked(LinkTarget.LISTING, OFFER)
    assert not known_capacity(offer)

    slots = await free_slots(offer, clock())
    page = node.documents.slot_page(offer, slots, 1, known_capacity=known_capacity(offer))

    assert [item["hasBeginning"] for item in page["orderedItems"]] == [
        "2025-10-14T14:00:00+02:00",
        "2025-10-14T15:00:00+02:00",
    ]
    assert all("availableQuantity" not in item for item in page["orderedItems"])
    assert page["orderedItems"][0]["id"].endswith("/slots#2025-10-14T12:00Z")
    assert offer.next_slot == datetime(2025, 10, 14, 12, tzinfo=UTC)
    item = await CatalogueItem.get(iri=node.urls.listing(offer.id))
    assert await CatalogueSlot.filter(item=item).count() == 2
    actor = await linked(LinkTarget.ACTOR, WORKSHOP)
    document = await node.documents.actor_document(actor)
    rendez_vous = next(field for field in document["attachment"] if field.get("name") == "Rendez-vous")
    assert BOOKING_URL in rendez_vous["value"]


async def test_synchronise__the_node_serves_imported_slots_without_capacity(
    node: Node, client: httpx.AsyncClient
) -> None:
    await synchronise(full(), node)
    offer = await linked(LinkTarget.LISTING, OFFER)
    accept = {"Accept": "application/activity+json"}

    root = await client.get(f"/listings/{offer.id}/slots", headers=accept)
    page = await client.get(f"/listings/{offer.id}/slots?page=1", headers=accept)
    html = await client.get(f"/listings/{offer.id}/slots?page=1", headers={"Accept": "text/html"})
    actor = await client.get("/actors/atelier-fives", headers=accept)

    assert root.status_code == page.status_code == html.status_code == actor.status_code == 200
    assert root.json()["totalItems"] == 2
    items = page.json()["orderedItems"]
    assert len(items) == 2 and all("availableQuantity" not in item for item in items)
    assert "14:00" in html.text or "14h" in html.text
    assert "slot-free" not in html.text
    fields = {field["name"]: field.get("value", "") for field in actor.json()["attachment"]}
    assert BOOKING_URL in fields["Rendez-vous"]


async def test_synchronise__new_imported_slots_refresh_the_collection_and_a_due_next_slot(
    node: Node, clock: Clock
) -> None:
    await synchronise(full(), node)
    activities = await Activity.all().count()
    offer_iri = node.urls.listing((await linked(LinkTarget.LISTING, OFFER)).id)
    fewer = snapshot(workshop(), repair_offer(slot(14, 15), slot(21, 14)), session(), loan())

    summary = await synchronise(fewer, node)

    assert summary.slots_refreshed == 1 and summary.changed
    assert summary.count(LinkTarget.LISTING, SyncAction.UNCHANGED) == 2
    item = await CatalogueItem.get(iri=offer_iri)
    starts = await CatalogueSlot.filter(item=item).order_by("starts_at").values_list("starts_at", flat=True)
    assert [start.astimezone(UTC).hour for start in starts] == [13, 12]
    assert await Activity.all().count() == activities  # nextSlot changed, but its Update waits (§6.1)
    assert not (await synchronise(fewer, node)).changed
    clock.now += timedelta(hours=25)
    later = snapshot(workshop(), repair_offer(slot(21, 14), slot(21, 15)), session(), loan())
    assert (await synchronise(later, node)).slots_refreshed == 1
    update = await Activity.filter(type="Update", object_iri=offer_iri).order_by("-published").first()
    assert update is not None and update.document["object"]["nextSlot"] == "2025-10-21T14:00:00+02:00"


async def test_synchronise__a_workshop_s_own_horaires_field_replaces_the_derived_one(node: Node) -> None:
    own = workshop(fields=[{"name": "Horaires", "value": "Sur rendez-vous, du lundi au vendredi"}])
    await synchronise(snapshot(replace(own, availability=AvailabilityInput())), node)
    document = await node.documents.actor_document(await linked(LinkTarget.ACTOR, WORKSHOP))
    values = [field["value"] for field in document["attachment"] if field.get("name") == "Horaires"]
    assert values == ["Sur rendez-vous, du lundi au vendredi"]
    derived = await create_actor(
        ActorCreate(username="atelier-local", kind="workshop", name="Local"), node.clock()
    )
    await set_availability(
        derived.username, workshop().availability or AvailabilityInput(), node.publisher, node.clock()
    )
    document = await node.documents.actor_document(derived)
    values = [field["value"] for field in document["attachment"] if field.get("name") == "Horaires"]
    assert len(values) == 1 and "14h" in values[0]


async def test_synchronise__a_swap_is_published_as_a_swap(node: Node) -> None:
    swap = ListingSpec(
        SourceKey("product", "bd"),
        "partage-lille",
        ListingCreate(actor="x", kind="object", exchange="swap", title="Lot de bandes dessinées"),
    )
    await synchronise(snapshot(swap), node)
    listing = await linked(LinkTarget.LISTING, swap.key)
    assert listing.exchange is not None and listing.exchange.value == "swap"

    document = node.documents.listing(listing)

    assert document["publishes"]["action"] == "transfer"
    assert "à échanger" in document["content"] and "gratuit" not in document["content"]
    assert [tag["name"] for tag in document["tag"]] == ["#Echange", "#Lille"]
    gift = ListingCreate(actor="partage-lille", kind="object", exchange="gift", title="Chaise")
    gift_document = node.documents.listing(await create_listing(gift, node.publisher, node.clock()))
    assert "gratuit" in gift_document["content"] and gift_document["tag"][0]["name"] == "#Don"


# Failures ----------------------------------------------------------------------------------------------


async def test_synchronise__a_record_the_services_refuse_is_reported_and_the_others_go_on(
    node: Node, clock: Clock
) -> None:
    await create_actor(ActorCreate(username="velo-local", kind="workshop", name="Vélo local"), clock())
    existing = ListingCreate(actor="velo-local", kind="repair", title="Réparation")
    await create_listing(existing, node.publisher, clock())
    second_offer = ListingSpec(SourceKey("offer", "2"), "velo-local", repair_offer().data)

    summary = await synchronise(snapshot(second_offer, loan()), node)

    assert summary.failed
    (failure,) = summary.failures
    assert (failure.key, failure.target) == (SourceKey("offer", "2"), LinkTarget.LISTING)
    assert "already has a repair offer" in failure.message
    assert summary.count(LinkTarget.LISTING, SyncAction.CREATED) == 1
    assert summary.to_json()["failed"][0]["id"] == "2"
    assert not await SourceLink.exists(kind="offer")


async def test_synchronise__an_actor_whose_change_fails_keeps_its_objects_in_step(node: Node) -> None:
    place = ActorSpec(
        SourceKey("place", "p1"), ActorCreate(username="ressourcerie", kind="place", name="Ressourcerie")
    )
    data = ListingCreate(actor="x", kind="object", exchange="gift", title="Chaise", location=LILLE)
    chair = ListingSpec(SourceKey("product", "chair"), place.key, data)
    await synchronise(snapshot(place, chair), node)
    hours = workshop().availability  # a place has no repair availability: the service refuses it
    renamed = replace(chair, data=data.model_copy(update={"title": "Chaise en bois"}))

    summary = await synchronise(snapshot(replace(place, availability=hours), renamed), node)

    (failure,) = summary.failures
    assert failure.key == place.key and "only a workshop has repair availability" in failure.message
    assert summary.count(LinkTarget.LISTING, SyncAction.UPDATED) == 1
    assert (await linked(LinkTarget.LISTING, chair.key)).title == "Chaise en bois"


async def test_synchronise__a_crash_midway_keeps_what_was_applied_and_the_next_run_goes_on(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the process died here")

    monkeypatch.setattr(sync_module, "create_event", broken)
    with pytest.raises(RuntimeError):
        await synchronise(full(), node)
    assert sorted(await SourceLink.all().values_list("kind", flat=True)) == ["offer", "product", "repairer"]
    assert not await Event.exists()
    monkeypatch.undo()

    summary = await synchronise(full(), node)

    assert counted(summary) == {
        "actor": {"unchanged": 1},
        "listing": {"unchanged": 2},
        "event": {"created": 1},
    }
    assert await Actor.filter(username__startswith="atelier-fives").count() == 1


# The Delete of an actor --------------------------------------------------------------------------------


async def test_synchronise__a_removed_workshop_sends_a_signed_delete_to_its_and_the_relays_followers(
    settings: Settings,
) -> None:
    live = settings.model_copy(update={"insecure_peers": True})
    clock = system_clock  # the peer checks the signed Date against its own clock
    async with running_peer() as peer, open_node(live, clock) as node:
        await synchronise(snapshot(workshop()), node)
        actor = await linked(LinkTarget.ACTOR, WORKSHOP)
        await trust(peer, node, actor)
        peer.serve("/inbox", b"", status=202, method="POST")
        peer.serve("/relay/inbox", b"", status=202, method="POST")
        await follower(
            actor,
            peer.url("/users/camille"),
            peer.url("/users/camille/inbox"),
            clock(),
            shared_inbox=peer.url("/inbox"),
        )
        await relay_follower(node, peer.url("/relay"), peer.url("/relay/inbox"), clock())

        summary = await synchronise(snapshot(skipped=(Skip(WORKSHOP, "not enabled"),)), node)

        assert summary.count(LinkTarget.ACTOR, SyncAction.WITHDRAWN) == 1
        delete = await Activity.get(type="Delete")
        rows = await Delivery.filter(activity_id=delete.id).order_by("inbox")
        assert [row.inbox for row in rows] == [peer.url("/inbox"), peer.url("/relay/inbox")]
        async with open_network(node) as network:
            job = DeliveryJob(network, "test-worker", concurrency=4, rng=random.Random(0))
            while await job(clock()):
                pass
            await job.drain()
        assert await Delivery.filter(state=DeliveryState.DELIVERED).count() == 2
        actor_iri = node.urls.actor("atelier-fives")
        for path in ("/inbox", "/relay/inbox"):
            (hit,) = peer.requests_to(path, "POST")
            assert (hit.signer, hit.signature_error) == (actor_iri, None)
            body = json.loads(hit.body)
            assert (body["type"], body["actor"], body["object"]) == ("Delete", actor_iri, actor_iri)
        assert re.fullmatch(r"https://velo-fives\.example/activities/[0-9a-f-]{36}", delete.document["id"])


# The migration -----------------------------------------------------------------------------------------


async def test_migration__object_listings_stored_before_get_their_exchange(unmigrated: Settings) -> None:
    url = unmigrated.effective_database_url
    context = TortoiseContext()
    with context:
        try:
            await migrate(config=tortoise_config(url), target="fedicoop.0005_search_indexes")
        finally:
            await context.close_connections()
    actor_id = uuid7()
    rows = {
        "loan": ("transferCustody", "NULL"),
        "sale": ("transfer", "'12.00'"),
        "gift": ("transfer", "NULL"),
    }
    async with open_database(unmigrated):
        stamp = "'2025-10-01 10:00:00+00:00'"
        statements = [
            "INSERT INTO actor (id, username, kind, name, summary, manually_approves_followers, "  # noqa: S608
            "discoverable, indexable, fields_json, published, updated) VALUES "
            f"('{actor_id}', 'coop', 'cooperative', 'Coop', '', FALSE, TRUE, TRUE, '[]', {stamp}, {stamp})"
        ]
        for title, (action, price) in [*rows.items(), ("service", ("deliverService", "NULL"))]:
            kind = "service" if title == "service" else "object"
            statements.append(
                "INSERT INTO listing (id, actor_id, kind, purpose, action, state, title, "  # noqa: S608
                "description, conditions, category, classified_as, quantity, price, unit_based, tags, "
                f"images, published, updated) VALUES ('{uuid7()}', '{actor_id}', '{kind}', 'offer', "
                f"'{action}', 'published', '{title}', '', '', 'autres-objets', '[]', '1', {price}, FALSE, "
                f"'[]', '[]', {stamp}, {stamp})"
            )
        await Actor._meta.db.execute_script(";\n".join(statements))
    assert await migrate_database(unmigrated) == ["fedicoop.0006_connectors"]
    async with open_database(unmigrated):
        found = {row.title: row.exchange for row in await Listing.all()}
    assert {title: exchange.value if exchange else None for title, exchange in found.items()} == {
        "loan": "loan",
        "sale": "sale",
        "gift": "gift",
        "service": None,
    }
