"""Tests of fedicoop.web.negotiation: JSON or HTML from the Accept header (wire-format §4.4)."""

from __future__ import annotations

import pytest

from fedicoop.web.negotiation import is_activity_content_type, wants_activity_json

LD_PROFILE = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


@pytest.mark.parametrize(
    "accept",
    [
        "application/activity+json",
        LD_PROFILE,
        "application/ld+json",
        "Application/Activity+JSON",
        "application/activity+json, application/ld+json",
        "text/html;q=0.9, application/activity+json",
        "application/activity+json, text/html",
        "text/html, application/activity+json",
        "application/activity+json;q=0.5, text/html;q=0.5",
        'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
        "*/*;q=0.1, application/ld+json",
    ],
)
def test_wants_activity_json__json_ranked_at_least_as_high(accept: str) -> None:
    assert wants_activity_json(accept) is True


@pytest.mark.parametrize(
    "accept",
    [
        None,
        "",
        "text/html",
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "*/*",
        "application/json",
        "application/activity+json;q=0.5, text/html",
        "application/xhtml+xml, application/ld+json;q=0.9",
        "application/activity+json;q=0",
        "application/activity+json;q=abc",
        "image/png",
    ],
)
def test_wants_activity_json__html_or_nothing(accept: str | None) -> None:
    assert wants_activity_json(accept) is False


@pytest.mark.parametrize(
    ("content_type", "plain", "expected"),
    [
        ("application/activity+json", False, True),
        (LD_PROFILE, False, True),
        ("application/json", False, False),
        ("application/json; charset=utf-8", True, True),
        ("text/html", True, False),
        (None, True, False),
    ],
)
def test_is_activity_content_type__inbox_types(content_type: str | None, plain: bool, expected: bool) -> None:
    assert is_activity_content_type(content_type, allow_plain_json=plain) is expected
