"""Posting one activity to one inbox and classifying the outcome (wire-format §11).

:class:`Deliverer` signs the POST (draft-cavage, ``Digest`` over the exact body, the signature
computed by a :class:`~federation.signing_pool.SigningPool` in its child process), sends it through an
httpx transport without following redirects, reads at most 64 KiB of the answer and discards it, and
returns a :class:`DeliveryResult`; it never raises for a network or HTTP problem, so the delivery worker
only records the result and schedules the next attempt (:mod:`federation.backoff`).

Deliveries use httpx's transport interface directly rather than ``AsyncClient.send``: a delivery needs
none of the client's layers (cookies, auth flows, redirects, base URLs, event hooks), which cost about
a third of a delivery's CPU (``bench/README.md``). The address policy the client's hook applies is
applied here, once per inbox URL.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit

from federation import cavage
from federation.auth import http_date
from federation.digest import make_digest
from federation.errors import AddressBlockedError, HostError, SigningError
from federation.fetch import Signer
from federation.hosts import split_authority
from federation.http import (
    ACTIVITY_JSON,
    MAX_DISCOVERY_BYTES,
    URL,
    AsyncBaseTransport,
    HttpPolicy,
    Request,
    RequestError,
    Response,
    TimeoutException,
)
from federation.signing_pool import SigningPool
from federation.ssrf import AddressPolicy

__all__ = ["ERROR_EXCERPT", "Deliverer", "DeliveryResult", "Outcome", "Payload", "classify"]

ERROR_EXCERPT = 200
"""How many characters of a refusal's body are kept in :attr:`DeliveryResult.error`."""

_RETRYABLE_4XX = frozenset({401, 408, 429})
_RETRY_AFTER_STATUSES = frozenset({429, 503})


class Outcome(StrEnum):
    """What a delivery attempt means for its row: done, try again later, give up, or the inbox is gone."""

    DELIVERED = "delivered"
    RETRY = "retry"
    FINAL = "final"
    GONE = "gone"


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """The outcome of one POST: the status when there was an answer, an error text, a raw ``Retry-After``."""

    outcome: Outcome
    status: int | None
    error: str | None
    retry_after: str | None = None


@dataclass(frozen=True, slots=True)
class Payload:
    """An activity serialised once for all its deliveries: the exact bytes and their ``Digest``."""

    body: bytes
    digest: str

    @classmethod
    def of(cls, body: bytes) -> Payload:
        """The payload of ``body``, its digest computed once."""
        return cls(body, make_digest(body))


@dataclass(frozen=True, slots=True)
class _Inbox:
    """An inbox URL parsed once: its host, the httpx URL, the ``Host`` header and the path signed."""

    host: str
    url: URL
    authority: str
    target: str


@functools.lru_cache(maxsize=4096)
def _parse_inbox(inbox: str, insecure_peers: bool) -> _Inbox:
    """Parse and check an inbox URL once (a fan-out posts to the same inboxes every time).

    Raises HostError or ValueError when the URL has no valid host, AddressBlockedError when the
    address policy refuses it.
    """
    AddressPolicy(insecure_peers=insecure_peers).check_url(inbox)
    host, _ = split_authority(urlsplit(inbox).netloc)
    url = URL(inbox)
    return _Inbox(host, url, url.netloc.decode("ascii"), url.raw_path.decode("ascii"))


def classify(status: int) -> Outcome:
    """Map an HTTP status to an outcome: 2xx delivered, 410 gone, 401/408/429/5xx retry, others final.

    >>> [classify(s).value for s in (202, 410, 401, 429, 503, 301, 400, 404)]
    ['delivered', 'gone', 'retry', 'retry', 'retry', 'final', 'final', 'final']
    """
    if 200 <= status < 300:
        return Outcome.DELIVERED
    if status == 410:
        return Outcome.GONE
    if status in _RETRYABLE_4XX or 500 <= status < 600:
        return Outcome.RETRY
    return Outcome.FINAL


async def _read_excerpt(response: Response) -> bytes:
    """Read at most MAX_DISCOVERY_BYTES of the raw body and stop: the rest is never downloaded."""
    chunks: list[bytes] = []
    received = 0
    async for chunk in response.aiter_raw():
        chunks.append(chunk)
        received += len(chunk)
        if received >= MAX_DISCOVERY_BYTES:
            break
    return b"".join(chunks)[:MAX_DISCOVERY_BYTES]


