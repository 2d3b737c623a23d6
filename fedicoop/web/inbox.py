"""Inbox routes: the per-actor inboxes, the application actor's and the shared one (wire-format §12).

The handlers read the body within the 1 MiB cap (by ``Content-Length`` and while streaming), hand the
request to :func:`fedicoop.services.inbox.receive`, and answer ``202`` with what became of it; every
refusal is a typed error the error table turns into a JSON ``{"error", "detail"}`` answer.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedicoop.errors import NotFoundError, PayloadTooLargeError
from fedicoop.models.actors import Actor
from fedicoop.network import Network
from fedicoop.services.inbox import Incoming, Intake, receive
from fedicoop.web.responses import json_response
from schemas.limits import INBOX_BODY_MAX

__all__ = ["ROUTES", "read_capped_body"]


async def read_capped_body(request: Request, limit: int = INBOX_BODY_MAX) -> bytes:
    """Read the request body, refusing it with 413 as soon as it is known to exceed ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(f"body of {int(declared)} bytes is over the {limit}-byte cap")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(f"body is over the {limit}-byte cap")
        chunks.append(chunk)
    return b"".join(chunks)


def _absolute_url(request: Request, network: Network) -> str:
    raw_path: bytes = request.scope.get("raw_path") or request.url.path.encode()
    query_string: bytes = request.scope.get("query_string", b"")
    path, query = raw_path.decode("latin-1"), query_string.decode("latin-1")
    return network.node.settings.base_url + path + (f"?{query}" if query and "?" not in path else "")


def _intake(request: Request) -> Intake:
    """The app's :class:`Intake`, made on its first inbox request (one per app, none global)."""
    state = request.app.state
    intake: Intake | None = getattr(state, "inbox_intake", None)
    if intake is None:
        intake = Intake()
        state.inbox_intake = intake
    return intake


async def _inbox(request: Request, recipient: str | None) -> Response:
    network: Network = request.app.state.network_holder.get()
    body = await read_capped_body(request)
    incoming = Incoming(
        method=request.method,
        url=_absolute_url(request, network),
        headers=[(key.decode("latin-1"), value.decode("latin-1")) for key, value in request.headers.raw],
        body=body,
        recipient=recipient,
    )
    receipt = await receive(network, incoming, _intake(request))
    return json_response(
        {"status": receipt.status.value, "id": receipt.activity_id, "detail": receipt.detail}, status=202
    )


async def shared_inbox(request: Request) -> Response:
    """``POST /inbox``: the node's shared inbox."""
    return await _inbox(request, None)


async def application_inbox(request: Request) -> Response:
    """``POST /actor/inbox``: the application actor's inbox."""
    return await _inbox(request, "relay")


async def actor_inbox(request: Request) -> Response:
    """``POST /actors/{username}/inbox``: one Organization actor's inbox."""
    username = request.path_params["username"]
    if not await Actor.exists(username=username, deleted_at=None):
        raise NotFoundError(f"no actor {username!r} on this node")
    return await _inbox(request, username)


ROUTES = [
    Route("/inbox", shared_inbox, methods=["POST"]),
    Route("/actor/inbox", application_inbox, methods=["POST"]),
    Route("/actors/{username}/inbox", actor_inbox, methods=["POST"]),
]
