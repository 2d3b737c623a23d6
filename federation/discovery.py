"""Discovery documents: the bounded GET of WebFinger, host-meta and NodeInfo, and a peer's software.

:func:`discovery_get` reads a small JSON or XML document under the 64 KiB cap of wire-format §13.3;
:func:`software_name` follows ``/.well-known/nodeinfo`` to the NodeInfo 2.x document and returns its
``software.name`` (``mobilizon``, ``mastodon``…), which decides what the application actor forwards to
a follower (§3.2).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import urljoin, urlsplit

from pydantic import ValidationError

from federation.errors import DiscoveryError, HostBlockedError, HostError, RedirectError
from federation.fetch import REDIRECT_STATUSES, request_errors
from federation.hosts import same_origin, split_authority
from federation.http import MAX_DISCOVERY_BYTES, AsyncClient, HttpPolicy, bounded_request
from schemas.discovery import NodeInfo, NodeInfoLinks

__all__ = ["NODEINFO_RELS", "discovery_get", "software_name"]

NODEINFO_RELS = tuple(f"http://nodeinfo.diaspora.software/ns/schema/2.{minor}" for minor in (1, 0))
"""The NodeInfo schema rels we read, preferred first."""


def _host_of(authority: str) -> str:
    return split_authority(authority)[0]


async def discovery_get(
    client: AsyncClient, policy: HttpPolicy, url: str, accept: str, host_allowed: Callable[[str], bool]
) -> tuple[int, bytes]:
    """GET a discovery document (64 KiB cap), following up to ``policy.max_redirects`` redirects.

    Redirects may lead to any host the block list allows (split-domain setups); returns the final
    status and body. Raises HostBlockedError, RedirectError and the request errors of
    :func:`federation.fetch.request_errors`.
    """
    current = url
    for _ in range(policy.max_redirects + 1):
        try:
            host = _host_of(urlsplit(current).netloc)
        except HostError as exc:
            raise DiscoveryError(f"cannot query {current!r}: {exc}") from exc
        if not host_allowed(host):
            raise HostBlockedError(f"{current} is on the blocked host {host}")
        with request_errors("GET", current):
            response = await bounded_request(
                client,
                "GET",
                current,
                policy=policy,
                max_bytes=MAX_DISCOVERY_BYTES,
                headers={"Accept": accept},
            )
        location = response.headers.get("location")
        if response.status_code not in REDIRECT_STATUSES or not location:
            return response.status_code, response.content
        current = urljoin(current, location.strip())
    raise RedirectError(f"GET {url} redirected more than {policy.max_redirects} times")


def _json(url: str, status: int, body: bytes) -> object:
    if not 200 <= status < 300:
        raise DiscoveryError(f"{url} answered {status}")
    try:
        return json.loads(body)
    except ValueError as exc:
        raise DiscoveryError(f"{url} is not JSON: {exc}") from exc


async def software_name(
    client: AsyncClient,
    policy: HttpPolicy,
    base_url: str,
    *,
    host_allowed: Callable[[str], bool] = lambda host: True,
) -> str:
    """Return the NodeInfo ``software.name`` of the server at ``base_url`` (scheme and authority).

    The NodeInfo document must be on the same origin as ``base_url``. Raises DiscoveryError when the
    server publishes no readable NodeInfo, and the request errors of :func:`discovery_get`.
    """
    well_known = urljoin(base_url, "/.well-known/nodeinfo")
    status, body = await discovery_get(client, policy, well_known, "application/json", host_allowed)
    try:
        links = NodeInfoLinks.model_validate(_json(well_known, status, body))
    except ValidationError as exc:
        raise DiscoveryError(f"{well_known} has no NodeInfo links: {exc.errors()[0]['msg']}") from exc
    href = next((link for rel in NODEINFO_RELS if (link := links.href_for(rel))), None)
    if href is None or not same_origin(href, base_url):
        raise DiscoveryError(f"{well_known} links no NodeInfo 2.x document on {base_url}")
    status, body = await discovery_get(client, policy, href, "application/json", host_allowed)
    try:
        document = NodeInfo.model_validate(_json(href, status, body))
    except ValidationError as exc:
        raise DiscoveryError(f"{href} is not a NodeInfo document: {exc.errors()[0]['msg']}") from exc
    return document.software.name
