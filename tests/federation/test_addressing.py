"""Addressing: recipients, Public in its spellings, blind fields, the inbox to deliver to, ids of values."""

from __future__ import annotations

from typing import Any

import pytest

from federation.addressing import PUBLIC, actor_id_of, inbox_for, is_public, recipients, without_blind
from schemas.context import PUBLIC as SCHEMAS_PUBLIC

ALICE = "https://a.example/actors/alice"
BOB = "https://b.example/users/bob"
FOLLOWERS = "https://a.example/actors/alice/followers"


def test_public__is_the_schemas_constant() -> None:
    assert PUBLIC is SCHEMAS_PUBLIC


def test_recipients__flattened_ordered_deduplicated() -> None:
    activity = {
        "to": [PUBLIC, BOB],
        "cc": FOLLOWERS,
        "bto": [{"id": "https://c.example/u/carol", "type": "Person"}, BOB],
        "bcc": ["https://d.example/u/dan"],
        "audience": {"id": "https://e.example/groups/velo"},
        "actor": ALICE,
        "object": {"to": ["https://ignored.example/u/x"]},
    }
    assert recipients(activity) == [
        BOB,
        FOLLOWERS,
        "https://c.example/u/carol",
        "https://d.example/u/dan",
        "https://e.example/groups/velo",
    ]


@pytest.mark.parametrize("spelling", [PUBLIC, "as:Public", "Public", {"id": PUBLIC}])
def test_recipients__public_in_any_spelling_left_out(spelling: Any) -> None:
    assert recipients({"to": [spelling], "cc": [FOLLOWERS]}) == [FOLLOWERS]


@pytest.mark.parametrize(
    "activity", [{}, {"to": None}, {"to": []}, {"to": [42, None, {"type": "Person"}, [BOB], ""]}]
)
def test_recipients__junk_ignored(activity: dict[str, Any]) -> None:
    assert recipients(activity) == []


@pytest.mark.parametrize(
    ("activity", "public"),
    [
        ({"to": PUBLIC}, True),
        ({"to": [BOB], "cc": ["as:Public"]}, True),
        ({"cc": "Public"}, True),
        ({"to": [{"id": PUBLIC}]}, True),
        ({"to": [BOB], "cc": [FOLLOWERS]}, False),
        ({"bcc": [PUBLIC]}, False),
        ({"bto": PUBLIC}, False),
        ({"audience": PUBLIC}, False),
        ({"to": "https://www.w3.org/ns/activitystreams#Publicity"}, False),
        ({}, False),
    ],
)
def test_is_public(activity: dict[str, Any], public: bool) -> None:
    assert is_public(activity) is public


def test_without_blind__top_level_and_embedded_object_copied() -> None:
    note = {"id": "https://a.example/n/1", "type": "Note", "to": [BOB], "bto": [BOB], "bcc": [ALICE]}
    activity = {"type": "Create", "to": [BOB], "bto": [BOB], "bcc": [ALICE], "object": note}
    stripped = without_blind(activity)
    assert stripped == {
        "type": "Create",
        "to": [BOB],
        "object": {"id": "https://a.example/n/1", "type": "Note", "to": [BOB]},
    }
    assert "bcc" in activity
    assert "bto" in note
    assert stripped["object"] is not note


def test_without_blind__object_by_id_untouched() -> None:
    assert without_blind({"type": "Announce", "object": BOB, "bcc": []}) == {
        "type": "Announce",
        "object": BOB,
    }


@pytest.mark.parametrize(
    ("document", "inbox"),
    [
        (
            {
                "inbox": f"{BOB}/inbox",
                "sharedInbox": "https://b.example/top-shared",
                "endpoints": {"sharedInbox": "https://b.example/inbox"},
            },
            "https://b.example/inbox",
        ),
        (
            {"inbox": f"{BOB}/inbox", "sharedInbox": "https://b.example/top-shared"},
            "https://b.example/top-shared",
        ),
        ({"inbox": f"{BOB}/inbox", "endpoints": {"sharedInbox": None}}, f"{BOB}/inbox"),
        ({"inbox": f"{BOB}/inbox", "endpoints": "https://b.example/inbox"}, f"{BOB}/inbox"),
        ({"inbox": f"{BOB}/inbox", "endpoints": {"sharedInbox": "mailto:x@b.example"}}, f"{BOB}/inbox"),
        ({"inbox": "http://localhost:8001/inbox"}, "http://localhost:8001/inbox"),
        ({"inbox": "/relative/inbox"}, None),
        ({"inbox": ["https://b.example/inbox"]}, None),
        ({}, None),
    ],
)
def test_inbox_for(document: dict[str, Any], inbox: str | None) -> None:
    assert inbox_for(document) == inbox


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (ALICE, ALICE),
        ({"id": ALICE, "type": "Person"}, ALICE),
        ({"type": "Person"}, None),
        ({"id": 3}, None),
        ("", None),
        ([ALICE], None),
        (None, None),
        (7, None),
    ],
)
def test_actor_id_of(value: Any, expected: str | None) -> None:
    assert actor_id_of(value) == expected
