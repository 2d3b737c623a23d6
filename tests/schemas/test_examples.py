"""Golden examples: each JSON example of wire-format.md parses, serialises back exactly, is well shaped."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest

from federation.jsonld import make_document_loader, undefined_terms
from schemas.activities import Accept, ActivityDocument, Announce, Delete, Follow, Offer, Reject
from schemas.actors import Actor
from schemas.base import WireModel
from schemas.collections import OrderedCollection
from schemas.context import FEDICOOP_CONTEXT, fedicoop_context
from schemas.discovery import NodeInfo, NodeInfoLinks, WebFinger, host_meta_xrd
from schemas.errors import UnknownExampleError
from schemas.events import Event
from schemas.examples import example_names, load_example, load_example_text
from schemas.listings import Note
from schemas.rules import json_differences, shape_violations
from schemas.slots import SlotCollection, SlotPage

MODELS: dict[str, type[WireModel] | type[ActivityDocument]] = {
    "actor-organization": Actor,
    "actor-application": Actor,
    "webfinger": WebFinger,
    "nodeinfo-links": NodeInfoLinks,
    "nodeinfo": NodeInfo,
    "outbox-collection": OrderedCollection,
    "offer-loan": Note,
    "request": Note,
    "repair-offer": Note,
    "slot-collection": SlotCollection,
    "slot-page": SlotPage,
    "booking-offer": ActivityDocument,
    "booking-accept": ActivityDocument,
    "booking-reject": ActivityDocument,
    "event": Event,
    "follow": ActivityDocument,
    "follow-accept": ActivityDocument,
    "follow-accept-body": ActivityDocument,
    "delete": ActivityDocument,
    "announce": ActivityDocument,
}
ACTIVITY_CLASSES: dict[str, type[Any]] = {
    "booking-offer": Offer,
    "booking-accept": Accept,
    "booking-reject": Reject,
    "follow": Follow,
    "follow-accept": Accept,
    "follow-accept-body": Accept,
    "delete": Delete,
    "announce": Announce,
}
NOT_JSON_LD = frozenset({"webfinger", "nodeinfo-links", "nodeinfo"})
AS_ONLY = frozenset({"booking-reject", "follow", "follow-accept", "follow-accept-body", "delete", "announce"})


def _document_names() -> list[str]:
    return [name for name in example_names() if name != "context"]


def test_example_names__every_example_has_a_model() -> None:
    assert set(_document_names()) == set(MODELS)


def test_example_names__lists_the_wire_format_examples() -> None:
    assert len(example_names()) == 21
    assert "context" in example_names()


@pytest.mark.parametrize("name", _document_names())
def test_example__validates_with_its_model(name: str) -> None:
    parsed = MODELS[name].model_validate(load_example(name))
    if name in ACTIVITY_CLASSES:
        assert isinstance(parsed, ActivityDocument)
        assert type(parsed.root) is ACTIVITY_CLASSES[name]


@pytest.mark.parametrize("name", _document_names())
def test_example__to_wire_gives_it_back_exactly(name: str) -> None:
    document = load_example(name)
    wire = MODELS[name].model_validate(document).to_wire()
    assert json_differences(document, wire) == []


@pytest.mark.parametrize("name", _document_names())
def test_example__has_no_shape_violation(name: str) -> None:
    assert shape_violations(load_example(name)) == []


@pytest.mark.parametrize("name", sorted(set(_document_names()) - NOT_JSON_LD))
def test_example__expands_without_undefined_term(name: str) -> None:
    assert undefined_terms(load_example(name), make_document_loader()) == []


@pytest.mark.parametrize("name", sorted(set(_document_names()) - NOT_JSON_LD))
def test_example__carries_the_context_of_section_2(name: str) -> None:
    context = load_example(name)["@context"]
    expected: Any = "https://www.w3.org/ns/activitystreams" if name in AS_ONLY else fedicoop_context()
    assert json_differences(expected, context) == []


def test_context_example__is_fedicoop_context() -> None:
    assert json_differences(load_example("context")["@context"], list(FEDICOOP_CONTEXT)) == []


def test_follow_accept_body__is_the_compact_serialisation_of_the_model() -> None:
    body = load_example_text("follow-accept-body.json")
    parsed = ActivityDocument.model_validate(json.loads(body))
    compact = json.dumps(parsed.to_wire(), separators=(",", ":"), ensure_ascii=False)
    assert compact == body
    assert len(body.encode()) == 460
    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    assert digest == "c/nyenrBeCNlnZxcdTaI5BnF4yyRvr2nPeR/ovVQ98c="


def test_follow_accept_body__matches_the_pretty_example() -> None:
    assert json.loads(load_example_text("follow-accept-body.json")) == load_example("follow-accept")


def test_host_meta__renders_the_example() -> None:
    assert host_meta_xrd("https://velo-fives.example") == load_example_text("host-meta.xml")


def test_load_example__unknown_name() -> None:
    with pytest.raises(UnknownExampleError, match="no-such-example"):
        load_example("no-such-example")


def test_load_example_text__refuses_paths() -> None:
    with pytest.raises(UnknownExampleError):
        load_example_text("../base.py")
