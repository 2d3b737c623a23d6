"""Media objects and the tolerant tag and attachment unions."""

from __future__ import annotations

from pydantic import TypeAdapter

from schemas.base import ASObject
from schemas.media import AttachmentItem, Document, Hashtag, Image, Link, TagItem


def test_tag_item__routes_by_type() -> None:
    adapter: TypeAdapter[TagItem] = TypeAdapter(TagItem)
    assert isinstance(adapter.validate_python({"type": "Hashtag", "name": "#Velo"}), Hashtag)
    mention = adapter.validate_python({"type": "Mention", "href": "https://a.example/a", "name": "@a"})
    assert type(mention) is ASObject
    assert adapter.validate_python("https://a.example/tags/x") == "https://a.example/tags/x"


def test_attachment_item__routes_by_type() -> None:
    adapter: TypeAdapter[AttachmentItem] = TypeAdapter(AttachmentItem)
    assert isinstance(adapter.validate_python({"type": "Image", "url": "https://a.example/i.png"}), Image)
    assert isinstance(
        adapter.validate_python({"type": "Document", "url": "https://a.example/d.jpg"}), Document
    )
    assert isinstance(adapter.validate_python({"type": "Link", "href": "https://a.example/"}), Link)
    assert type(adapter.validate_python({"type": "Video", "url": "https://a.example/v.mp4"})) is ASObject


def test_link__rel_one_or_many() -> None:
    link = Link.model_validate({"type": "Link", "href": "https://a.example/", "rel": "payment"})
    assert link.rel == ["payment"]


def test_image__url_as_link_tolerated() -> None:
    image = Image.model_validate(
        {"type": "Image", "url": {"type": "Link", "href": "https://a.example/i.png"}}
    )
    assert isinstance(image.url, Link)
    assert image.to_wire()["url"] == {"type": "Link", "href": "https://a.example/i.png"}
