"""Activities: the union on type, tolerant reading of embedded objects, building what we send."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from schemas.activities import (
    ACTIVITY_TYPES,
    Accept,
    Announce,
    Create,
    Delete,
    Follow,
    Ignore,
    Join,
    Offer,
    Tombstone,
    Undo,
    Update,
    parse_activity,
)
from schemas.actors import Actor
from schemas.base import ASObject
from schemas.bookings import Agreement
from schemas.context import AS_CONTEXT, PUBLIC
from schemas.events import Event
from schemas.examples import load_example
from schemas.listings import Note
from schemas.rules import json_differences, shape_violations

MASTODON_NOTE: dict[str, Any] = {
    "id": "https://mastodon.example/users/camille/statuses/1",
    "type": "Note",
    "summary": None,
    "content": "<p>Bonjour</p>",
    "attributedTo": "https://mastodon.example/users/camille",
    "to": "https://www.w3.org/ns/activitystreams#Public",
    "sensitive": False,
}


def _create(obj: Any) -> dict[str, Any]:
    return {
        "id": "https://mastodon.example/users/camille/statuses/1/activity",
        "type": "Create",
        "actor": "https://mastodon.example/users/camille",
        "to": ["as:Public"],
        "object": obj,
    }


def test_parse_activity__create_of_a_listing() -> None:
    activity = parse_activity(_create(load_example("offer-loan")))
    assert isinstance(activity, Create)
    assert isinstance(activity.object, Note)
    assert activity.to == [PUBLIC]


def test_parse_activity__create_of_a_mastodon_note_is_kept_as_is() -> None:
    activity = parse_activity(_create(MASTODON_NOTE))
    assert isinstance(activity, Create)
    assert type(activity.object) is ASObject
    assert activity.object.to_wire()["sensitive"] is False


def test_parse_activity__update_of_an_event_and_of_an_actor() -> None:
    event = parse_activity({**_create(load_example("event")), "type": "Update"})
    actor = parse_activity({**_create(load_example("actor-organization")), "type": "Update"})
    assert isinstance(event, Update)
    assert isinstance(event.object, Event)
    assert isinstance(actor, Update)
    assert isinstance(actor.object, Actor)


def test_parse_activity__create_by_reference() -> None:
    activity = parse_activity(_create("https://mastodon.example/users/camille/statuses/1"))
    assert activity.object == "https://mastodon.example/users/camille/statuses/1"


def test_parse_activity__invalid_listing_is_an_error() -> None:
    broken = {**load_example("offer-loan"), "purpose": "sell"}
    with pytest.raises(ValidationError, match="purpose"):
        parse_activity(_create(broken))


def test_parse_activity__delete_by_id_and_by_tombstone() -> None:
    by_id = parse_activity({**load_example("delete"), "object": "https://partage-lille.example/listings/1"})
    by_tombstone = parse_activity(load_example("delete"))
    assert isinstance(by_id, Delete)
    assert by_id.object == "https://partage-lille.example/listings/1"
    assert isinstance(by_tombstone, Delete)
    assert isinstance(by_tombstone.object, Tombstone)
    assert by_tombstone.object.former_type == "Note"


def test_parse_activity__announce_with_embedded_object_keeps_the_id() -> None:
    document = {**load_example("announce"), "object": {"id": "https://a.example/notes/1", "type": "Note"}}
    activity = parse_activity(document)
    assert isinstance(activity, Announce)
    assert activity.object == "https://a.example/notes/1"


def test_parse_activity__accept_with_bare_follow_id() -> None:
    document = {**load_example("follow-accept"), "object": "https://mastodon.example/follows/1"}
    activity = parse_activity(document)
    assert isinstance(activity, Accept)
    assert activity.object == "https://mastodon.example/follows/1"


def test_parse_activity__accept_of_a_booking_has_the_agreement() -> None:
    activity = parse_activity(load_example("booking-accept"))
    assert isinstance(activity, Accept)
    assert isinstance(activity.result, Agreement)
    assert activity.result.stipulates.satisfies.endswith("#2025-10-14T12:00Z")


def test_parse_activity__undo_of_an_offer_and_of_a_like() -> None:
    offer = load_example("booking-offer")
    undo_offer = parse_activity(
        {"id": "https://a.example/u/1", "type": "Undo", "actor": offer["actor"], "object": offer}
    )
    undo_like = parse_activity(
        {
            "id": "https://a.example/u/2",
            "type": "Undo",
            "actor": offer["actor"],
            "object": {"id": "https://a.example/likes/1", "type": "Like", "object": "https://b.example/n/1"},
        }
    )
    assert isinstance(undo_offer, Undo)
    assert isinstance(undo_offer.object, Offer)
    assert isinstance(undo_like, Undo)
    assert type(undo_like.object) is ASObject


def test_parse_activity__follow_of_public_relay_style() -> None:
    activity = parse_activity(
        {
            "id": "https://mastodon.example/follows/relay",
            "type": "Follow",
            "actor": "https://mastodon.example/actor",
            "object": "as:Public",
        }
    )
    assert isinstance(activity, Follow)
    assert activity.object == PUBLIC


def test_parse_activity__join_then_ignore() -> None:
    join = parse_activity(
        {
            "id": "https://mobilizon.example/join/1",
            "type": "Join",
            "actor": "https://mobilizon.example/@alice",
            "object": "https://velo-fives.example/events/1",
        }
    )
    assert isinstance(join, Join)
    ignore = Ignore(
        id="https://velo-fives.example/activities/1", actor="https://velo-fives.example/actor", object=join.id
    )
    assert ignore.to_wire()["object"] == "https://mobilizon.example/join/1"


def test_parse_activity__unknown_type_is_an_error() -> None:
    assert "Like" not in ACTIVITY_TYPES
    with pytest.raises(ValidationError):
        parse_activity(
            {"id": "https://a.example/l/1", "type": "Like", "actor": "https://a.example/a", "object": "x"}
        )


def test_parse_activity__required_fields() -> None:
    with pytest.raises(ValidationError, match="actor"):
        parse_activity({"id": "https://a.example/f/1", "type": "Follow", "object": "https://b.example/a"})


def test_delete__built_with_a_tombstone() -> None:
    deleted = datetime(2025, 10, 20, 18, 2, 11, tzinfo=UTC)
    delete = Delete(
        context=AS_CONTEXT,
        id="https://partage-lille.example/activities/0199e6f0-1a2b-7c3d-8e4f-5a6b7c8d9e0f",
        actor="https://partage-lille.example/actors/partage-lille",
        object=Tombstone(
            id="https://partage-lille.example/listings/1ed7a2a8-0a77-6dbc-a34f-f3a729006754",
            former_type="Note",
            deleted=deleted,
        ),
        published=deleted,
        to=[PUBLIC],
        cc=["https://partage-lille.example/actors/partage-lille/followers"],
    )
    assert json_differences(load_example("delete"), delete.to_wire()) == []


def test_follow__accept_built_with_the_follow_embedded() -> None:
    follow = parse_activity(load_example("follow"))
    assert isinstance(follow, Follow)
    follow.context = None
    accept = Accept(
        context=AS_CONTEXT,
        id="https://velo-fives.example/activities/0199e3c1-7a20-7d11-b5c4-2f9e8d7c6b5a",
        actor="https://velo-fives.example/actors/atelier-fives",
        object=follow,
        to=[follow.actor],
    )
    assert json_differences(load_example("follow-accept"), accept.to_wire()) == []
    assert list(accept.to_wire()) == ["@context", "id", "type", "actor", "object", "to"]


def test_offer__built_for_a_booking_has_no_shape_violation() -> None:
    offer = parse_activity(load_example("booking-offer"))
    assert isinstance(offer, Offer)
    assert shape_violations(offer.to_wire()) == []
    assert json_differences(load_example("booking-offer"), offer.to_wire()) == []


@pytest.mark.parametrize("name", ["offer-loan", "event", "actor-organization"])
def test_create__built_with_a_model_instance_serialises_it(name: str) -> None:
    document = load_example(name)
    models: dict[str, type[Note] | type[Event] | type[Actor]] = {
        "offer-loan": Note,
        "event": Event,
        "actor-organization": Actor,
    }
    model = models[name].model_validate(document)
    create = Create(id=document["id"] + "#create", actor="https://velo-fives.example/actor", object=model)
    assert json_differences(document, create.to_wire()["object"]) == []


def test_create__built_with_a_tombstone_instance() -> None:
    tombstone = Tombstone(id="https://a.example/notes/1", former_type="Note")
    update = Update(id="https://a.example/u/1", actor="https://a.example/actors/a", object=tombstone)
    assert update.to_wire()["object"] == {
        "type": "Tombstone",
        "id": "https://a.example/notes/1",
        "formerType": "Note",
    }
