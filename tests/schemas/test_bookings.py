"""Bookings: the Agreement and its Commitment."""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest
from pydantic import ValidationError

from schemas.bookings import Agreement, Commitment
from schemas.examples import load_example
from schemas.listings import Quantity
from schemas.media import Link
from schemas.rules import json_differences

PARIS_SUMMER = timezone(timedelta(hours=2))


def test_agreement__finalised_result_built_equals_the_example() -> None:
    expected = load_example("booking-accept")["result"]
    agreement_id = "https://velo-fives.example/agreements/0199e4a3-6b7c-7d8e-9f0a-1b2c3d4e5f61"
    offered = Agreement.model_validate(load_example("booking-offer")["object"])
    final = Agreement(
        id=agreement_id,
        attributed_to="https://velo-fives.example/actors/atelier-fives",
        stipulates=offered.stipulates.model_copy(update={"id": agreement_id + "#primary"}),
        url=Link(media_type="text/html", href=agreement_id),
    )
    assert json_differences(expected, final.to_wire()) == []


def test_commitment__satisfies_required() -> None:
    with pytest.raises(ValidationError, match="satisfies"):
        Commitment.model_validate(
            {"type": "Commitment", "resourceQuantity": {"hasUnit": "one", "hasNumericalValue": "1"}}
        )


def test_commitment__quantity_and_times() -> None:
    commitment = Commitment.model_validate(load_example("booking-offer")["object"]["stipulates"])
    assert commitment.resource_quantity == Quantity(has_unit="one", has_numerical_value="1")
    assert commitment.has_beginning is not None
    assert commitment.has_beginning.utcoffset() == timedelta(hours=2)
