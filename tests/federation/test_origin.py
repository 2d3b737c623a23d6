"""FEP-fe34 origin checks on inbound activities, and the trust of their signer."""

from __future__ import annotations

from typing import Any

import pytest

from federation.errors import FederationError
from federation.origin import OriginError, Trust, check_origins, trust_of

ACTOR = "https://partage-lille.example/actors/partage-lille"
HOME = "https://partage-lille.example"


def activity(kind: str | list[str], obj: Any, **extra: Any) -> dict[str, Any]:
    return {"id": f"{HOME}/activities/1", "type": kind, "actor": ACTOR, "object": obj, **extra}


def note(**extra: Any) -> dict[str, Any]:
    return {"id": f"{HOME}/listings/1", "type": "Note", "attributedTo": ACTOR, **extra}


def test_origin_error__is_a_federation_error() -> None:
    assert issubclass(OriginError, FederationError)


@pytest.mark.parametrize(
    "candidate",
    [
        activity("Create", note()),
        activity("Update", note(attributedTo=[ACTOR, {"id": f"{HOME}/actors/other", "type": "Person"}])),
        activity("Update", note(attributedTo={"id": ACTOR})),
        activity("Update", f"{HOME}/listings/1"),
        activity("Delete", {"type": "Tombstone", "id": f"{HOME}/listings/1", "formerType": "Note"}),
        activity("Delete", f"{HOME}/listings/1"),
        activity("Delete", ACTOR),
        activity("Follow", "https://velo-fives.example/actors/atelier-fives"),
        activity("Announce", "https://velo-fives.example/events/1"),
        activity("Accept", {"id": "https://velo-fives.example/follows/1", "type": "Follow"}),
        {
            "id": "HTTPS://Partage-Lille.EXAMPLE:443/a/2",
            "type": "Like",
            "actor": {"id": ACTOR},
            "object": "x",
        },
        activity(["Create", "fc:Thing"], note()),
    ],
)
def test_check_origins__accepted(candidate: dict[str, Any]) -> None:
    check_origins(candidate)


@pytest.mark.parametrize(
    ("candidate", "field"),
    [
        ({"id": f"{HOME}/a/1", "type": "Create"}, "actor is missing"),
        ({"id": f"{HOME}/a/1", "type": "Follow", "actor": {"type": "Person"}}, "actor is missing"),
        ({"id": f"{HOME}/a/1", "type": "Follow", "actor": "urn:uuid:1"}, "actor 'urn:uuid:1' is not an http"),
        (activity("Follow", "x") | {"id": None}, "id is missing"),
        (activity("Follow", "x") | {"id": "https://evil.example/a/1"}, "id https://evil.example/a/1"),
        (activity("Follow", "x") | {"id": "http://partage-lille.example/a/1"}, "id http://"),
        (activity("Follow", "x") | {"id": "https://partage-lille.example:8443/a/1"}, "id https://"),
        (activity("Follow", "x") | {"id": "https://sub.partage-lille.example/a/1"}, "id https://sub"),
        (activity("Create", note(id="https://evil.example/n/1")), "object.id https://evil.example"),
        (activity("Create", {"type": "Note", "attributedTo": ACTOR}), "object.id is missing"),
        (activity("Create", None), "object.id is missing"),
        (activity("Update", note(attributedTo="https://evil.example/u/x")), "object.attributedTo"),
        (activity("Update", note(attributedTo=[ACTOR, "https://evil.example/u/x"])), "object.attributedTo"),
        (activity("Update", note(attributedTo=[{"type": "Person"}])), "object.attributedTo is missing"),
        (activity("Update", "https://evil.example/n/1"), "object.id"),
        (activity("Delete", {"type": "Tombstone", "id": "https://evil.example/n/1"}), "object.id"),
        (activity("Delete", "https://evil.example/n/1"), "object.id"),
        (activity("Delete", {"type": "Tombstone"}), "object.id is missing"),
        (activity(["Delete"], "https://evil.example/n/1"), "object.id"),
    ],
)
def test_check_origins__refused_naming_the_field(candidate: dict[str, Any], field: str) -> None:
    with pytest.raises(OriginError) as caught:
        check_origins(candidate)
    assert str(caught.value).startswith(field)


@pytest.mark.parametrize(
    ("actor", "signer", "trust"),
    [
        (ACTOR, ACTOR, Trust.AUTHENTIC),
        ({"id": ACTOR, "type": "Organization"}, ACTOR, Trust.AUTHENTIC),
        (ACTOR, "https://relay.example/actor", Trust.RELAYED),
        (ACTOR, f"{ACTOR}/", Trust.RELAYED),
        (None, ACTOR, Trust.RELAYED),
        ([ACTOR], ACTOR, Trust.RELAYED),
    ],
)
def test_trust_of(actor: Any, signer: str, trust: Trust) -> None:
    assert trust_of({"type": "Create", "actor": actor}, signer) is trust


def test_trust__values() -> None:
    assert [member.value for member in Trust] == ["authentic", "relayed"]
