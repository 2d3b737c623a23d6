"""Outbound HTTP signatures as an httpx ``Auth`` (wire-format §10.1).

:class:`HttpSignatureAuth` is passed to a request (``auth=``) rather than wrapping ``client.post``: httpx
hands it the final request, body included (``requires_request_body``), and every retry of a delivery
builds a new request, so it is signed again with a fresh ``Date``. POSTs get ``Digest`` (uppercase
``SHA-256=``) and a default ``Content-Type: application/activity+json`` and sign
``(request-target) host date digest content-type``; other methods sign
``(request-target) host date accept`` (the client's default ``Accept`` is the ActivityStreams one of
:data:`federation.http.ACCEPT_ACTIVITY`, set here too when a request has none).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from datetime import UTC, datetime
from email.utils import format_datetime

from federation import cavage
from federation.digest import make_digest
from federation.http import ACCEPT_ACTIVITY, ACTIVITY_JSON, Auth, Request, Response
from federation.keys import PrivateKey

__all__ = ["HttpSignatureAuth", "http_date"]


def http_date(moment: datetime) -> str:
    """Format an aware datetime as an IMF-fixdate in GMT, as the ``Date`` header wants.

    >>> http_date(datetime(2025, 10, 14, 8, 0, tzinfo=UTC))
    'Tue, 14 Oct 2025 08:00:00 GMT'
    """
    if moment.tzinfo is None:
        raise ValueError("http_date needs an aware datetime")
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)


class HttpSignatureAuth(Auth):
    """Sign each request with draft-cavage ``rsa-sha256`` as actor key ``key_id``.

    ``private_key`` is the actor's key (RSA for everything we send); ``now`` the injected clock that
    gives ``Date``. The request's ``Host`` is set from its URL, so the signed value is the one sent.
    """

    requires_request_body = True

    def __init__(self, key_id: str, private_key: PrivateKey, *, now: Callable[[], datetime]) -> None:
        self._key_id = key_id
        self._private_key = private_key
        self._now = now

    def sign(self, request: Request) -> None:
        """Add ``Date``, ``Host``, ``Digest``/``Content-Type`` or ``Accept``, and ``Signature`` in place."""
        headers = request.headers
        headers["Date"] = http_date(self._now())
        headers["Host"] = request.url.netloc.decode("ascii")
        if request.method.upper() == "POST":
            headers["Digest"] = make_digest(request.content)
            headers.setdefault("Content-Type", ACTIVITY_JSON)
            covered = cavage.POST_HEADERS
        else:
            headers.setdefault("Accept", ACCEPT_ACTIVITY)
            covered = cavage.GET_HEADERS
        headers["Signature"] = cavage.sign(
            self._private_key,
            self._key_id,
            request.method,
            request.url.raw_path.decode("ascii"),
            headers.multi_items(),
            covered,
        )

    def auth_flow(self, request: Request) -> Generator[Request, Response, None]:
        """Sign the request and send it once; the response is not inspected."""
        self.sign(request)
        yield request