class Deliverer:
    """Posts signed activities to inboxes through ``transport`` and classifies each answer.

    ``signing`` computes the signatures; ``now`` dates them; ``host_allowed`` is the block and allow
    lists (a refused host gives FINAL without a request). The transport is not closed here: its owner
    (the node's HTTP client, which shares its connection pool) closes it.
    """

    def __init__(
        self,
        transport: AsyncBaseTransport,
        policy: HttpPolicy,
        signing: SigningPool,
        now: Callable[[], datetime],
        *,
        host_allowed: Callable[[str], bool] = lambda host: True,
    ) -> None:
        self._transport = transport
        self._policy = policy
        self._signing = signing
        self._now = now
        self._host_allowed = host_allowed
        self._timeout = policy.timeout().as_dict()

    async def post(self, inbox: str, payload: Payload, signer: Signer) -> DeliveryResult:
        """POST ``payload`` to ``inbox``, signed as ``signer``; never raises for a network problem.

        A malformed inbox URL, a blocked host or an address-policy refusal gives FINAL without a
        request; a signature the signing pool could not compute gives RETRY without a request;
        timeouts (per phase, or ``policy.total_timeout`` overall), connection, DNS, TLS and protocol
        errors give RETRY with the error text; an answer is classified by :func:`classify`, keeping
        ``Retry-After`` raw for 429 and 503 and an excerpt of the body in ``error`` when refused.
        """
        try:
            target = _parse_inbox(inbox, self._policy.insecure_peers)
        except AddressBlockedError as exc:
            return DeliveryResult(Outcome.FINAL, None, f"refused by the address policy: {exc}")
        except (HostError, ValueError) as exc:
            return DeliveryResult(Outcome.FINAL, None, f"inbox {inbox!r} has no valid host: {exc}")
        if not self._host_allowed(target.host):
            return DeliveryResult(Outcome.FINAL, None, f"host {target.host} is blocked")
        total = self._policy.total_timeout
        try:
            async with asyncio.timeout(total):
                request = await self._signed_request(target, payload, signer)
                response = await self._transport.handle_async_request(request)
                try:
                    excerpt = await _read_excerpt(response)
                finally:
                    await response.aclose()
        except AddressBlockedError as exc:
            return DeliveryResult(Outcome.FINAL, None, f"refused by the address policy: {exc}")
        except SigningError as exc:
            return DeliveryResult(Outcome.RETRY, None, f"POST {inbox} not signed: {exc}")
        except TimeoutError:
            return DeliveryResult(Outcome.RETRY, None, f"POST {inbox} took longer than {total} s")
        except TimeoutException as exc:
            return DeliveryResult(Outcome.RETRY, None, f"POST {inbox} timed out: {type(exc).__name__}: {exc}")
        except RequestError as exc:
            return DeliveryResult(Outcome.RETRY, None, f"POST {inbox} failed: {type(exc).__name__}: {exc}")
        return _result(response, excerpt)

    async def _signed_request(self, target: _Inbox, payload: Payload, signer: Signer) -> Request:
        headers = {
            "Host": target.authority,
            "Date": http_date(self._now()),
            "Digest": payload.digest,
            "Content-Type": ACTIVITY_JSON,
        }
        text = cavage.signing_string("POST", target.target, headers, cavage.POST_HEADERS)
        signature, algorithm = await self._signing.sign(signer.private_key, text.encode("utf-8"))
        headers["Signature"] = cavage.format_signature_header(
            signer.key_id, algorithm, cavage.POST_HEADERS, signature
        )
        headers["User-Agent"] = self._policy.user_agent
        headers["Accept-Encoding"] = "identity"
        return Request(
            "POST", target.url, headers=headers, content=payload.body, extensions={"timeout": self._timeout}
        )


def _result(response: Response, excerpt: bytes) -> DeliveryResult:
    status = response.status_code
    outcome = classify(status)
    retry_after = response.headers.get("retry-after") if status in _RETRY_AFTER_STATUSES else None
    error = None
    if outcome is not Outcome.DELIVERED:
        text = excerpt.decode("utf-8", "replace").strip()[:ERROR_EXCERPT]
        error = f"HTTP {status}" + (f": {text}" if text else "")
    return DeliveryResult(outcome, status, error, retry_after)
