"""Places: float coordinates, territory codes as strings, blurred and exact addresses."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from schemas.examples import load_example
from schemas.places import Place


def _place() -> dict[str, Any]:
    place: dict[str, Any] = load_example("offer-loan")["location"]
    return place


def test_place__coordinates_served_as_floats() -> None:
    wire = Place(latitude=50, longitude=3, radius=2000).to_wire()
    assert wire == {"type": "Place", "latitude": 50.0, "longitude": 3.0, "radius": 2000.0}
    assert all(isinstance(wire[key], float) for key in ("latitude", "longitude", "radius"))


@pytest.mark.parametrize(("field", "value"), [("latitude", 90.5), ("longitude", -181.0), ("radius", -1.0)])
def test_place__coordinates_out_of_range(field: str, value: float) -> None:
    with pytest.raises(ValidationError):
        Place.model_validate({**_place(), field: value})


def test_place__nan_refused() -> None:
    with pytest.raises(ValidationError):
        Place(latitude=float("nan"))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("communeCode", "2A004"),
        ("communeCode", "97411"),
        ("departementCode", "2B"),
        ("departementCode", "974"),
    ],
)
def test_place__territory_codes_accepted(field: str, value: str) -> None:
    assert Place.model_validate({**_place(), field: value}).to_wire()[field] == value


@pytest.mark.parametrize(
    ("field", "value"),
    [("communeCode", 59350), ("communeCode", "5935"), ("departementCode", "2C"), ("regionCode", "032")],
)
def test_place__territory_codes_refused(field: str, value: Any) -> None:
    with pytest.raises(ValidationError):
        Place.model_validate({**_place(), field: value})


def test_place__address_string_tolerated() -> None:
    assert Place.model_validate({"type": "Place", "address": "12 rue X, Lille"}).address == "12 rue X, Lille"
