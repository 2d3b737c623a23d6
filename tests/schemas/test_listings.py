"""Listings: building the offer Note of wire-format §5 from Python values, and its bounds."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from schemas.context import PUBLIC, category_iri, fedicoop_context
from schemas.examples import load_example
from schemas.listings import (
    ACTION_TRANSFER_CUSTODY,
    UNIT_ONE,
    Intent,
    MonetaryAmount,
    Note,
    Quantity,
)
from schemas.media import Hashtag, Image
from schemas.places import Place, PostalAddress
from schemas.rules import json_differences, shape_violations

LISTING = "https://partage-lille.example/listings/1ed7a2a8-0a77-6dbc-a34f-f3a729006754"
ACTOR = "https://partage-lille.example/actors/partage-lille"


def _build_offer() -> Note:
    example = load_example("offer-loan")
    stamp = datetime(2025, 10, 2, 7, 15, tzinfo=UTC)
    one = Quantity(has_unit=UNIT_ONE, has_numerical_value="1")
    return Note(
        context=fedicoop_context(),
        id=LISTING,
        kind="object",
        purpose="offer",
        attributed_to=ACTOR,
        title="Prêt : perceuse-visseuse 18 V",
        content=example["content"],
        content_map={"fr": example["content"]},
        media_type="text/html",
        url=example["url"],
        published=stamp,
        updated=stamp,
        to=[PUBLIC],
        cc=[ACTOR + "/followers"],
        tag=[
            Hashtag(name="#Pret", href="https://partage-lille.example/tags/pret"),
            Hashtag(name="#Lille", href="https://partage-lille.example/tags/lille"),
        ],
        attachment=[
            Image(
                media_type="image/jpeg",
                url="https://partage-lille.example/media/4437be7d.jpg",
                name="Perceuse-visseuse bleue posée sur son coffret",
            )
        ],
        location=Place(
            name="Lille",
            latitude=50.6309,
            longitude=3.0709,
            radius=7800,
            units="m",
            address=PostalAddress(address_locality="Lille", address_country="FR"),
            commune_code="59350",
            departement_code="59",
            region_code="32",
            epci_code="200093201",
            cog_year=2025,
        ),
        publishes=Intent(
            id=LISTING + "#primary",
            action=ACTION_TRANSFER_CUSTODY,
            resource_conforms_to=category_iri("travaux-outillage"),
            resource_classified_as=["https://ebs-lille.example/fr/categories/travaux-outillage"],
            resource_quantity=one,
            available_quantity=one,
        ),
        unit_based=False,
        deposit=MonetaryAmount.model_validate({"value": Decimal("30.00"), "currency": "EUR"}),
        loan_duration="P7D",
    )


def test_note__built_from_python_values_equals_the_example() -> None:
    wire = _build_offer().to_wire()
    assert json_differences(load_example("offer-loan"), wire) == []
    assert shape_violations(wire) == []


def test_note__radius_given_as_int_is_served_as_float() -> None:
    wire = _build_offer().to_wire()
    assert isinstance(wire["location"]["radius"], float)
    assert wire["location"]["radius"] == 7800.0


def test_note__title_bound() -> None:
    document = load_example("offer-loan")
    Note.model_validate({**document, "title": "t" * 120})
    with pytest.raises(ValidationError, match="title"):
        Note.model_validate({**document, "title": "t" * 121})


@pytest.mark.parametrize(
    ("field", "value"),
    [("kind", "thing"), ("purpose", "sell"), ("publishes", None), ("attributedTo", "acct:x@y")],
)
def test_note__refused_values(field: str, value: Any) -> None:
    with pytest.raises(ValidationError):
        Note.model_validate({**load_example("offer-loan"), field: value})


def test_note__tag_and_attachment_bounds() -> None:
    document = load_example("offer-loan")
    tags = [{"type": "Hashtag", "name": f"#t{n}", "href": f"https://a.example/tags/t{n}"} for n in range(51)]
    images = [{"type": "Image", "url": f"https://a.example/{n}.jpg"} for n in range(21)]
    with pytest.raises(ValidationError):
        Note.model_validate({**document, "tag": tags})
    with pytest.raises(ValidationError):
        Note.model_validate({**document, "attachment": images})


def test_note__single_tag_object_read_as_a_list() -> None:
    document = {**load_example("offer-loan"), "tag": {"type": "Hashtag", "name": "#Pret"}}
    note = Note.model_validate(document)
    assert note.tag == [Hashtag(name="#Pret")]


def test_note__request_with_a_period() -> None:
    note = Note.model_validate(load_example("request"))
    assert note.publishes.has_beginning is not None
    assert note.publishes.has_beginning.utcoffset() is not None
    assert note.to_wire()["publishes"]["hasEnd"] == "2025-10-26T19:00:00+01:00"


def test_quantity__numerical_value_bound() -> None:
    Quantity(has_unit="one", has_numerical_value="1" * 20)
    with pytest.raises(ValidationError):
        Quantity(has_unit="one", has_numerical_value="1" * 21)


def test_monetary_amount__currency_code() -> None:
    with pytest.raises(ValidationError):
        MonetaryAmount(value="30.00", currency="euro")
