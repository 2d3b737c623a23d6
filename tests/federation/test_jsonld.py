"""Offline JSON-LD: the bundled-only document loader, expansion and the undefined-term check."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from pyld import jsonld as pyld_jsonld

from federation.errors import ContextNotAllowedError, JsonLdError, UndefinedTermError
from federation.jsonld import check_terms, expand, make_document_loader, undefined_terms
from schemas.context import AS_CONTEXT, FEDICOOP_NS, fedicoop_context
from schemas.contexts import context_files
from schemas.examples import load_example

AS = "https://www.w3.org/ns/activitystreams#"


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Make every socket connection and DNS lookup fail, so that a fetch cannot go unnoticed."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    yield


def _note(**extra: Any) -> dict[str, Any]:
    document: dict[str, Any] = load_example("offer-loan")
    document.update(extra)
    return document


def test_make_document_loader__serves_bundled_contexts_and_aliases() -> None:
    loader = make_document_loader()
    for url in context_files():
        remote = loader(url, {})
        assert remote["documentUrl"] == url
        assert "@context" in remote["document"]


def test_make_document_loader__fresh_document_each_time() -> None:
    loader = make_document_loader()
    first = loader(AS_CONTEXT, {})
    first["document"]["@context"] = {}
    assert loader(AS_CONTEXT, {})["document"]["@context"] != {}


@pytest.mark.parametrize(
    "url",
    [
        "https://pleroma.example/schemas/litepub-0.1.jsonld",
        "https://w3id.org/fedicoop/ns",
        "http://localhost/context.json",
        "file:///etc/passwd",
    ],
)
def test_make_document_loader__refuses_anything_else(url: str) -> None:
    with pytest.raises(ContextNotAllowedError, match=re.escape(url)):
        make_document_loader()(url, {})


def test_expand__remote_context_refused_naming_the_url() -> None:
    document = {
        "@context": [AS_CONTEXT, "https://pleroma.example/schemas/litepub-0.1.jsonld"],
        "type": "Note",
    }
    with pytest.raises(ContextNotAllowedError, match=r"litepub-0\.1\.jsonld"):
        expand(document)


def test_expand__remote_context_in_an_embedded_object_refused() -> None:
    document = {
        "@context": AS_CONTEXT,
        "type": "Create",
        "object": {"@context": "https://evil.example/ctx", "type": "Note"},
    }
    with pytest.raises(ContextNotAllowedError, match=r"evil\.example"):
        check_terms(document)


def test_expand__does_not_replace_the_global_loader() -> None:
    before = pyld_jsonld.get_document_loader()
    expand(load_example("follow"))
    assert pyld_jsonld.get_document_loader() is before


def test_expand__fedicoop_terms_expand_to_their_iris() -> None:
    expanded = expand(load_example("repair-offer"), make_document_loader())
    node = expanded[0]
    assert node["@type"] == [AS + "Note"]
    assert node[FEDICOOP_NS + "kind"] == [{"@value": "repair"}]
    assert node[FEDICOOP_NS + "nextSlot"] == [
        {"@type": "http://www.w3.org/2001/XMLSchema#dateTime", "@value": "2025-10-14T14:00:00+02:00"}
    ]
    assert node["https://w3id.org/valueflows/ont/vf#purpose"] == [{"@value": "offer"}]


def test_expand__invalid_json_ld_is_a_typed_error() -> None:
    with pytest.raises(JsonLdError):
        expand({"@context": 42, "type": "Note"})


def test_check_terms__examples_pass() -> None:
    loader = make_document_loader()
    for name in ("actor-organization", "offer-loan", "slot-page", "event", "booking-accept", "delete"):
        check_terms(load_example(name), loader)


def test_check_terms__unknown_term_named() -> None:
    with pytest.raises(UndefinedTermError, match="fooBar"):
        check_terms(_note(fooBar=1))


def test_check_terms__every_unknown_term_listed() -> None:
    document = _note(fooBar=1, quux="x")
    document["location"]["elevation"] = 20.0
    document["publishes"]["type"] = "Desire"
    assert undefined_terms(document) == ["Desire", "elevation", "fooBar", "quux"]
    with pytest.raises(UndefinedTermError, match="Desire, elevation, fooBar, quux"):
        check_terms(document)


def test_check_terms__fedicoop_term_without_the_fedicoop_context() -> None:
    document = {**load_example("repair-offer"), "@context": AS_CONTEXT}
    terms = undefined_terms(document)
    assert {"kind", "purpose", "title", "nextSlot", "publishes", "communeCode"} <= set(terms)


def test_check_terms__dropped_term_without_vocab() -> None:
    document = {"@context": {"name": "http://schema.org/name"}, "name": "x", "unknown": 1, "@type": "Thing"}
    assert undefined_terms(document) == ["Thing", "unknown"]


def test_check_terms__term_mapped_to_null() -> None:
    document = {"@context": [AS_CONTEXT, {"content": None}], "type": "Note", "content": "x"}
    with pytest.raises(UndefinedTermError, match="mapped to null"):
        check_terms(document)


def test_check_terms__mastodon_actor_with_bundled_contexts() -> None:
    document = {
        "@context": [
            AS_CONTEXT,
            "https://w3id.org/security/v1",
            {"toot": "http://joinmastodon.org/ns#", "featured": {"@id": "toot:featured", "@type": "@id"}},
        ],
        "id": "https://mastodon.example/users/camille",
        "type": "Person",
        "preferredUsername": "camille",
        "inbox": "https://mastodon.example/users/camille/inbox",
        "featured": "https://mastodon.example/users/camille/collections/featured",
        "publicKey": {
            "id": "https://mastodon.example/users/camille#main-key",
            "owner": "https://mastodon.example/users/camille",
            "publicKeyPem": "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n",
        },
    }
    check_terms(document)


@pytest.mark.parametrize(
    "url",
    [
        "https://w3id.org/security/v2",
        "https://w3id.org/security/data-integrity/v1",
        "https://w3id.org/security/multikey/v1",
        "https://join-lemmy.org/context.json",
        "https://schema.org",
        "https://gotosocial.org/ns",
        "https://w3id.org/identity/v1",
    ],
)
def test_expand__other_bundled_contexts_resolve_offline(url: str) -> None:
    expanded = expand({"@context": [AS_CONTEXT, url], "id": "https://a.example/x", "type": "Note"})
    assert expanded[0]["@type"] == [AS + "Note"]


def test_check_terms__context_copy_not_required_to_be_fresh() -> None:
    context = fedicoop_context()
    check_terms({"@context": context, "type": "Note", "title": "x"})
    assert context == fedicoop_context()


def test_check_terms__json_literal_type_is_not_a_term() -> None:
    context = [AS_CONTEXT, {"data": {"@id": "https://a.example/ns#data", "@type": "@json"}}]
    check_terms({"@context": context, "type": "Note", "data": {"anything": [1, 2]}})
