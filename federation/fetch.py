"""Signed GET of remote ActivityStreams documents (wire-format §10.6, §13).

:class:`Fetcher` sends a GET signed by the application actor (unsigned when no :class:`Signer` is
given) with the ActivityStreams ``Accept``, follows at most ``policy.max_redirects`` redirects itself
(each hop re-signed, re-checked by the SSRF guard and kept within the origin of the requested URL),
reads the body under the 1 MiB cap and the total time budget, and accepts only an ActivityStreams
JSON object whose ``id`` is the final URL (CVE-2024-23832). Every failure is a typed
:class:`~federation.errors.FetchError` whose message names the URL.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

from federation.auth import HttpSignatureAuth
from federation.errors import (
    ContentTypeError,
    FetchConnectionError,
    FetchError,
    FetchTimeoutError,
    HostBlockedError,
    HostError,
    IdMismatchError,
    RedirectError,
    RemoteGoneError,
    RemoteNotFoundError,
)
from federation.hosts import origin, same_origin, split_authority
from federation.http import (
    ACCEPT_ACTIVITY,
    ACTIVITY_JSON,
    MAX_DOCUMENT_BYTES,
    AsyncClient,
    BoundedResponse,
    HttpPolicy,
    RequestError,
    TimeoutException,
    bounded_request,
)
from federation.keys import PrivateKey
from schemas.base import type_names

__all__ = [
    "AS_PROFILE",
    "REDIRECT_STATUSES",
    "Fetcher",
    "Signer",
    "is_activity_media_type",
    "request_errors",
]

AS_PROFILE = "https://www.w3.org/ns/activitystreams"
"""The profile an ``application/ld+json`` response must name to be ActivityStreams."""

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
"""The statuses followed as redirects (with a ``Location``)."""


@dataclass(frozen=True, slots=True)
class Signer:
    """Who signs outbound requests: a keyId (``https://node/actor#main-key``) and its private key."""

    key_id: str
    private_key: PrivateKey

    def auth(self, now: Callable[[], datetime]) -> HttpSignatureAuth:
        """Return the httpx ``Auth`` that signs each request as this key, dated by ``now``."""
        return HttpSignatureAuth(self.key_id, self.private_key, now=now)


def is_activity_media_type(content_type: str | None) -> bool:
    """Tell whether a ``Content-Type`` is ActivityStreams: activity+json, or ld+json with the AS profile.

    >>> is_activity_media_type("application/activity+json; charset=utf-8")
    True
    >>> is_activity_media_type('application/ld+json; profile="https://www.w3.org/ns/activitystreams"')
    True
    >>> is_activity_media_type("application/ld+json"), is_activity_media_type("application/json")
    (False, False)
    """
    if not content_type:
        return False
    media_type, *params = content_type.split(";")
    media_type = media_type.strip().lower()
    if media_type == ACTIVITY_JSON:
        return True
    if media_type != "application/ld+json":
        return False
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "profile" and AS_PROFILE in value.strip().strip('"').split():
            return True
    return False


@contextmanager
def request_errors(method: str, url: str) -> Iterator[None]:
    """Turn httpx request failures into FetchTimeoutError / FetchConnectionError naming ``url``.

    Typed federation errors (SSRF refusals, size cap) pass through unchanged.
    """
    try:
        yield
    except TimeoutException as exc:
        raise FetchTimeoutError(f"{method} {url} timed out: {exc}") from exc
    except RequestError as exc:
        raise FetchConnectionError(f"{method} {url} failed: {type(exc).__name__}: {exc}") from exc


class Fetcher:
    """Signed GET of ActivityStreams documents (wire-format §10.6).

    ``client`` comes from :func:`federation.http.client_factory` (its request hook is the SSRF guard);
    ``signer`` is the application actor's key, or ``None`` for unsigned fetches; ``now`` the clock that
    dates signatures; ``host_allowed`` the block/allowlist decision on a normalised host (a refused host
    raises HostBlockedError before any request).
    """

    def __init__(
        self,
        client: AsyncClient,
        policy: HttpPolicy,
        *,
        signer: Signer | None,
        now: Callable[[], datetime],
        host_allowed: Callable[[str], bool] = lambda host: True,
    ) -> None:
        self._client = client
        self._policy = policy
        self._auth = signer.auth(now) if signer is not None else None
        self._host_allowed = host_allowed

    async def fetch(self, url: str) -> dict[str, Any]:
        """Fetch the document at ``url`` (its fragment dropped) and return it as a JSON object.

        Raises RemoteNotFoundError on 404, RemoteGoneError on 410 or a Tombstone, ContentTypeError,
        IdMismatchError, RedirectError, ResponseTooLargeError, HostBlockedError, AddressBlockedError,
        FetchTimeoutError, FetchConnectionError, or FetchError for any other refusal.
        """
        target = urldefrag(url.strip())[0]
        document, final_url = await self._fetch_once(target)
        found = document.get("id")
        if found == final_url:
            return document
        if not isinstance(found, str):
            raise IdMismatchError(f"{final_url} served a document without a string id")
        if not same_origin(found, final_url):
            raise IdMismatchError(f"{final_url} served a document with the foreign id {found}")
        document, final_url = await self._fetch_once(found)
        if document.get("id") != final_url:
            raise IdMismatchError(
                f"{final_url} served a document whose id {document.get('id')!r} is not its URL, twice"
            )
        return document

    async def _fetch_once(self, url: str) -> tuple[dict[str, Any], str]:
        response = await self._get(url)
        final_url = response.url
        if response.status_code == 404:
            raise RemoteNotFoundError(f"GET {final_url} answered 404")
        if response.status_code == 410:
            raise RemoteGoneError(f"GET {final_url} answered 410")
        if not 200 <= response.status_code < 300:
            raise FetchError(f"GET {final_url} answered HTTP {response.status_code}")
        content_type = response.headers.get("content-type")
        if not is_activity_media_type(content_type):
            raise ContentTypeError(f"GET {final_url} answered {content_type!r}, not ActivityStreams")
        try:
            document = json.loads(response.content)
        except (ValueError, RecursionError) as exc:
            raise FetchError(f"GET {final_url} answered a body that is not JSON: {exc}") from exc
        if not isinstance(document, dict):
            raise FetchError(f"GET {final_url} answered JSON that is not an object")
        if "Tombstone" in type_names(document):
            raise RemoteGoneError(f"GET {final_url} answered a Tombstone")
        return document, final_url

    async def _get(self, url: str) -> BoundedResponse:
        """GET ``url``, following same-origin redirects by hand, all within the total time budget."""
        start_origin = self._check_url(url)
        current = url
        try:
            async with asyncio.timeout(self._policy.total_timeout):
                for _ in range(self._policy.max_redirects + 1):
                    with request_errors("GET", current):
                        response = await bounded_request(
                            self._client,
                            "GET",
                            current,
                            policy=self._policy,
                            max_bytes=MAX_DOCUMENT_BYTES,
                            headers={"Accept": ACCEPT_ACTIVITY},
                            auth=self._auth,
                        )
                    if response.status_code not in REDIRECT_STATUSES:
                        return response
                    current = self._next_hop(current, response, start_origin)
        except TimeoutError as exc:
            raise FetchTimeoutError(
                f"GET {url} took longer than the total budget of {self._policy.total_timeout} s"
            ) from exc
        raise RedirectError(f"GET {url} redirected more than {self._policy.max_redirects} times")

    def _check_url(self, url: str) -> str:
        try:
            url_origin = origin(url)
        except HostError as exc:
            raise FetchError(f"cannot fetch {url!r}: {exc}") from exc
        host = split_authority(urlsplit(url_origin).netloc)[0]
        if not self._host_allowed(host):
            raise HostBlockedError(f"{url} is on the blocked host {host}")
        return url_origin

    def _next_hop(self, current: str, response: BoundedResponse, start_origin: str) -> str:
        location: str | None = response.headers.get("location")
        if not location:
            raise RedirectError(f"GET {current} answered {response.status_code} without a Location")
        hop = urldefrag(urljoin(current, location.strip()))[0]
        if self._check_url(hop) != start_origin:
            raise RedirectError(f"GET {current} redirected to {hop}, outside {start_origin}")
        return hop
