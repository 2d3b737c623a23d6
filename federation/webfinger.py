"""Resolving ``@name@host`` handles to actor ids with WebFinger (wire-format §4.1, RFC 7033).

:func:`resolve_handle` queries ``/.well-known/webfinger`` with ``Accept: application/jrd+json,
application/json`` under the 64 KiB discovery cap, tries the host-meta ``lrdd`` template once when the
well-known URL answers 404, fetches the ActivityStreams ``self`` link, and checks the round trip as
Mastodon does: when the actor lives on another host than the handle, that host's WebFinger must map
``acct:{preferredUsername}@{actor host}`` back to the same actor id. Discovery requests follow at most
``policy.max_redirects`` redirects, to any host the block list allows (split-domain setups redirect
``/.well-known/webfinger`` to the server's own host); the round trip is what makes that safe.

The first query uses ``https``, or ``http`` when ``policy.insecure_peers`` is set (tests and local
demos run plain-HTTP peers; there is no https-then-http fallback). The round-trip query uses the scheme
of the actor id.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote, urlsplit
from xml.etree import ElementTree

from pydantic import ValidationError

from federation.discovery import discovery_get
from federation.errors import HandleError, HostError, WebFingerError
from federation.hosts import normalize_authority
from federation.http import AsyncClient, HttpPolicy
from schemas.discovery import WebFinger
from schemas.limits import REMOTE_PREFERRED_USERNAME_MAX

__all__ = ["ACCEPT_JRD", "HandleError", "lookup", "parse_handle", "resolve_handle"]

ACCEPT_JRD = "application/jrd+json, application/json"
"""The ``Accept`` of WebFinger queries."""

_NAME = re.compile(r"[A-Za-z0-9_.~-]+")
_XRD_LINK = "{http://docs.oasis-open.org/ns/xri/xrd-1.0}Link"


def parse_handle(handle: str) -> tuple[str, str]:
    """Split ``@name@host``, ``name@host`` or ``acct:name@host`` into the name and the normalised host.

    The host keeps a non-default port (``localhost:8000``); it is IDNA-normalised and lowercased.
    Anything else raises HandleError.

    >>> parse_handle("@Atelier-Fives@Velo-Fives.EXAMPLE")
    ('Atelier-Fives', 'velo-fives.example')
    >>> parse_handle("acct:relay@localhost:8000")
    ('relay', 'localhost:8000')
    """
    text = handle.strip()
    if text[:5].lower() == "acct:":
        text = text[5:]
    elif text.startswith("@"):
        text = text[1:]
    name, at, host = text.partition("@")
    if not at or not name or not host or "@" in host:
        raise HandleError(f"handle {handle!r} is not of the form @name@host")
    if len(name) > REMOTE_PREFERRED_USERNAME_MAX or not _NAME.fullmatch(name):
        raise HandleError(f"handle {handle!r} has an invalid name {name!r}")
    try:
        return name, normalize_authority(host)
    except HostError as exc:
        raise HandleError(f"handle {handle!r} has an invalid host: {exc}") from exc


def _lrdd_template(body: bytes) -> str | None:
    if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        return None  # no DTDs, so no entity expansion
    try:
        root = ElementTree.fromstring(body)  # noqa: S314 - DTDs refused above, body capped at 64 KiB
    except ElementTree.ParseError:
        return None
    for link in root.iter(_XRD_LINK):
        template = link.get("template")
        if link.get("rel") == "lrdd" and template and "{uri}" in template:
            return template
    return None


async def lookup(
    client: AsyncClient,
    policy: HttpPolicy,
    scheme: str,
    host: str,
    resource: str,
    *,
    host_allowed: Callable[[str], bool] = lambda host: True,
) -> WebFinger:
    """Query WebFinger on ``scheme://host`` for ``resource``, with the host-meta fallback on 404.

    Raises WebFingerError for a 404 without fallback, another non-2xx answer or a JRD that does not
    parse; HostBlockedError, FetchTimeoutError, FetchConnectionError, AddressBlockedError or
    ResponseTooLargeError when the request itself fails.
    """
    encoded = quote(resource, safe="")
    url = f"{scheme}://{host}/.well-known/webfinger?resource={encoded}"
    status, body = await discovery_get(client, policy, url, ACCEPT_JRD, host_allowed)
    if status == 404:
        meta_status, meta = await discovery_get(
            client, policy, f"{scheme}://{host}/.well-known/host-meta", "application/xrd+xml", host_allowed
        )
        template = _lrdd_template(meta) if 200 <= meta_status < 300 else None
        if template is None:
            raise WebFingerError(f"{url} answered 404 and host-meta has no lrdd template")
        url = template.replace("{uri}", encoded)
        status, body = await discovery_get(client, policy, url, ACCEPT_JRD, host_allowed)
    if not 200 <= status < 300:
        raise WebFingerError(f"{url} answered HTTP {status}")
    try:
        return WebFinger.model_validate_json(body)
    except ValidationError as exc:
        raise WebFingerError(f"{url} answered a JRD that does not parse: {exc.errors()[0]['msg']}") from exc


async def resolve_handle(
    client: AsyncClient,
    policy: HttpPolicy,
    handle: str,
    fetch: Callable[[str], Awaitable[dict[str, Any]]],
    *,
    host_allowed: Callable[[str], bool] = lambda host: True,
) -> str:
    """Resolve a handle to its actor id: WebFinger, fetch the ``self`` actor, check the round trip.

    ``fetch`` is :meth:`federation.fetch.Fetcher.fetch` (content type, ``id`` = URL, blocks);
    ``host_allowed`` applies the domain blocks to the WebFinger hosts too. Raises HandleError for a
    malformed handle, WebFingerError when there is no ActivityStreams ``self`` link or the round trip
    does not come back to the same actor, and the FetchError subclasses of the requests.
    """
    name, host = parse_handle(handle)
    scheme = "http" if policy.insecure_peers else "https"
    resource = f"acct:{name}@{host}"
    jrd = await lookup(client, policy, scheme, host, resource, host_allowed=host_allowed)
    href = jrd.self_link()
    if href is None:
        raise WebFingerError(f"WebFinger for {resource} has no ActivityStreams self link")
    actor = await fetch(href)
    actor_id = actor.get("id")
    if not isinstance(actor_id, str):
        raise WebFingerError(f"the self link {href} of {resource} serves a document without an id")
    parts = urlsplit(actor_id)
    try:
        actor_host = normalize_authority(parts.netloc, parts.scheme)
    except HostError as exc:
        raise WebFingerError(f"the actor id {actor_id!r} of {resource} has no valid host") from exc
    if actor_host == host:
        return actor_id
    username = actor.get("preferredUsername")
    if not isinstance(username, str) or not _NAME.fullmatch(username):
        raise WebFingerError(f"actor {actor_id} has no usable preferredUsername for the round trip")
    back_resource = f"acct:{username}@{actor_host}"
    back = await lookup(client, policy, parts.scheme, actor_host, back_resource, host_allowed=host_allowed)
    if back.self_link() != actor_id:
        raise WebFingerError(
            f"{resource} points to {actor_id}, but {back_resource} points to {back.self_link()!r}"
        )
    return actor_id
