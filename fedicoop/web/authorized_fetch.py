"""Authorized-fetch mode (``FEDICOOP_AUTHORIZED_FETCH``, wire-format §4.4): signed GETs of AS documents.

:class:`AuthorizedFetchMiddleware` guards every ``GET``/``HEAD`` answer whose content type is
ActivityStreams JSON (objects, collections, slots, activities, Tombstones): it is sent only to a request
with a valid HTTP signature, verified with the node's :class:`~federation.verifier.SignatureChecker`,
from a host that federates with the node; anything else gets ``401`` (no or a bad signature) or ``403``
(blocked host) as JSON ``{"error", "detail"}``. The decision is made on the answer, not the path, so a
collection asked for without an ``Accept`` header is guarded too and the HTML pages negotiated on the
same URLs stay public. Actor documents (``/actor``, ``/actors/{username}``, ``/@{username}``, which also
hold the keys) are always public, and WebFinger, host-meta, NodeInfo and the API answer other media
types. :func:`authorized_fetch_middleware` returns the middleware list for the app's settings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.middleware import Middleware
from starlette.responses import Response

from federation.errors import FederationError, HostBlockedError
from fedicoop.network import NetworkHolder
from fedicoop.services.inbox import heard_from
from fedicoop.settings import Settings
from fedicoop.web.negotiation import AS_MEDIA_TYPE, LD_MEDIA_TYPE
from fedicoop.web.responses import json_response
from fedicoop.web.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["AuthorizedFetchMiddleware", "authorized_fetch_middleware", "is_public_path"]

_PUBLIC_PATH = re.compile(r"/actor|/actors/[^/]+|/@[^/]+")
_GUARDED_MEDIA_TYPES = frozenset({AS_MEDIA_TYPE, LD_MEDIA_TYPE})


def is_public_path(path: str) -> bool:
    """Whether ``path`` is an actor document (with its keys), public even in authorized-fetch mode.

    >>> [is_public_path(p) for p in ("/actor", "/actors/atelier-fives", "/@atelier-fives")]
    [True, True, True]
    >>> [is_public_path(p) for p in ("/actor/outbox", "/actors/atelier-fives/followers", "/listings/1")]
    [False, False, False]
    """
    return _PUBLIC_PATH.fullmatch(path) is not None


def _is_guarded(message: Message) -> bool:
    for name, value in message.get("headers", []):
        if name.lower() == b"content-type":
            media_type = value.decode("latin-1").split(";", 1)[0].strip().lower()
            return media_type in _GUARDED_MEDIA_TYPES
    return False


def _refusal(status: int, code: str, detail: str) -> Response:
    headers = {"WWW-Authenticate": 'Signature realm="fedicoop"'} if status == 401 else None
    return json_response({"error": code, "detail": detail}, status=status, headers=headers)


@dataclass(slots=True)
class _Gate:
    """The signature check of one request, made at most once and only when the answer needs it."""

    holder: NetworkHolder
    scope: Scope
    refusal: Response | None = None
    checked: bool = False

    def _url(self, base_url: str) -> str:
        raw_path: bytes = self.scope.get("raw_path") or self.scope["path"].encode()
        query: bytes = self.scope.get("query_string", b"")
        return base_url + raw_path.decode("latin-1") + ("?" + query.decode("latin-1") if query else "")

    async def check(self) -> Response | None:
        """Verify the request's signature; return the refusal to send instead, ``None`` when valid."""
        if self.checked:
            return self.refusal
        self.checked = True
        network = self.holder.get()
        headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in self.scope["headers"]]
        url = self._url(network.node.settings.base_url)
        try:
            signer = await network.checker.verify(self.scope["method"], url, headers, b"")
        except FederationError as exc:
            if isinstance(exc.__cause__, HostBlockedError):
                self.refusal = _refusal(403, "forbidden", f"the signer's host does not federate: {exc}")
            else:
                self.refusal = _refusal(401, "signature", f"authorized fetch needs a valid signature: {exc}")
            return self.refusal
        if not network.hosts.allows_url(signer):
            self.refusal = _refusal(403, "forbidden", f"the signer {signer} does not federate with this node")
            return self.refusal
        await heard_from(signer, network.node.clock())
        return None


class AuthorizedFetchMiddleware:
    """Send ActivityStreams answers to GET and HEAD only when the request is validly signed."""

    def __init__(self, app: ASGIApp, holder: NetworkHolder) -> None:
        self.app = app
        self.holder = holder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass everything through, except an AS answer to an unsigned or badly signed GET or HEAD."""
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or is_public_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        gate = _Gate(self.holder, scope)
        refused = False

        async def guarded_send(message: Message) -> None:
            nonlocal refused
            if message["type"] == "http.response.start" and _is_guarded(message):
                refusal = await gate.check()
                if refusal is not None:
                    refused = True
                    await refusal(scope, receive, send)
                    return
            if not refused:
                await send(message)

        await self.app(scope, receive, guarded_send)


def authorized_fetch_middleware(settings: Settings, holder: NetworkHolder) -> list[Middleware]:
    """The middleware of authorized-fetch mode when the settings turn it on, else nothing."""
    if not settings.authorized_fetch:
        return []
    return [Middleware(AuthorizedFetchMiddleware, holder=holder)]
