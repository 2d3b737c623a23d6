"""Shape rules of the wire format, and the strict JSON comparison used by the golden tests."""

from __future__ import annotations

import copy
from typing import Any

from schemas.context import PUBLIC
from schemas.examples import load_example
from schemas.rules import json_differences, shape_violations


def _offer() -> dict[str, Any]:
    document: dict[str, Any] = load_example("offer-loan")
    return copy.deepcopy(document)


def test_shape_violations__int_latitude() -> None:
    document = _offer()
    document["location"]["latitude"] = 50
    assert shape_violations(document) == [
        "$.location.latitude: expected a JSON float such as 50.0, got int 50",
    ]


def test_shape_violations__string_longitude_and_radius() -> None:
    document = _offer()
    document["location"]["longitude"] = "3.0709"
    document["location"]["radius"] = 7800
    found = shape_violations(document)
    assert len(found) == 2
    assert found[0].startswith("$.location.longitude: expected a JSON float")
    assert found[1].startswith("$.location.radius: expected a JSON float")


def test_shape_violations__coordinates_in_a_list_of_places() -> None:
    document = _offer()
    place = document["location"]
    document["location"] = [place, {**place, "latitude": 50}]
    assert shape_violations(document) == [
        "$.location[1].latitude: expected a JSON float such as 50.0, got int 50",
    ]


def test_shape_violations__note_with_summary() -> None:
    document = _offer()
    document["summary"] = "Prêt"
    assert shape_violations(document) == [
        "$.summary: a listing Note has no summary (Mastodon and GoToSocial would hide its body)",
    ]


def test_shape_violations__note_with_name() -> None:
    document = _offer()
    document["name"] = "Prêt : perceuse"
    assert [v.split(":")[0] for v in shape_violations(document)] == ["$.name"]


def test_shape_violations__note_without_purpose_may_have_summary() -> None:
    document = {"type": "Note", "summary": "CW", "content": "x"}
    assert shape_violations(document) == []


def test_shape_violations__listing_embedded_in_create() -> None:
    note = _offer()
    note["summary"] = "x"
    document = {"type": "Create", "object": note, "to": [PUBLIC]}
    assert [v.split(":")[0] for v in shape_violations(document)] == ["$.object.summary"]


def test_shape_violations__to_not_an_array() -> None:
    document = _offer()
    document["to"] = PUBLIC
    assert shape_violations(document) == [f"$.to: expected an array, got str {PUBLIC!r}"]


def test_shape_violations__short_public() -> None:
    document = _offer()
    document["to"] = ["as:Public"]
    document["cc"] = ["Public"]
    found = shape_violations(document)
    assert [v.split(":")[0] for v in found] == ["$.to[0]", "$.cc[0]"]
    assert PUBLIC in found[0]


def test_shape_violations__published_without_z() -> None:
    document = _offer()
    document["published"] = "2025-10-02T09:15:00+02:00"
    document["updated"] = "2025-10-02T07:15:00.250Z"
    assert [v.split(":")[0] for v in shape_violations(document)] == ["$.published", "$.updated"]


def test_shape_violations__deleted_in_tombstone() -> None:
    document = load_example("delete")
    document["object"]["deleted"] = "2025-10-20 18:02:11"
    assert [v.split(":")[0] for v in shape_violations(document)] == ["$.object.deleted"]


def test_shape_violations__wall_clock_without_offset() -> None:
    document = load_example("slot-page")
    document["orderedItems"][1]["hasEnd"] = "2025-10-14T16:00:00"
    document["orderedItems"][0]["hasBeginning"] = "2025-10-14T12:00:00Z"
    assert [v.split(":")[0] for v in shape_violations(document)] == [
        "$.orderedItems[0].hasBeginning",
        "$.orderedItems[1].hasEnd",
    ]


def test_shape_violations__next_slot_and_event_times() -> None:
    repair = load_example("repair-offer")
    repair["nextSlot"] = "2025-10-14T14:00:00"
    event = load_example("event")
    event["startTime"] = 1760774400
    assert [v.split(":")[0] for v in shape_violations(repair)] == ["$.nextSlot"]
    assert [v.split(":")[0] for v in shape_violations(event)] == ["$.startTime"]


def test_shape_violations__numeric_quantity_and_money() -> None:
    document = _offer()
    document["publishes"]["resourceQuantity"]["hasNumericalValue"] = 1
    document["deposit"]["value"] = 30.0
    assert [v.split(":")[0] for v in shape_violations(document)] == [
        "$.publishes.resourceQuantity.hasNumericalValue",
        "$.deposit.value",
    ]


def test_shape_violations__property_value_is_not_money() -> None:
    document = load_example("actor-organization")
    assert shape_violations(document) == []


def test_shape_violations__context_is_not_walked() -> None:
    document = {"@context": [{"to": "as:to"}], "type": "Note"}
    assert shape_violations(document) == []


def test_json_differences__identical() -> None:
    assert json_differences({"a": [1, 2.0, "x", None, True]}, {"a": [1, 2.0, "x", None, True]}) == []


def test_json_differences__float_is_not_int() -> None:
    assert json_differences({"latitude": 50.0}, {"latitude": 50}) == [
        "$.latitude: expected float 50.0, got integer 50"
    ]


def test_json_differences__bool_is_not_int() -> None:
    assert json_differences([True], [1]) == ["$[0]: expected boolean True, got integer 1"]


def test_json_differences__missing_extra_and_length() -> None:
    found = json_differences({"a": 1, "b": [1]}, {"b": [1, 2], "c": 3})
    assert found == ["$.a: missing", "$.c: unexpected 3", "$.b: expected 1 items, got 2"]


def test_json_differences__key_order_ignored() -> None:
    assert json_differences({"a": 1, "b": 2}, {"b": 2, "a": 1}) == []
