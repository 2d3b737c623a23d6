"""Remote actors: fetched from their origin, checked, and remembered with where to deliver to them."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from federation.addressing import inbox_for
from federation.discovery import software_name
from federation.errors import FetchError, RemoteGoneError, RemoteNotFoundError
from federation.hosts import normalize_host, same_origin
from federation.sanitize import html_to_text
from fedicoop.errors import ValidationError
from fedicoop.models.remote import RemoteActor
from fedicoop.network import Network
from schemas.limits import IRI_MAX, NAME_MAX, REMOTE_PREFERRED_USERNAME_MAX

__all__ = ["ACTOR_TYPES", "REFRESH_AFTER", "actor_fields", "detect_software", "forget_actor", "resolve_actor"]

logger = logging.getLogger("fedicoop.remote")

ACTOR_TYPES = frozenset({"Person", "Service", "Application", "Group", "Organization"})
"""The ActivityStreams actor types a remote actor may have."""

REFRESH_AFTER = timedelta(days=1)
"""How long a fetched actor is used before it is fetched again."""


def _string(document: Mapping[str, Any], name: str, limit: int) -> str | None:
    value = document.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise ValidationError(
            f"remote actor {name} must be a string of at most {limit} characters", field=name
        )
    return value


def actor_fields(actor_iri: str, document: Mapping[str, Any]) -> dict[str, Any]:
    """Check a fetched actor document and return the RemoteActor columns it gives.

    The document must be an actor whose ``id`` is ``actor_iri`` and whose inboxes are http(s) URLs on
    its own origin; ValidationError names what is wrong.
    """
    kind = document.get("type")
    if not isinstance(kind, str) or kind not in ACTOR_TYPES:
        raise ValidationError(f"{actor_iri} is not an actor (type {kind!r})", field="type")
    if document.get("id") != actor_iri:
        raise ValidationError(f"{actor_iri} serves an actor with another id", field="id")
    inbox = inbox_for({"inbox": document.get("inbox")})
    if inbox is None:
        raise ValidationError(f"actor {actor_iri} has no http(s) inbox", field="inbox")
    shared = inbox_for(document)
    for field_name, url in (("inbox", inbox), ("sharedInbox", shared)):
        if url is not None and (len(url) > IRI_MAX or not same_origin(url, actor_iri)):
            raise ValidationError(
                f"actor {actor_iri}: {field_name} {url} is not on its origin", field=field_name
            )
    name = _string(document, "name", NAME_MAX * 4) or ""
    return {
        "host": normalize_host(urlsplit(actor_iri).hostname or ""),
        "type": kind,
        "username": _string(document, "preferredUsername", REMOTE_PREFERRED_USERNAME_MAX),
        "name": html_to_text(name)[:NAME_MAX],
        "inbox": inbox,
        "shared_inbox": shared if shared != inbox else None,
        "manually_approves_followers": document.get("manuallyApprovesFollowers") is True,
        "discoverable": document.get("discoverable") is True,
        "document": dict(document),
        "gone": False,
    }


async def resolve_actor(network: Network, actor_iri: str, *, refresh: bool = False) -> RemoteActor:
    """Return the remote actor ``actor_iri``, fetching it when unknown, stale, or ``refresh`` is asked.

    Raises the FetchError subclasses (RemoteGoneError marks a known actor gone) and ValidationError
    when the document is not a usable actor.
    """
    now = network.node.clock()
    known = await RemoteActor.get_or_none(iri=actor_iri)
    if known is not None and not refresh and not known.gone and now - known.fetched_at < REFRESH_AFTER:
        return known
    try:
        document = await network.fetcher.fetch(actor_iri)
    except (RemoteGoneError, RemoteNotFoundError):
        if known is not None:
            known.gone = True
            await known.save(update_fields=["gone"])
        raise
    except FetchError:
        if known is not None and not known.gone:
            logger.info("using the stored copy of %s: refetch failed", actor_iri)
            return known
        raise
    columns = actor_fields(actor_iri, document)
    actor, _ = await RemoteActor.update_or_create(defaults={**columns, "fetched_at": now}, iri=actor_iri)
    return actor


async def detect_software(network: Network, remote: RemoteActor) -> str | None:
    """Read and remember the NodeInfo software name of a remote actor's server (None when unknown).

    The application actor forwards only events to Mobilizon followers (wire-format §3.2), so it asks
    this of the servers that follow it. A server without readable NodeInfo is treated as generic.
    """
    if remote.software is not None:
        return remote.software
    parts = urlsplit(remote.iri)
    try:
        name = await software_name(
            network.client,
            network.policy,
            f"{parts.scheme}://{parts.netloc}",
            host_allowed=network.hosts.allows,
        )
    except FetchError as exc:
        logger.info("no NodeInfo for %s: %s", remote.iri, exc)
        return None
    remote.software = name[:64]
    await remote.save(update_fields=["software"])
    return remote.software


async def forget_actor(actor_iri: str, now: datetime) -> None:
    """Mark a remote actor gone (it was deleted at its origin)."""
    await RemoteActor.filter(iri=actor_iri).update(gone=True, fetched_at=now)
