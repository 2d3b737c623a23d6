"""Actors: local and remote documents, usernames, keys and inboxes."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from schemas.actors import Actor, Link, PropertyValue, PublicKey, check_local_username
from schemas.base import ASObject
from schemas.examples import load_example

MASTODON_PERSON: dict[str, Any] = {
    "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
    "id": "https://mastodon.example/users/camille",
    "type": "Person",
    "preferredUsername": "Camille",
    "inbox": "https://mastodon.example/users/camille/inbox",
    "sharedInbox": "https://mastodon.example/inbox",
    "publicKey": [
        {
            "id": "https://mastodon.example/users/camille#main-key",
            "owner": "https://mastodon.example/users/camille",
            "publicKeyPem": "-----BEGIN PUBLIC KEY-----\n...\n-----END PUBLIC KEY-----\n",
        }
    ],
    "attachment": [
        {"type": "PropertyValue", "name": "Site", "value": "<a href='https://x.example'>x</a>"},
        {"type": "IdentityProof", "name": "x"},
    ],
    "url": [{"type": "Link", "href": "https://mastodon.example/@camille", "mediaType": "text/html"}],
}


def test_actor__organization_example_fields() -> None:
    actor = Actor.model_validate(load_example("actor-organization"))
    assert actor.type == "Organization"
    assert actor.preferred_username == "atelier-fives"
    assert actor.shared_inbox_or_inbox() == "https://velo-fives.example/inbox"
    assert [key.id for key in actor.public_keys()] == [
        "https://velo-fives.example/actors/atelier-fives#main-key"
    ]
    assert actor.attachment is not None
    assert [type(field) for field in actor.attachment] == [PropertyValue, PropertyValue, Link]


def test_actor__remote_person_read_tolerantly() -> None:
    actor = Actor.model_validate(MASTODON_PERSON)
    assert actor.shared_inbox_or_inbox() == "https://mastodon.example/inbox"
    assert actor.public_keys()[0].owner == actor.id
    assert actor.attachment is not None
    assert type(actor.attachment[1]) is ASObject
    assert actor.to_wire()["sharedInbox"] == "https://mastodon.example/inbox"


def test_actor__inbox_fallback() -> None:
    actor = Actor.model_validate({**MASTODON_PERSON, "sharedInbox": None, "publicKey": None})
    assert actor.shared_inbox_or_inbox() == "https://mastodon.example/users/camille/inbox"
    assert actor.public_keys() == []


def test_actor__preferred_username_required_and_bounded() -> None:
    without = {key: value for key, value in MASTODON_PERSON.items() if key != "preferredUsername"}
    with pytest.raises(ValidationError, match="preferredUsername"):
        Actor.model_validate(without)
    with pytest.raises(ValidationError):
        Actor.model_validate({**MASTODON_PERSON, "preferredUsername": "a" * 256})
    Actor.model_validate({**MASTODON_PERSON, "preferredUsername": "a" * 255})


def test_actor__remote_fields_bound() -> None:
    fields = [{"type": "PropertyValue", "name": str(n), "value": "v"} for n in range(51)]
    with pytest.raises(ValidationError):
        Actor.model_validate({**MASTODON_PERSON, "attachment": fields})


def test_actor__unknown_type_refused() -> None:
    with pytest.raises(ValidationError):
        Actor.model_validate({**MASTODON_PERSON, "type": "Note"})


def test_public_key__pem_kept_verbatim() -> None:
    document = load_example("actor-application")["publicKey"]
    assert PublicKey.model_validate(document).to_wire() == document


@pytest.mark.parametrize("username", ["atelier-fives", "a", "partage_lille", "x" * 64])
def test_check_local_username__accepted(username: str) -> None:
    assert check_local_username(username) == username


@pytest.mark.parametrize("username", ["", "Atelier", "a b", "x" * 65, "relay", "well-known", "é"])
def test_check_local_username__refused(username: str) -> None:
    with pytest.raises(ValueError, match="username"):
        check_local_username(username)
