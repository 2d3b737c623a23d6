"""The small objects embedded in ``icon``, ``image``, ``attachment``, ``tag`` and ``url``.

``Image`` (logos, listing photos), ``Document`` (an event banner), ``Link`` (FEP-0ea0 links, an
agreement's page) and ``Hashtag``; plus the tolerant unions used to read ``tag`` and ``attachment``
lists, where anything we do not model is kept as an :class:`~schemas.base.ASObject`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, Tag

from schemas.base import IRI, OTHER_TAG, REF_TAG, ASModel, ASObject, OneOrMany, discriminator
from schemas.limits import NAME_MAX


class Link(ASModel):
    """An ActivityStreams ``Link``: ``href`` with optional ``name``, ``mediaType`` and ``rel`` values."""

    type: Literal["Link"] = "Link"
    name: str | None = Field(default=None, max_length=NAME_MAX)
    media_type: str | None = None
    href: IRI
    rel: OneOrMany[str] | None = None


UrlValue = IRI | Link | list[IRI | Link]
"""A ``url`` value: an IRI, a ``Link``, or a list of them (PeerTube and others send lists)."""


class Image(ASModel):
    """An ``Image``: ``url`` (an IRI on what we serve), ``mediaType``, the alt text of a photo in ``name``."""

    type: Literal["Image"] = "Image"
    media_type: str | None = None
    url: UrlValue
    name: str | None = Field(default=None, max_length=NAME_MAX)


class Document(ASModel):
    """A ``Document`` attachment; an event banner is an image ``Document`` named ``"Banner"`` (§7)."""

    type: Literal["Document"] = "Document"
    name: str | None = Field(default=None, max_length=NAME_MAX)
    media_type: str | None = None
    url: UrlValue


class Hashtag(ASModel):
    """A ``Hashtag`` tag: ``name`` with its ``#`` and the ``href`` of the tag page."""

    type: Literal["Hashtag"] = "Hashtag"
    name: str = Field(max_length=NAME_MAX)
    href: IRI | None = None


TagItem = Annotated[
    Annotated[Hashtag, Tag("Hashtag")] | Annotated[ASObject, Tag(OTHER_TAG)] | Annotated[str, Tag(REF_TAG)],
    discriminator({"Hashtag": "Hashtag"}),
]
"""One entry of ``tag``: a :class:`Hashtag`, or anything else (a Mention, an Emoji, an IRI) kept as is."""

AttachmentItem = Annotated[
    Annotated[Image, Tag("Image")]
    | Annotated[Document, Tag("Document")]
    | Annotated[Link, Tag("Link")]
    | Annotated[ASObject, Tag(OTHER_TAG)]
    | Annotated[str, Tag(REF_TAG)],
    discriminator({"Image": "Image", "Document": "Document", "Link": "Link"}),
]
"""One entry of an object's ``attachment``: an :class:`Image`, :class:`Document` or :class:`Link`, or else."""
