"""EBS categories → fedicoop categories (domain.md §4).

Each EBS instance defines its own two-level tree. A product's category, then its parent, is looked up
in the node's mapping (``ebs_categories``: EBS slug → fedicoop slug), then matched by folded name
against the starter taxonomy ("Vélos & accessoires" is ``velos-accessoires``); what matches nothing
falls back to ``autres-objets`` or ``autres-services``.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Mapping

from fedicoop.connectors.ebs.records import EbsCategory
from fedicoop.connectors.errors import ConnectorError
from schemas.context import CATEGORIES

FALLBACK = {"object": "autres-objets", "service": "autres-services"}

_NOT_WORD = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """A name reduced to lowercase ASCII words joined by ``-``.

    >>> fold("Vélos & accessoires"), fold("  Enfance & Puériculture ")
    ('velos-accessoires', 'enfance-puericulture')
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("œ", "oe").replace("æ", "ae"))
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _NOT_WORD.sub("-", bare).strip("-")


class CategoryMapper:
    """Maps the categories of one EBS database, with the node's explicit mapping first."""

    def __init__(self, categories: Mapping[uuid.UUID, EbsCategory], mapping: Mapping[str, str]) -> None:
        self.categories = categories
        self.mapping = mapping
        self._by_name: dict[tuple[str, str], str] = {}
        for slug, category in CATEGORIES.items():
            self._by_name[(category.kind, slug)] = slug
            self._by_name[(category.kind, fold(category.label))] = slug

    def slug_for(self, category_id: uuid.UUID, kind: str) -> str:
        """The fedicoop slug of the EBS category ``category_id`` for a product of ``kind`` (object or
        service). Raises :class:`ConnectorError` when the node's mapping sends it to a category of another
        kind."""
        chain = self._chain(category_id)
        for category in chain:
            slug = self.mapping.get(category.slug)
            if slug is not None:
                if CATEGORIES[slug].kind != kind:
                    raise ConnectorError(
                        f"EBS option categories maps {category.slug!r} to {slug!r}, a category of kind "
                        f"{CATEGORIES[slug].kind!r}, but its products are of kind {kind!r}"
                    )
                return slug
        for category in chain:
            for key in (fold(category.name), fold(category.slug)):
                slug = self._by_name.get((kind, key))
                if slug is not None:
                    return slug
        return FALLBACK[kind]

    def _chain(self, category_id: uuid.UUID) -> list[EbsCategory]:
        chain: list[EbsCategory] = []
        current = self.categories.get(category_id)
        while current is not None and current not in chain:
            chain.append(current)
            current = self.categories.get(current.parent_id) if current.parent_id is not None else None
        return chain
