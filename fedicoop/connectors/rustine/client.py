"""The HTTP side of the Rustine Libre connector: JSON-LD GETs on the public API and hydra paging.

:func:`open_client` builds one client with the node's address policy (https and public addresses only,
unless ``insecure_peers``), explicit timeouts and a size cap per response. :class:`RustineClient` asks
for ``application/ld+json`` and turns every failure into an error of :mod:`fedicoop.connectors.errors`
naming the source and the URL: connection, DNS, TLS and timeouts are :class:`SourceUnreachableError`,
an HTTP status other than 200 is :class:`SourceResponseError` (with the status), a body that is not
JSON is :class:`SourceFormatError`. :meth:`RustineClient.collection` follows API Platform's hydra
paging, in both spellings (``hydra:member``/``hydra:view``/``hydra:next`` of API Platform 3, and the
unprefixed ``member``/``view``/``next`` of API Platform 4).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from federation.errors import AddressBlockedError, ResponseTooLargeError
from federation.http import AsyncClient as HttpClient
from federation.http import BoundedResponse, HttpPolicy, RequestError, bounded_request, client_factory
from fedicoop.connectors.errors import SourceFormatError, SourceResponseError, SourceUnreachableError
from fedicoop.connectors.rustine.records import Record, describe, expect_object
from fedicoop.network import http_policy
from fedicoop.node import Node

__all__ = [
    "ACCEPT_JSON_LD",
    "MAX_PAGES",
    "RESPONSE_MAX_BYTES",
    "NotFound",
    "RustineClient",
    "open_client",
]

ACCEPT_JSON_LD = "application/ld+json"
"""What we ask API Platform for: JSON-LD with hydra collections (domain.md §2.2)."""

RESPONSE_MAX_BYTES = 4 * 1024 * 1024
"""Size cap of one response: a page of repairers or sixty days of slots stays far below it."""

MAX_PAGES = 1000
"""Pages followed in one collection at most, against a source whose ``next`` never ends."""

PageCallback = Callable[[int, int | None], None]
"""Told after each page: the members read so far, and the total the source announced (if any)."""


@dataclass(frozen=True, slots=True)
class NotFound:
    """The answer to a GET of a record the source does not have (HTTP 404) at ``url``."""

    url: str


def _first(document: Mapping[str, Any], *names: str) -> Any:
    """The value of the first of ``names`` present in ``document`` (``None`` when none is)."""
    for name in names:
        if name in document:
            return document[name]
    return None


class RustineClient:
    """Reads one Rustine Libre instance: ``base_url`` (no trailing slash) is the API root, ``source`` the
    name errors start with (``rustine https://api.example``)."""

    def __init__(
        self,
        http: HttpClient,
        policy: HttpPolicy,
        *,
        base_url: str,
        source: str,
        items_per_page: int = 50,
    ) -> None:
        self.http = http
        self.policy = policy
        self.base_url = base_url.rstrip("/")
        self.source = source
        self.items_per_page = items_per_page

    def url(self, path: str, params: Mapping[str, str | int] | None = None) -> str:
        """The absolute URL of ``path`` (``/repairers``) on the instance, with ``params`` as its query."""
        query = f"?{urlencode(params)}" if params else ""
        return f"{self.base_url}{path}{query}"

    async def _get(self, url: str) -> BoundedResponse:
        try:
            return await bounded_request(
                self.http,
                "GET",
                url,
                policy=self.policy,
                headers={"Accept": ACCEPT_JSON_LD},
            )
        except AddressBlockedError as exc:
            raise SourceUnreachableError(
                self.source,
                f"GET {url} is refused by the node's address policy ({exc}); only https and public "
                "addresses are allowed unless FEDICOOP_INSECURE_PEERS is set (tests and demos)",
            ) from exc
        except ResponseTooLargeError as exc:
            raise SourceResponseError(self.source, f"GET {url}: the response is too large ({exc})") from exc
        except RequestError as exc:
            reason = str(exc) or type(exc).__name__
            raise SourceUnreachableError(
                self.source, f"GET {url} failed: {type(exc).__name__}: {reason}"
            ) from exc

    def _decode(self, response: BoundedResponse, url: str) -> Any:
        try:
            return json.loads(response.content)
        except UnicodeDecodeError as exc:
            raise SourceFormatError(self.source, f"GET {url}: the body is not UTF-8 text ({exc})") from exc
        except json.JSONDecodeError as exc:
            raise SourceFormatError(
                self.source, f"GET {url}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
            ) from exc

    async def get(self, path: str, params: Mapping[str, str | int] | None = None) -> Any:
        """GET ``path`` and return its JSON; any status other than 200 raises SourceResponseError."""
        url = self.url(path, params)
        response = await self._get(url)
        if response.status_code != 200:
            raise SourceResponseError(self.source, f"GET {url} answered HTTP {response.status_code}")
        return self._decode(response, url)

    async def get_record(self, path: str) -> Record | NotFound:
        """GET one record (a JSON object); a 404 gives :class:`NotFound`, other statuses raise."""
        url = self.url(path)
        response = await self._get(url)
        if response.status_code == 404:
            return NotFound(url)
        if response.status_code != 200:
            raise SourceResponseError(self.source, f"GET {url} answered HTTP {response.status_code}")
        return expect_object(self._decode(response, url), self.source, url)

    async def collection(
        self,
        path: str,
        params: Mapping[str, str | int] | None = None,
        *,
        on_page: PageCallback | None = None,
        optional: bool = False,
    ) -> list[Record]:
        """Every member of a hydra collection, following ``next`` links page after page.

        ``itemsPerPage`` is added to the query. A ``next`` link may be relative; it must stay on the
        instance's origin, and a page seen twice ends the walk with SourceFormatError. An ``optional``
        collection the instance does not serve (404 or 405 on its first page) is empty.
        """
        query: dict[str, str | int] = {**(params or {}), "itemsPerPage": self.items_per_page}
        url = self.url(path, query)
        origin = urlsplit(self.base_url)[:2]
        members: list[Record] = []
        seen: set[str] = set()
        while True:
            if url in seen:
                raise SourceFormatError(
                    self.source, f"GET {url}: the collection's pages loop (hydra next leads back to a page)"
                )
            if len(seen) >= MAX_PAGES:
                raise SourceFormatError(
                    self.source, f"GET {url}: the collection has more than {MAX_PAGES} pages"
                )
            seen.add(url)
            response = await self._get(url)
            if optional and len(seen) == 1 and response.status_code in (404, 405):
                return []
            if response.status_code != 200:
                raise SourceResponseError(self.source, f"GET {url} answered HTTP {response.status_code}")
            page = expect_object(self._decode(response, url), self.source, url)
            found = _first(page, "hydra:member", "member")
            if not isinstance(found, list):
                raise SourceFormatError(
                    self.source,
                    f"GET {url}: expected a hydra collection with a 'hydra:member' (or 'member') list, "
                    f"got {describe(found) if found is not None else 'no such field'}",
                )
            for position, item in enumerate(found):
                members.append(expect_object(item, self.source, f"{url} member {position}"))
            total = _first(page, "hydra:totalItems", "totalItems")
            if on_page is not None:
                on_page(len(members), total if isinstance(total, int) else None)
            view = _first(page, "hydra:view", "view")
            following = _first(view, "hydra:next", "next") if isinstance(view, Mapping) else None
            if following is None or not found:
                return members
            if not isinstance(following, str):
                raise SourceFormatError(
                    self.source, f"GET {url}: 'hydra:next' must be a string, got {describe(following)}"
                )
            url = urljoin(url, following)
            if urlsplit(url)[:2] != origin:
                raise SourceFormatError(
                    self.source, f"GET {url}: 'hydra:next' leaves the instance ({following!r})"
                )


@asynccontextmanager
async def open_client(
    node: Node, *, base_url: str, source: str, items_per_page: int = 50
) -> AsyncIterator[RustineClient]:
    """A :class:`RustineClient` on a fresh HTTP client with the node's policy, closed at the end."""
    policy = replace(http_policy(node), max_body=RESPONSE_MAX_BYTES)
    async with client_factory(policy) as http:
        yield RustineClient(http, policy, base_url=base_url, source=source, items_per_page=items_per_page)
