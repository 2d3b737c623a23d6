"""Addressing: who an activity is for, whether it is public, where an actor's deliveries go (§9.1, §11).

Addressing fields (``to``, ``cc``, ``bto``, ``bcc``, ``audience``) may hold one value or a list, and each
value an id or an embedded object with an ``id``. Public is recognised in its three spellings
(:data:`schemas.context.PUBLIC_ALIASES`) and is never a recipient.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from schemas.context import PUBLIC, PUBLIC_ALIASES

__all__ = [
    "ADDRESSING_FIELDS",
    "BLIND_FIELDS",
    "PUBLIC",
    "actor_id_of",
    "inbox_for",
    "is_public",
    "recipients",
    "without_blind",
]

ADDRESSING_FIELDS = ("to", "cc", "bto", "bcc", "audience")
"""The fields that address an activity, in the order recipients are listed."""

BLIND_FIELDS = ("bto", "bcc")
"""The blind fields, removed before an activity is sent (§9.1)."""


def actor_id_of(value: Any) -> str | None:
    """Return an id given as a string or as an object's ``id``; ``None`` for anything else.

    >>> actor_id_of("https://a.example/u/x"), actor_id_of({"id": "https://a.example/u/x"}), actor_id_of([])
    ('https://a.example/u/x', 'https://a.example/u/x', None)
    """
    if isinstance(value, str):
        return value or None
    if isinstance(value, Mapping):
        found = value.get("id")
        return found if isinstance(found, str) and found else None
    return None


def _addresses(value: Any) -> Iterator[str]:
    for item in value if isinstance(value, list) else [value]:
        address = actor_id_of(item)
        if address is not None:
            yield address


def recipients(activity: Mapping[str, Any]) -> list[str]:
    """List the ids addressed by ``to``, ``cc``, ``bto``, ``bcc`` and ``audience``: ordered, deduplicated,
    Public left out.

    >>> recipients({"to": ["as:Public", "https://b.example/u/y"], "cc": "https://b.example/u/y",
    ...             "bcc": [{"id": "https://c.example/u/z"}]})
    ['https://b.example/u/y', 'https://c.example/u/z']
    """
    found: dict[str, None] = {}
    for field in ADDRESSING_FIELDS:
        for address in _addresses(activity.get(field)):
            if address not in PUBLIC_ALIASES:
                found.setdefault(address)
    return list(found)


def is_public(activity: Mapping[str, Any]) -> bool:
    """Tell whether Public (in any spelling) is in the activity's ``to`` or ``cc``.

    >>> is_public({"cc": ["Public"]}), is_public({"to": "https://b.example/u/y", "bcc": [PUBLIC]})
    (True, False)
    """
    return any(
        address in PUBLIC_ALIASES for field in ("to", "cc") for address in _addresses(activity.get(field))
    )


def without_blind(activity: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy without ``bto`` and ``bcc``, also removed from an embedded ``object``.

    The argument is not modified.

    >>> without_blind({"type": "Create", "bcc": ["x"], "object": {"id": "o", "bto": ["y"]}})
    {'type': 'Create', 'object': {'id': 'o'}}
    """
    copy = {key: value for key, value in activity.items() if key not in BLIND_FIELDS}
    embedded = copy.get("object")
    if isinstance(embedded, Mapping):
        copy["object"] = {key: value for key, value in embedded.items() if key not in BLIND_FIELDS}
    return copy


def _http_url(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    parts = urlsplit(value)
    return value if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def inbox_for(actor_document: Mapping[str, Any]) -> str | None:
    """Return where to deliver to an actor: ``endpoints.sharedInbox``, else a top-level ``sharedInbox``,
    else ``inbox``; ``None`` when none is an http(s) URL.

    >>> inbox_for({"inbox": "https://b.example/u/y/inbox", "endpoints": {"sharedInbox": "https://b.example/inbox"}})
    'https://b.example/inbox'
    >>> inbox_for({"inbox": "https://b.example/u/y/inbox", "sharedInbox": "javascript:alert(1)"})
    'https://b.example/u/y/inbox'
    """
    endpoints = actor_document.get("endpoints")
    candidates = [
        endpoints.get("sharedInbox") if isinstance(endpoints, Mapping) else None,
        actor_document.get("sharedInbox"),
        actor_document.get("inbox"),
    ]
    for candidate in candidates:
        url = _http_url(candidate)
        if url is not None:
            return url
    return None
