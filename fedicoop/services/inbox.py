"""Receiving activities: verify → validate → persist, the synchronous half of the inbox (wire-format §12).

:func:`receive` works on the request as the web layer read it. It raises a typed error for every
refusal (the error table maps each to its status: 400, 401, 403, 413, 415) and writes nothing then; an
accepted activity is stored once, unique by its id, for the worker to process (:mod:`processing`). A
duplicate, or a Delete whose actor is gone, is acknowledged without being stored again.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import pydantic

from federation.addressing import actor_id_of
from federation.errors import (
    FederationError,
    HostBlockedError,
    KeyUnavailableError,
    OriginError,
    RemoteGoneError,
    RemoteNotFoundError,
)
from federation.origin import Trust, check_origins, trust_of
from fedicoop.errors import (
    BadRequestError,
    ForbiddenError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
)
from fedicoop.models.deliveries import DomainHealth
from fedicoop.network import Network
from fedicoop.services.deliveries import host_of, host_succeeded
from fedicoop.services.inbox_store import InboxRow, InboxWriter
from schemas.activities import ACTIVITY_TYPES, parse_activity
from schemas.errors import BoundsError
from schemas.limits import INBOX_BODY_MAX, IRI_MAX, JSON_DEPTH_MAX, check_json_depth

__all__ = [
    "INBOX_MEDIA_TYPES",
    "HealthyHosts",
    "Incoming",
    "Intake",
    "Receipt",
    "ReceiptStatus",
    "heard_from",
    "parse_body",
    "receive",
]

logger = logging.getLogger("fedicoop.inbox")

INBOX_MEDIA_TYPES = frozenset({"application/activity+json", "application/ld+json", "application/json"})
"""The media types an inbox reads (anything else: 415)."""


class ReceiptStatus(StrEnum):
    """What became of an accepted POST: stored, already known, or dropped on purpose."""

    STORED = "stored"
    DUPLICATE = "duplicate"
    DROPPED = "dropped"


@dataclass(frozen=True, slots=True)
class Incoming:
    """An inbox request as received: method, absolute URL, raw headers, body, and the addressed actor.

    ``recipient`` is the username of a personal inbox, or ``None`` for the shared inbox.
    """

    method: str
    url: str
    headers: Sequence[tuple[str, str]]
    body: bytes
    recipient: str | None = None

    def header(self, name: str) -> str | None:
        """The first value of a header, by case-insensitive name."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)


@dataclass(frozen=True, slots=True)
class Receipt:
    """The inbox's answer: what happened, the activity id when there is one, and why."""

    status: ReceiptStatus
    activity_id: str | None
    detail: str


def check_media_type(content_type: str | None) -> None:
    """Raise UnsupportedMediaTypeError unless the body is JSON of an ActivityStreams kind."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type not in INBOX_MEDIA_TYPES:
        raise UnsupportedMediaTypeError(
            f"Content-Type {content_type or '(none)'} is not application/activity+json", field="Content-Type"
        )


ENVELOPE_ONLY = frozenset({"Create", "Update"})
"""Activities whose embedded object is judged later, by the catalogue: the inbox checks the envelope only.

An object that is not one of ours (a Mastodon post, another FEP-0837 dialect) is not a malformed
request: it is stored, then processed as ignored.
"""


def _first_error(exc: pydantic.ValidationError) -> tuple[str, str]:
    error = exc.errors()[0]
    location = ".".join(str(part) for part in error["loc"])
    return location, error["msg"]


def parse_body(body: bytes) -> dict[str, Any]:
    """Parse and validate an activity's JSON (§12 step 3): an object with string id, type and actor.

    Raises BadRequestError naming the field and the rule; a known activity type must also fit its
    schema (bounds included).
    """
    if len(body) > INBOX_BODY_MAX:
        raise PayloadTooLargeError(f"body over {INBOX_BODY_MAX} bytes")
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequestError(f"body is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise BadRequestError(f"body must be a JSON object, not {type(document).__name__}")
    if body.count(b"{") + body.count(b"[") > JSON_DEPTH_MAX:  # else fewer containers than the bound
        try:
            check_json_depth(document)
        except BoundsError as exc:
            raise BadRequestError(str(exc)) from None
    for name in ("id", "type"):
        value = document.get(name)
        if not isinstance(value, str) or not value:
            raise BadRequestError(f"activity {name} must be a non-empty string", field=name)
    actor = actor_id_of(document.get("actor"))
    if actor is None:
        raise BadRequestError("activity actor must be an id or an object with an id", field="actor")
    for name, value in (("id", document["id"]), ("actor", actor)):
        if len(value) > IRI_MAX or urlsplit(value).scheme not in ("http", "https"):
            raise BadRequestError(f"activity {name} must be an http(s) URL of at most {IRI_MAX} characters")
    if document["type"] in ACTIVITY_TYPES:
        envelope = document
        if document["type"] in ENVELOPE_ONLY and isinstance(document.get("object"), dict):
            object_id = actor_id_of(document["object"])
            if object_id is None:
                raise BadRequestError(f"{document['type']} object has no id", field="object.id")
            envelope = {**document, "object": object_id}
        try:
            parse_activity(envelope)
        except pydantic.ValidationError as exc:
            location, message = _first_error(exc)
            raise BadRequestError(f"{document['type']} {location}: {message}", field=location) from None
    return document


def _object_host(document: Mapping[str, Any]) -> str | None:
    value = actor_id_of(document.get("object"))
    return urlsplit(value).hostname if value else None


def _peek_delete(body: bytes) -> str | None:
    """The id of the activity when ``body`` is a Delete (for the gone-actor rule), else ``None``."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        return None
    if (
        isinstance(document, dict)
        and document.get("type") == "Delete"
        and isinstance(document.get("id"), str)
    ):
        return str(document["id"])
    return None


