"""Collections: roots, typed pages and embedded first pages."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from schemas.activities import Create
from schemas.base import ASObject
from schemas.collections import Collection, OrderedCollection, OrderedCollectionPage
from schemas.examples import load_example

OUTBOX = "https://velo-fives.example/actors/atelier-fives/outbox"


def test_ordered_collection__followers_shows_only_total() -> None:
    root = OrderedCollection(id=OUTBOX.replace("outbox", "followers"), total_items=3)
    assert root.to_wire() == {
        "id": "https://velo-fives.example/actors/atelier-fives/followers",
        "type": "OrderedCollection",
        "totalItems": 3,
    }


def test_ordered_collection__embedded_first_page_tolerated() -> None:
    root = OrderedCollection.model_validate(
        {
            "id": OUTBOX,
            "type": "OrderedCollection",
            "first": {"type": "OrderedCollectionPage", "orderedItems": []},
        }
    )
    assert isinstance(root.first, ASObject)


def test_ordered_collection_page__outbox_of_creates() -> None:
    note = load_example("offer-loan")
    create = {
        "id": note["id"] + "#create",
        "type": "Create",
        "actor": note["attributedTo"],
        "object": note,
        "to": note["to"],
    }
    page = OrderedCollectionPage[Create].model_validate(
        {
            "id": OUTBOX + "?page=1",
            "type": "OrderedCollectionPage",
            "partOf": OUTBOX,
            "orderedItems": [create],
        }
    )
    assert isinstance(page.ordered_items[0], Create)


def test_ordered_collection_page__following_ids() -> None:
    page = OrderedCollectionPage[str](id=OUTBOX + "?page=1", ordered_items=["https://a.example/actors/a"])
    assert page.to_wire()["orderedItems"] == ["https://a.example/actors/a"]


def test_ordered_collection_page__negative_total_refused() -> None:
    with pytest.raises(ValidationError):
        OrderedCollection(id=OUTBOX, total_items=-1)


def test_collection__organizers() -> None:
    organizers = Collection(total_items=1, items=["https://velo-fives.example/actors/atelier-fives"])
    assert organizers.to_wire() == load_example("event")["organizers"]
