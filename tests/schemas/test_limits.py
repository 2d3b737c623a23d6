"""Bounds and the JSON depth check."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas import limits
from schemas.errors import BoundsError, SchemaError
from schemas.limits import JSON_DEPTH_MAX, check_json_depth, json_path


def _nested(depth: int) -> Any:
    value: Any = 1
    for level in range(depth):
        value = {"a": value} if level % 2 else [value]
    return value


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=40,
)


def test_check_json_depth__32_accepted() -> None:
    check_json_depth(_nested(JSON_DEPTH_MAX))


def test_check_json_depth__33_refused_with_path() -> None:
    with pytest.raises(BoundsError) as caught:
        check_json_depth(_nested(JSON_DEPTH_MAX + 1))
    assert caught.value.limit == 32
    assert caught.value.path.startswith("$[0].a[0].a")
    assert "exceeds 32 levels" in str(caught.value)
    assert isinstance(caught.value, SchemaError)


def test_check_json_depth__path_names_the_offending_field() -> None:
    document = {"type": "Note", "tag": [{"name": "#x"}, {"href": [[["deep"]]]}]}
    with pytest.raises(BoundsError, match=r"at \$\.tag\[1\]\.href\[0\]$"):
        check_json_depth(document, max_depth=4)


def test_check_json_depth__very_deep_input_does_not_overflow_the_stack() -> None:
    with pytest.raises(BoundsError):
        check_json_depth(_nested(100_000))


@given(json_values, st.integers(min_value=0, max_value=8))
def test_check_json_depth__raises_exactly_beyond_the_bound(value: Any, max_depth: int) -> None:
    if _depth(value) > max_depth:
        with pytest.raises(BoundsError):
            check_json_depth(value, max_depth)
    else:
        check_json_depth(value, max_depth)


@given(st.integers(min_value=0, max_value=80))
def test_check_json_depth__nesting_of_any_depth(depth: int) -> None:
    if depth > JSON_DEPTH_MAX:
        with pytest.raises(BoundsError):
            check_json_depth(_nested(depth))
    else:
        check_json_depth(_nested(depth))


def test_json_path__quotes_odd_keys() -> None:
    assert json_path(("object", "tag", 0, "name")) == "$.object.tag[0].name"
    assert json_path(("a b", "@context")) == '$["a b"].@context'


def test_limits__wire_format_section_12() -> None:
    assert (limits.JSON_DEPTH_MAX, limits.IRI_MAX) == (32, 2048)
    assert (limits.PREFERRED_USERNAME_MAX, limits.REMOTE_PREFERRED_USERNAME_MAX) == (64, 255)
    assert (limits.NAME_MAX, limits.SUMMARY_MAX, limits.CONTENT_MAX) == (500, 5000, 100_000)
    assert (limits.RECIPIENTS_MAX, limits.TAG_MAX, limits.ATTACHMENT_MAX) == (500, 50, 20)
    assert (limits.ORDERED_ITEMS_MAX, limits.NUMERICAL_VALUE_MAX, limits.REMOTE_ACTOR_FIELDS_MAX) == (
        500,
        20,
        50,
    )
    assert limits.INBOX_BODY_MAX == limits.AS_DOCUMENT_MAX == 1_048_576
    assert limits.DISCOVERY_DOCUMENT_MAX == 65_536
    assert (limits.REDIRECTS_MAX, limits.COLLECTION_PAGES_MAX) == (3, 10)
    assert (limits.TITLE_MAX, limits.BOOKING_CONTENT_MAX, limits.LOCAL_ACTOR_FIELDS_MAX) == (120, 500, 6)
    assert (limits.LISTING_IMAGES_MAX, limits.LISTING_TAGS_MIN, limits.LISTING_TAGS_MAX) == (4, 1, 4)