class HealthyHosts:
    """Hosts whose health record was read clear (or cleared) a moment ago, for :func:`heard_from` to skip.

    A busy peer signs many requests a second; reading its ``DomainHealth`` row for each one was a tenth
    of the inbox's time (bench/README.md). A host stays known clear for ``ttl`` seconds of ``clock``
    (monotonic, not the node's clock, which tests freeze): a delivery failure recorded meanwhile is
    cleared by the first signed request after that, a delay of no consequence next to the seven failing
    days that make a host unavailable. At most ``max_entries`` hosts are kept.
    """

    def __init__(
        self, ttl: float = 30.0, *, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._until: dict[str, float] = {}

    def known_clear(self, host: str) -> bool:
        """Whether ``host``'s record was found clear less than ``ttl`` seconds ago."""
        until = self._until.get(host)
        if until is None:
            return False
        if until > self.clock():
            return True
        del self._until[host]
        return False

    def clear(self, host: str) -> None:
        """Remember that ``host``'s record is clear now."""
        if len(self._until) >= self.max_entries:
            now = self.clock()
            self._until = {name: until for name, until in self._until.items() if until > now}
            if len(self._until) >= self.max_entries:
                self._until.clear()
        self._until[host] = self.clock() + self.ttl


async def heard_from(signer: str, now: datetime, healthy: HealthyHosts | None = None) -> None:
    """A correctly signed request from ``signer``'s host clears that host's failing days (wire-format §11).

    One indexed read per request (none while ``healthy`` knows the host clear); the write happens only
    when the host has something to clear.
    """
    try:
        host = host_of(signer)
    except FederationError:
        return
    if healthy is not None and healthy.known_clear(host):
        return
    health = await DomainHealth.filter(host=host).only("id", "unavailable", "failure_days").first()
    if health is not None and (health.unavailable or health.failure_days):
        await host_succeeded(host, now)
    if healthy is not None:
        healthy.clear(host)


@dataclass(slots=True)
class Intake:
    """What the inbox requests of one app share: hosts known clear, and the writer batching their rows."""

    healthy: HealthyHosts = field(default_factory=HealthyHosts)
    writer: InboxWriter = field(default_factory=InboxWriter)


async def receive(network: Network, incoming: Incoming, intake: Intake | None = None) -> Receipt:
    """Verify, validate and store one inbox POST; raise a typed error (and store nothing) to refuse it.

    Order (§12): size → media type → signature → JSON and bounds → blocks → origins → unique insert.
    ``intake`` is shared by an app's requests (a fresh one, sharing nothing, when omitted).
    """
    intake = intake or Intake()
    if len(incoming.body) > INBOX_BODY_MAX:
        raise PayloadTooLargeError(f"body over {INBOX_BODY_MAX} bytes")
    check_media_type(incoming.header("content-type"))
    try:
        signer = await network.checker.verify(incoming.method, incoming.url, incoming.headers, incoming.body)
    except KeyUnavailableError as exc:
        deleted = _peek_delete(incoming.body)
        if deleted is not None and isinstance(exc.__cause__, RemoteGoneError | RemoteNotFoundError):
            return Receipt(ReceiptStatus.DROPPED, deleted, "Delete from an actor that is gone: dropped")
        if isinstance(exc.__cause__, HostBlockedError):
            raise ForbiddenError(
                f"the signer's host does not federate with this node: {exc.__cause__}"
            ) from None
        raise
    await heard_from(signer, network.node.clock(), intake.healthy)
    document = parse_body(incoming.body)
    actor = actor_id_of(document["actor"]) or ""
    for role, url in (("signer", signer), ("actor", actor)):
        if not network.hosts.allows_url(url):
            raise ForbiddenError(
                f"the {role}'s host {urlsplit(url).hostname} does not federate with this node"
            )
    object_host = _object_host(document)
    if object_host is not None and not network.hosts.allows(object_host):
        raise ForbiddenError(f"the object's host {object_host} does not federate with this node")
    try:
        check_origins(document)
    except OriginError as exc:
        raise BadRequestError(str(exc)) from None
    trust = trust_of(document, signer)
    row = InboxRow(
        activity_iri=document["id"],
        type=document["type"],
        actor_iri=actor,
        signer_iri=signer,
        authentic=trust is Trust.AUTHENTIC,
        recipient=incoming.recipient,
        document=document,
        received_at=network.node.clock(),
    )
    if not await intake.writer.store(row):
        return Receipt(ReceiptStatus.DUPLICATE, document["id"], "already received")
    return Receipt(ReceiptStatus.STORED, document["id"], "accepted for processing")
