"""Base models and field types: aliases, tolerant reading, times, decimals, one-or-many."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from schemas.base import (
    IRI,
    ASModel,
    ASObject,
    DecimalString,
    OneOrMany,
    Recipients,
    Ref,
    UtcDateTime,
    WallDateTime,
    WireModel,
    is_decimal_string,
    tag_by_type,
)
from schemas.context import FEDICOOP_CONTEXT, PUBLIC
from schemas.limits import IRI_MAX, RECIPIENTS_MAX

PARIS_SUMMER = timezone(timedelta(hours=2))


class Box(WireModel):
    values: OneOrMany[int] | None = None


class Addressed(ASModel):
    attributed_to: Ref | None = None
    to: Recipients | None = None
    cc: Recipients | None = None
    link: IRI | None = None


class Timed(ASModel):
    published: UtcDateTime | None = None
    start_time: WallDateTime | None = None


class Amount(WireModel):
    value: DecimalString


@given(st.integers())
def test_one_or_many__single_value_becomes_a_list(value: int) -> None:
    assert Box.model_validate({"values": value}).values == [value]


@given(st.lists(st.integers(), max_size=20))
def test_one_or_many__list_is_kept(values: list[int]) -> None:
    box = Box.model_validate({"values": values})
    assert box.values == values
    assert box.to_wire() == {"values": values}


@given(st.sampled_from(["as:Public", "Public", PUBLIC]), st.booleans())
def test_recipients__public_aliases_read_as_the_full_iri(alias: str, as_list: bool) -> None:
    model = Addressed.model_validate({"to": [alias] if as_list else alias})
    assert model.to == [PUBLIC]
    assert model.to_wire()["to"] == [PUBLIC]


def test_recipients__embedded_object_read_as_its_id() -> None:
    model = Addressed.model_validate({"cc": {"id": "https://a.example/followers", "type": "Collection"}})
    assert model.cc == ["https://a.example/followers"]


def test_recipients__bound_on_the_total() -> None:
    half = [f"https://a.example/actors/{n}" for n in range(RECIPIENTS_MAX // 2 + 1)]
    with pytest.raises(ValidationError, match="more than 500"):
        Addressed.model_validate({"to": half, "cc": half})


def test_ref__embedded_object_read_as_its_id() -> None:
    model = Addressed.model_validate({"attributedTo": {"id": "https://a.example/actors/a", "type": "Person"}})
    assert model.attributed_to == "https://a.example/actors/a"


@pytest.mark.parametrize(
    "value",
    ["ftp://a.example/x", "mailto:a@a.example", "/relative", "https://", "https://a.example/a b", ""],
)
def test_iri__refuses_non_http_urls(value: str) -> None:
    with pytest.raises(ValidationError):
        Addressed.model_validate({"link": value})


def test_iri__length_bound() -> None:
    ok = "https://a.example/" + "x" * (IRI_MAX - len("https://a.example/"))
    assert Addressed.model_validate({"link": ok}).link == ok
    with pytest.raises(ValidationError):
        Addressed.model_validate({"link": ok + "x"})


def test_wire_model__snake_case_in_python_camel_case_on_the_wire() -> None:
    model = Addressed(attributed_to="https://a.example/actors/a")
    assert model.to_wire() == {"attributedTo": "https://a.example/actors/a"}
    assert (
        Addressed.model_validate({"attributed_to": "https://a.example/b"}).attributed_to
        == "https://a.example/b"
    )


def test_wire_model__extra_fields_kept_and_served() -> None:
    model = Addressed.model_validate({"sensitive": False, "atomUri": "https://a.example/x"})
    assert model.to_wire() == {"sensitive": False, "atomUri": "https://a.example/x"}


def test_as_model__context_alias_and_copy() -> None:
    model = Addressed(context=FEDICOOP_CONTEXT)
    wire = model.to_wire()
    assert list(wire) == ["@context"]
    assert wire["@context"] == FEDICOOP_CONTEXT
    assert model.context is not FEDICOOP_CONTEXT
    model.context[2]["fc"] = "changed"
    assert FEDICOOP_CONTEXT[2]["fc"] == "https://w3id.org/fedicoop/ns#"  # type: ignore[index]


def test_as_model__context_read_from_at_context() -> None:
    assert Addressed.model_validate({"@context": "https://www.w3.org/ns/activitystreams"}).context == (
        "https://www.w3.org/ns/activitystreams"
    )


def test_utc_datetime__served_with_z_to_the_second() -> None:
    model = Timed(published=datetime(2025, 10, 2, 9, 15, 0, 123456, tzinfo=PARIS_SUMMER))
    assert model.to_wire() == {"published": "2025-10-02T07:15:00Z"}


def test_utc_datetime__naive_refused() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        Timed(published=datetime(2025, 10, 2, 9, 15))
    with pytest.raises(ValidationError, match="timezone"):
        Timed.model_validate({"published": "2025-10-02T09:15:00"})


def test_wall_datetime__served_with_its_own_offset() -> None:
    model = Timed(start_time=datetime(2025, 10, 14, 14, 0, tzinfo=PARIS_SUMMER))
    assert model.to_wire() == {"startTime": "2025-10-14T14:00:00+02:00"}
    winter = Timed.model_validate({"startTime": "2025-10-26T19:00:00+01:00"})
    assert winter.to_wire() == {"startTime": "2025-10-26T19:00:00+01:00"}


def test_wall_datetime__naive_refused() -> None:
    with pytest.raises(ValidationError):
        Timed.model_validate({"startTime": "2025-10-14T14:00:00"})


def test_wall_datetime__python_dump_keeps_datetime() -> None:
    start = datetime(2025, 10, 14, 12, 0, tzinfo=UTC)
    assert Timed(start_time=start).model_dump()["start_time"] == start


@pytest.mark.parametrize(
    ("given_value", "expected"),
    [("30.00", "30.00"), ("1", "1"), (1, "1"), (Decimal("30.00"), "30.00"), (Decimal("0.5"), "0.5")],
)
def test_decimal_string__accepted_forms(given_value: Any, expected: str) -> None:
    assert Amount(value=given_value).to_wire() == {"value": expected}


@pytest.mark.parametrize("value", [30.0, True, "30,00", "-1", "1e3", "", "1" * 21, ".5"])
def test_decimal_string__refused_forms(value: Any) -> None:
    with pytest.raises(ValidationError):
        Amount(value=value)


@given(st.decimals(min_value=0, max_value=10**12, places=2, allow_nan=False, allow_infinity=False))
def test_decimal_string__every_small_decimal_round_trips(value: Decimal) -> None:
    text = Amount.model_validate({"value": value}).value
    assert is_decimal_string(text)
    assert Decimal(text) == value


def test_tag_by_type__routes_strings_known_types_and_fallback() -> None:
    pick = tag_by_type({"Hashtag": "H"})
    assert pick("https://a.example/x") == "@ref"
    assert pick({"type": "Hashtag"}) == "H"
    assert pick({"type": "Mention"}) == "@other"
    assert pick({"type": ["Hashtag", "X"]}) == "@other"
    assert pick(ASObject(type="Hashtag")) == "@other"


def test_as_object__keeps_everything() -> None:
    document = {"id": "urn:uuid:1", "type": "Emoji", "icon": {"url": "https://a.example/e.png"}}
    assert ASObject.model_validate(document).to_wire() == document
