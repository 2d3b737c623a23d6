"""Collections (wire-format §4.5): paged ``OrderedCollection`` roots, their pages, plain ``Collection``.

A root carries ``id``, ``totalItems`` and ``first`` (no items); a page carries ``partOf``, ``next``/``prev``
and ``orderedItems``, typed by the page's item model (``OrderedCollectionPage[Create]`` for an outbox,
``OrderedCollectionPage[str]`` for ``following``).
"""

from __future__ import annotations

from typing import Annotated, Generic, Literal, TypeVar

from pydantic import Field

from schemas.base import IRI, ASModel, ASObject, OneOrMany
from schemas.limits import ORDERED_ITEMS_MAX

ItemT = TypeVar("ItemT")


class OrderedCollection(ASModel):
    """The root of a paged collection, ``totalItems`` and ``first``; ``followers`` shows ``totalItems`` only.

    ``first``/``last`` are IRIs on what we serve; some peers embed the first page, kept as an
    :class:`~schemas.base.ASObject`.
    """

    id: IRI
    type: Literal["OrderedCollection"] = "OrderedCollection"
    total_items: Annotated[int, Field(ge=0)] | None = None
    first: IRI | ASObject | None = None
    last: IRI | ASObject | None = None


class OrderedCollectionPage(ASModel, Generic[ItemT]):
    """One page of a paged collection (``?page=N``): ``partOf``, ``next``/``prev`` and ``orderedItems``."""

    id: IRI
    type: Literal["OrderedCollectionPage"] = "OrderedCollectionPage"
    part_of: IRI | None = None
    total_items: Annotated[int, Field(ge=0)] | None = None
    next: IRI | None = None
    prev: IRI | None = None
    ordered_items: OneOrMany[ItemT] = Field(default_factory=list, max_length=ORDERED_ITEMS_MAX)


class Collection(ASModel):
    """An unordered ``Collection`` embedded with its items, such as an event's ``organizers`` (§7)."""

    id: IRI | None = None
    type: Literal["Collection"] = "Collection"
    total_items: Annotated[int, Field(ge=0)] | None = None
    items: Annotated[OneOrMany[IRI | ASObject], Field(max_length=ORDERED_ITEMS_MAX)] | None = None
    first: IRI | ASObject | None = None
