"""Discovery documents: WebFinger, NodeInfo and host-meta."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from schemas.discovery import (
    APPLICATION_ACTOR_REL,
    NODEINFO_21_REL,
    JrdLink,
    NodeInfo,
    NodeInfoLinks,
    NodeInfoSoftware,
    WebFinger,
    host_meta_xrd,
)
from schemas.examples import load_example
from schemas.rules import json_differences


def test_webfinger__self_link() -> None:
    jrd = WebFinger.model_validate(load_example("webfinger"))
    assert jrd.self_link() == "https://velo-fives.example/actors/atelier-fives"


def test_webfinger__ld_json_profile_self_link_accepted() -> None:
    media_type = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
    jrd = WebFinger(
        subject="acct:a@a.example", links=[JrdLink(rel="self", type=media_type, href="https://a.example/a")]
    )
    assert jrd.self_link() == "https://a.example/a"


def test_webfinger__no_self_link() -> None:
    jrd = WebFinger(
        subject="acct:a@a.example", links=[JrdLink(rel="self", type="text/html", href="https://a.example/")]
    )
    assert jrd.self_link() is None


def test_nodeinfo_links__hrefs() -> None:
    links = NodeInfoLinks.model_validate(load_example("nodeinfo-links"))
    assert links.href_for(NODEINFO_21_REL) == "https://velo-fives.example/nodeinfo/2.1"
    assert links.href_for(APPLICATION_ACTOR_REL) == "https://velo-fives.example/actor"
    assert links.href_for("nope") is None


def test_nodeinfo__built_equals_the_example() -> None:
    document = NodeInfo.model_validate(
        {
            "software": {"name": "fedicoop", "version": "0.1.0"},
            "usage": {"users": {"total": 1, "activeMonth": 1, "activeHalfyear": 1}, "localPosts": 14},
            "metadata": {
                "nodeName": "Atelier vélo de Fives",
                "fedicoop": {"role": "node", "regionCodes": ["32"]},
            },
        }
    )
    assert json_differences(load_example("nodeinfo"), document.to_wire()) == []
    assert document.fedicoop_metadata() == {"role": "node", "regionCodes": ["32"]}


def test_nodeinfo__software_name_pattern() -> None:
    with pytest.raises(ValidationError):
        NodeInfoSoftware(name="Fedicoop", version="1")


def test_nodeinfo__not_fedicoop() -> None:
    document = NodeInfo(software=NodeInfoSoftware(name="mobilizon", version="5.1"))
    assert document.fedicoop_metadata() is None


def test_host_meta_xrd__escapes_the_url() -> None:
    xml = host_meta_xrd('https://a.example/x?a=1&b="2"<')
    assert "&amp;" in xml
    assert "&lt;" in xml
    assert "&quot;" in xml or "'" in xml
    assert '"2"<' not in xml


def test_host_meta_xrd__trailing_slash() -> None:
    assert host_meta_xrd("https://velo-fives.example/") == host_meta_xrd("https://velo-fives.example")
