"""Every URL a node mints, built from its base URL in one place (wire-format §1 layout)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class Urls:
    """The id and page URLs of one node; ``base`` is the bare origin, e.g. ``https://coop.example``."""

    base: str

    @property
    def host(self) -> str:
        """The host (and port) part of the base URL."""
        return self.base.split("://", 1)[1]

    def absolute(self, path: str) -> str:
        """``path`` (starting with ``/``) on this node."""
        return f"{self.base}{path}"

    @property
    def application_actor(self) -> str:
        """The Application actor's id (``/actor``)."""
        return f"{self.base}/actor"

    @property
    def shared_inbox(self) -> str:
        """The shared inbox."""
        return f"{self.base}/inbox"

    def actor(self, username: str) -> str:
        """An Organization actor's id."""
        return f"{self.base}/actors/{username}"

    def local_username(self, iri: str) -> str | None:
        """The username of the Organization actor whose id is ``iri`` on this node; None for any other IRI
        (another node's, the application actor, an actor's collection).

        >>> urls = Urls("https://velo-fives.example")
        >>> urls.local_username("https://velo-fives.example/actors/atelier-fives")
        'atelier-fives'
        >>> urls.local_username("https://velo-fives.example/actors/atelier-fives/followers") is None
        True
        """
        username = iri.removeprefix(self.actor(""))
        if username == iri or not username or "/" in username:
            return None
        return username

    def actor_collection(self, actor_id: str, name: str) -> str:
        """One of an actor's endpoints: inbox, outbox, followers or following."""
        return f"{actor_id}/{name}"

    def key_id(self, actor_id: str) -> str:
        """The id of an actor's main key."""
        return f"{actor_id}#main-key"

    def profile(self, username: str) -> str:
        """An Organization actor's HTML profile page."""
        return f"{self.base}/@{username}"

    def listing(self, listing_id: uuid.UUID) -> str:
        """A listing's id (offers, requests, repair offers)."""
        return f"{self.base}/listings/{listing_id}"

    def slots(self, listing_id: uuid.UUID) -> str:
        """A repair offer's slot collection."""
        return f"{self.listing(listing_id)}/slots"

    def event(self, event_id: uuid.UUID) -> str:
        """An event's id."""
        return f"{self.base}/events/{event_id}"

    def place(self, place_id: uuid.UUID) -> str:
        """A place's id."""
        return f"{self.base}/places/{place_id}"

    def activity(self, activity_id: uuid.UUID) -> str:
        """An activity's id."""
        return f"{self.base}/activities/{activity_id}"

    def tag(self, name: str) -> str:
        """A hashtag's page."""
        return f"{self.base}/tags/{name.lower()}"
