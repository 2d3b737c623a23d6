"""Context constants, the category taxonomy and Public detection."""

from __future__ import annotations

import pytest

from schemas.context import (
    AS_CONTEXT,
    CATEGORIES,
    FEDICOOP_CONTEXT,
    FEDICOOP_NS,
    PUBLIC,
    SECURITY_CONTEXT,
    category_iri,
    category_slug,
    fedicoop_context,
    is_public,
)
from schemas.errors import UnknownCategoryError


def test_fedicoop_context__shape() -> None:
    assert FEDICOOP_CONTEXT[0] == AS_CONTEXT
    assert FEDICOOP_CONTEXT[1] == SECURITY_CONTEXT
    inline = FEDICOOP_CONTEXT[2]
    assert not isinstance(inline, str)
    assert inline["fc"] == FEDICOOP_NS
    assert len(FEDICOOP_CONTEXT) == 3


def test_fedicoop_context__copy_is_independent() -> None:
    copy = fedicoop_context()
    assert copy == FEDICOOP_CONTEXT
    copy[2]["fc"] = "x"
    copy.append("y")
    assert FEDICOOP_CONTEXT == fedicoop_context()
    assert len(FEDICOOP_CONTEXT) == 3


def test_category_iri__builds_from_the_namespace() -> None:
    assert category_iri("reparation-velo") == "https://w3id.org/fedicoop/ns/categories/reparation-velo"
    assert category_iri("travaux-outillage").startswith(FEDICOOP_NS.removesuffix("#"))


def test_category_iri__unknown_slug() -> None:
    with pytest.raises(UnknownCategoryError, match="velos"):
        category_iri("velos")


def test_category_slug__round_trip_and_unknown() -> None:
    for slug in CATEGORIES:
        assert category_slug(category_iri(slug)) == slug
    assert category_slug("https://w3id.org/fedicoop/ns/categories/nope") is None
    assert category_slug("https://ebs-lille.example/fr/categories/travaux-outillage") is None


def test_categories__starter_taxonomy() -> None:
    kinds = {
        kind: [c.slug for c in CATEGORIES.values() if c.kind == kind]
        for kind in ("object", "service", "repair")
    }
    assert kinds["object"] == [
        "velos-accessoires",
        "travaux-outillage",
        "jardinage",
        "maison-cuisine",
        "enfance-puericulture",
        "sport-loisirs",
        "multimedia-informatique",
        "autres-objets",
    ]
    assert kinds["service"] == [
        "cours",
        "soutien-scolaire",
        "bricolage-depannage",
        "transport-demenagement",
        "aide-numerique",
        "autres-services",
    ]
    assert kinds["repair"] == ["reparation-velo"]
    assert CATEGORIES["velos-accessoires"].label == "Vélos & accessoires"
    assert CATEGORIES["reparation-velo"].iri == category_iri("reparation-velo")


def test_categories__immutable() -> None:
    with pytest.raises(TypeError):
        CATEGORIES["x"] = CATEGORIES["cours"]  # type: ignore[index]


@pytest.mark.parametrize("address", [PUBLIC, "as:Public", "Public"])
def test_is_public__every_spelling(address: str) -> None:
    assert is_public(address)
    assert is_public(["https://a.example/followers", address])


def test_is_public__not_public() -> None:
    assert not is_public(None)
    assert not is_public([])
    assert not is_public("https://a.example/followers")
    assert not is_public(["https://www.w3.org/ns/activitystreams#Publicity"])
