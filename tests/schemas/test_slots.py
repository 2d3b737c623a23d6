"""Slots: slot Intents, slot ids and the paged collection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from schemas.examples import load_example
from schemas.listings import Quantity
from schemas.rules import json_differences
from schemas.slots import SlotCollection, SlotIntent, SlotPage, slot_id

COLLECTION = "https://velo-fives.example/listings/0199d2a0-5e6f-7a81-92b3-c4d5e6f70812/slots"
PARIS_SUMMER = timezone(timedelta(hours=2))


def test_slot_id__utc_fragment_of_the_start() -> None:
    start = datetime(2025, 10, 14, 14, 0, tzinfo=PARIS_SUMMER)
    assert slot_id(COLLECTION, start) == COLLECTION + "#2025-10-14T12:00Z"
    assert slot_id(COLLECTION, start.astimezone(UTC)) == COLLECTION + "#2025-10-14T12:00Z"


def test_slot_id__naive_refused() -> None:
    with pytest.raises(ValueError, match="offset"):
        slot_id(COLLECTION, datetime(2025, 10, 14, 14, 0))


def test_slot_page__built_equals_the_example() -> None:
    one = Quantity(has_unit="one", has_numerical_value="1")
    items = []
    for hour, free in ((14, "2"), (15, "1")):
        start = datetime(2025, 10, 14, hour, 0, tzinfo=PARIS_SUMMER)
        items.append(
            SlotIntent(
                id=slot_id(COLLECTION, start),
                action="deliverService",
                resource_conforms_to="https://w3id.org/fedicoop/ns/categories/reparation-velo",
                has_beginning=start,
                has_end=start + timedelta(hours=1),
                resource_quantity=one,
                available_quantity=Quantity(has_unit="one", has_numerical_value=free),
            )
        )
    example = load_example("slot-page")
    page = SlotPage(
        context=example["@context"],
        id=COLLECTION + "?page=1",
        part_of=COLLECTION,
        next=COLLECTION + "?page=2",
        ordered_items=items,
    )
    assert json_differences(example, page.to_wire()) == []


def test_slot_intent__times_required() -> None:
    item = load_example("slot-page")["orderedItems"][0]
    without_end = {key: value for key, value in item.items() if key != "hasEnd"}
    with pytest.raises(ValidationError, match="hasEnd"):
        SlotIntent.model_validate(without_end)


def test_slot_collection__root_fields() -> None:
    root = SlotCollection.model_validate(load_example("slot-collection"))
    assert root.total_items == 37
    assert root.attributed_to == "https://velo-fives.example/actors/atelier-fives"


def test_slot_page__items_bound() -> None:
    item = load_example("slot-page")["orderedItems"][0]
    with pytest.raises(ValidationError):
        SlotPage.model_validate({"id": COLLECTION + "?page=1", "orderedItems": [item] * 501})
