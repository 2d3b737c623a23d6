"""Same-origin rules for inbound activities (FEP-fe34, wire-format §10.5) and the trust of a signer.

An origin is scheme + normalised host + non-default port (:func:`federation.hosts.origin`). An
activity's ``id`` has the origin of its ``actor``; a ``Create`` or ``Update`` carries an object whose
``id`` and ``attributedTo`` have that origin too; a ``Delete`` deletes an object (id or Tombstone) of
that origin. :func:`check_origins` raises :class:`~federation.errors.OriginError` naming the field that
breaks a rule. Whether the activity can be believed at all is :func:`trust_of`: only when the signer
is its actor.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from federation.addressing import actor_id_of
from federation.errors import HostError, OriginError
from federation.hosts import origin
from schemas.base import type_names

__all__ = ["OriginError", "Trust", "check_origins", "trust_of"]

_CREATE_LIKE = frozenset({"Create", "Update"})


class Trust(StrEnum):
    """How far an activity can be believed: signed by its actor, or relayed by someone else."""

    AUTHENTIC = "authentic"
    RELAYED = "relayed"


def _origin_of(field: str, value: str) -> str:
    try:
        return origin(value)
    except HostError as exc:
        raise OriginError(f"{field} {value!r} is not an http(s) URL: {exc}") from exc


def _require(field: str, value: Any, expected: str) -> None:
    found = actor_id_of(value)
    if found is None:
        raise OriginError(f"{field} is missing")
    if _origin_of(field, found) != expected:
        raise OriginError(f"{field} {found} is not on the actor's origin {expected}")


def check_origins(activity: Mapping[str, Any]) -> None:
    """Raise OriginError unless the activity's ids follow the FEP-fe34 same-origin rules.

    >>> check_origins({"id": "https://a.example/a/1", "type": "Delete", "actor": "https://a.example/u/x",
    ...                "object": {"type": "Tombstone", "id": "https://b.example/n/1"}})
    Traceback (most recent call last):
    ...
    federation.errors.OriginError: object.id https://b.example/n/1 is not on the actor's origin https://a.example
    """
    actor = actor_id_of(activity.get("actor"))
    if actor is None:
        raise OriginError("actor is missing")
    expected = _origin_of("actor", actor)
    _require("id", activity.get("id"), expected)
    kinds = type_names(activity)
    embedded = activity.get("object")
    if kinds & _CREATE_LIKE:
        _require("object.id", embedded, expected)
        if isinstance(embedded, Mapping) and "attributedTo" in embedded:
            authors = embedded["attributedTo"]
            for author in authors if isinstance(authors, list) else [authors]:
                _require("object.attributedTo", author, expected)
    if "Delete" in kinds:
        _require("object.id", embedded, expected)


def trust_of(activity: Mapping[str, Any], signer: str) -> Trust:
    """Return AUTHENTIC when ``signer`` (the owner of the verifying key) is the activity's actor.

    >>> trust_of({"actor": {"id": "https://a.example/u/x"}}, "https://a.example/u/x")
    <Trust.AUTHENTIC: 'authentic'>
    >>> trust_of({"actor": "https://a.example/u/x"}, "https://relay.example/actor")
    <Trust.RELAYED: 'relayed'>
    """
    actor = actor_id_of(activity.get("actor"))
    return Trust.AUTHENTIC if actor is not None and actor == signer else Trust.RELAYED
