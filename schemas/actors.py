"""Actors (wire-format §3): the ``Organization`` and ``Application`` documents and what they embed.

One :class:`Actor` model serves both our actors (``Organization`` for cooperatives, workshops and places;
``Application`` for the node's relay actor) and remote ones (``Person``, ``Group``, ``Service``), read
tolerantly with the remote bounds of §12. Local-only rules (username pattern, six fields) are exposed as
:func:`check_local_username` and the constants of ``schemas.limits``.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import Field, Tag

from schemas.base import IRI, OTHER_TAG, REF_TAG, ASModel, ASObject, OneOrMany, UtcDateTime, discriminator
from schemas.limits import (
    FIELD_VALUE_MAX,
    LOCAL_USERNAME_PATTERN,
    NAME_MAX,
    PUBLIC_KEY_PEM_MAX,
    REMOTE_ACTOR_FIELDS_MAX,
    REMOTE_PREFERRED_USERNAME_MAX,
    RESERVED_USERNAMES,
    SUMMARY_MAX,
)
from schemas.media import Image, Link, UrlValue
from schemas.places import Location

__all__ = [
    "ACTOR_TYPES",
    "Actor",
    "ActorField",
    "ActorType",
    "Endpoints",
    "Image",
    "Link",
    "OpeningHoursSpecification",
    "PropertyValue",
    "PublicKey",
    "check_local_username",
]

ActorType = Literal["Organization", "Application", "Person", "Group", "Service"]
"""The five ActivityStreams actor types."""

ACTOR_TYPES: frozenset[str] = frozenset({"Organization", "Application", "Person", "Group", "Service"})
"""The five ActivityStreams actor types, as a set for routing."""

_LOCAL_USERNAME = re.compile(LOCAL_USERNAME_PATTERN)


def check_local_username(username: str) -> str:
    """Return ``username`` if it may name a local actor (§3.1), else raise ``ValueError`` saying why."""
    if not _LOCAL_USERNAME.match(username):
        raise ValueError(f"a local username is 1–64 of a-z 0-9 - _, got {username!r}")
    if username in RESERVED_USERNAMES:
        raise ValueError(f"username {username!r} is reserved")
    return username


class PublicKey(ASModel):
    """The actor's RSA key (security v1): ``id`` ``{actor}#main-key``, ``owner`` the actor, SPKI PEM."""

    id: IRI
    owner: IRI
    public_key_pem: str = Field(max_length=PUBLIC_KEY_PEM_MAX)


class Endpoints(ASModel):
    """The actor's ``endpoints``; we always serve ``sharedInbox``."""

    shared_inbox: IRI | None = None


class PropertyValue(ASModel):
    """A profile field (Mastodon shows the first four): plain-text ``name``, HTML ``value``."""

    type: Literal["PropertyValue"] = "PropertyValue"
    name: str = Field(max_length=NAME_MAX)
    value: str = Field(max_length=FIELD_VALUE_MAX)


class OpeningHoursSpecification(ASModel):
    """One weekly opening range, or an exceptional closure (``opens`` = ``closes`` = ``"00:00"`` with dates).

    ``dayOfWeek`` holds schema.org day IRIs (``https://schema.org/Tuesday``); ``opens``/``closes`` are
    ``HH:MM``; ``validFrom``/``validThrough`` are dates.
    """

    type: Literal["OpeningHoursSpecification"] = "OpeningHoursSpecification"
    day_of_week: OneOrMany[IRI] | None = None
    opens: Annotated[str, Field(pattern=r"^[0-2][0-9]:[0-5][0-9](:[0-5][0-9])?$")] | None = None
    closes: Annotated[str, Field(pattern=r"^[0-2][0-9]:[0-5][0-9](:[0-5][0-9])?$")] | None = None
    valid_from: date | None = None
    valid_through: date | None = None


ActorField = Annotated[
    Annotated[PropertyValue, Tag("PropertyValue")]
    | Annotated[Link, Tag("Link")]
    | Annotated[ASObject, Tag(OTHER_TAG)]
    | Annotated[str, Tag(REF_TAG)],
    discriminator({"PropertyValue": "PropertyValue", "Link": "Link"}),
]
"""One entry of an actor's ``attachment``: a PropertyValue field, a FEP-0ea0 Link, or anything else."""


class Actor(ASModel):
    """An actor document, local (``Organization``, ``Application``) or remote (§3).

    ``preferred_username`` and ``inbox`` are required (Mastodon refuses actors without them); the other
    endpoints are optional on input and always set on what we serve. ``public_key`` may be a list on
    input (§10.5). ``attachment`` is bounded by the remote bound (50); a local actor uses at most six.
    """

    id: IRI
    type: ActorType
    preferred_username: str = Field(min_length=1, max_length=REMOTE_PREFERRED_USERNAME_MAX)
    name: str | None = Field(default=None, max_length=NAME_MAX)
    summary: str | None = Field(default=None, max_length=SUMMARY_MAX)
    url: UrlValue | None = None
    inbox: IRI
    outbox: IRI | None = None
    followers: IRI | None = None
    following: IRI | None = None
    endpoints: Endpoints | None = None
    manually_approves_followers: bool | None = None
    discoverable: bool | None = None
    indexable: bool | None = None
    published: UtcDateTime | None = None
    icon: Image | list[Image] | None = None
    image: Image | list[Image] | None = None
    public_key: PublicKey | list[PublicKey] | None = None
    location: Location | None = None
    opening_hours_specification: OneOrMany[OpeningHoursSpecification] | None = None
    attachment: Annotated[OneOrMany[ActorField], Field(max_length=REMOTE_ACTOR_FIELDS_MAX)] | None = None

    def shared_inbox_or_inbox(self) -> str:
        """Return the delivery inbox: ``endpoints.sharedInbox``, top-level ``sharedInbox``, else ``inbox``."""
        if self.endpoints is not None and self.endpoints.shared_inbox is not None:
            return self.endpoints.shared_inbox
        top_level = getattr(self, "sharedInbox", None)
        if isinstance(top_level, str):
            return top_level
        return self.inbox

    def public_keys(self) -> list[PublicKey]:
        """Return the actor's ``publicKey`` entries as a list (empty when there is none)."""
        if self.public_key is None:
            return []
        if isinstance(self.public_key, list):
            return list(self.public_key)
        return [self.public_key]
