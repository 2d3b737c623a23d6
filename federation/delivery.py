"""Posting one activity to one inbox and classifying the outcome (wire-format §11).

:func:`post_activity` signs the POST (draft-cavage, ``Digest`` over the exact body), sends it without
following redirects, reads at most 64 KiB of the answer and discards it, and returns a
:class:`DeliveryResult`; it never raises for a network or HTTP problem, so the delivery worker only
records the result and schedules the next attempt (:mod:`federation.backoff`).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit

from federation.errors import AddressBlockedError, HostError
from federation.fetch import Signer
from federation.hosts import split_authority
from federation.http import (
    ACTIVITY_JSON,
    MAX_DISCOVERY_BYTES,
    URL,
    AsyncClient,
    HttpPolicy,
    RequestError,
    Response,
    TimeoutException,
)

__all__ = ["ERROR_EXCERPT", "DeliveryResult", "Outcome", "classify", "post_activity"]

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


@functools.lru_cache(maxsize=4096)
def _parse_inbox(inbox: str) -> tuple[str, URL]:
    """The host of an inbox URL and the URL parsed once (a fan-out posts to the same inboxes every time).

    Raises HostError or ValueError when the URL has no valid host.
    """
    host, _ = split_authority(urlsplit(inbox).netloc)
    return host, URL(inbox)


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


async def _send(
    client: AsyncClient,
    policy: HttpPolicy,
    inbox: URL,
    body: bytes,
    signer: Signer,
    now: Callable[[], datetime],
) -> DeliveryResult:
    headers = {"Content-Type": ACTIVITY_JSON, "Accept-Encoding": "identity"}
    request = client.build_request("POST", inbox, content=body, headers=headers)
    async with asyncio.timeout(policy.total_timeout):
        response = await client.send(request, auth=signer.auth(now), follow_redirects=False, stream=True)
        try:
            excerpt = await _read_excerpt(response)
        finally:
            await response.aclose()
    outcome = classify(response.status_code)
    retry_after = (
        response.headers.get("retry-after") if response.status_code in _RETRY_AFTER_STATUSES else None
    )
    error = None
    if outcome is not Outcome.DELIVERED:
        text = excerpt.decode("utf-8", "replace").strip()[:ERROR_EXCERPT]
        error = f"HTTP {response.status_code}" + (f": {text}" if text else "")
    return DeliveryResult(outcome, response.status_code, error, retry_after)


async def post_activity(
    client: AsyncClient,
    policy: HttpPolicy,
    inbox: str,
    body: bytes,
    signer: Signer,
    now: Callable[[], datetime],
    *,
    host_allowed: Callable[[str], bool] = lambda host: True,
) -> DeliveryResult:
    """POST ``body`` (the activity serialised once, byte for byte) to ``inbox``, signed as ``signer``.

    A malformed inbox URL, a blocked host (``host_allowed`` False) or an SSRF refusal gives FINAL
    without a request; timeouts (per phase, or ``policy.total_timeout`` overall), connection, DNS, TLS
    and protocol errors give RETRY with the error text; an answer is classified by :func:`classify`,
    keeping ``Retry-After`` raw for 429 and 503 and an excerpt of the body in ``error`` when refused.
    """
    try:
        host, url = _parse_inbox(inbox)
    except (HostError, ValueError) as exc:
        return DeliveryResult(Outcome.FINAL, None, f"inbox {inbox!r} has no valid host: {exc}")
    if not host_allowed(host):
        return DeliveryResult(Outcome.FINAL, None, f"host {host} is blocked")
    try:
        return await _send(client, policy, url, body, signer, now)
    except AddressBlockedError as exc:
        return DeliveryResult(Outcome.FINAL, None, f"refused by the address policy: {exc}")
    except TimeoutError:
        return DeliveryResult(Outcome.RETRY, None, f"POST {inbox} took longer than {policy.total_timeout} s")
    except TimeoutException as exc:
        return DeliveryResult(Outcome.RETRY, None, f"POST {inbox} timed out: {type(exc).__name__}: {exc}")
    except RequestError as exc:
        return DeliveryResult(Outcome.RETRY, None, f"POST {inbox} failed: {type(exc).__name__}: {exc}")
