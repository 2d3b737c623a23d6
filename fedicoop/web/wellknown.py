"""Discovery: WebFinger, host-meta and NodeInfo 2.1 with the FEP-2677 link (wire-format §4.1–§4.3)."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from federation.errors import HostError
from federation.hosts import normalize_authority
from fedicoop import __version__
from fedicoop.errors import BadRequestError, NotFoundError
from fedicoop.models.actors import Actor
from fedicoop.models.events import Event
from fedicoop.models.listings import Listing
from fedicoop.models.states import ActorKind
from fedicoop.node import Node
from fedicoop.services.actors import APPLICATION_USERNAME
from fedicoop.web.responses import json_response
from schemas.discovery import (
    JrdLink,
    NodeInfo,
    NodeInfoLink,
    NodeInfoLinks,
    NodeInfoSoftware,
    NodeInfoUsage,
    NodeInfoUsers,
    WebFinger,
    host_meta_xrd,
)

NODEINFO_SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/2.1"
FEP_2677_REL = "https://www.w3.org/ns/activitystreams#Application"
CORS = {"Access-Control-Allow-Origin": "*"}


def _node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


def _same_host(node: Node, authority: str) -> bool:
    scheme = urlsplit(node.settings.base_url).scheme
    try:
        return normalize_authority(authority, scheme) == normalize_authority(node.urls.host, scheme)
    except HostError:
        return False


def username_for_resource(node: Node, resource: str) -> str:
    """The local username a WebFinger ``resource`` names; 400 if malformed, 404 if foreign or unknown.

    Malformed resources raise ``BadRequestError``, a 400 as RFC 7033 says.
    """
    if not resource or len(resource) > 2048:
        raise BadRequestError(
            "the resource parameter is required (acct:user@host or an actor URL)", field="resource"
        )
    if resource.lower().startswith("acct:"):
        user, at, host = resource[5:].lstrip("@").rpartition("@")
        if not at or not user or not host or "/" in host:
            raise BadRequestError(
                f"malformed acct resource {resource!r}: expected acct:user@host", field="resource"
            )
        if not _same_host(node, host):
            raise NotFoundError(f"{host!r} is not this node's host")
        return user.lower()
    parts = urlsplit(resource)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadRequestError(
            f"unsupported resource {resource!r}: expected acct:user@host or an http(s) URL", field="resource"
        )
    if not _same_host(node, parts.netloc):
        raise NotFoundError(f"{parts.netloc!r} is not this node's host")
    path = unquote(parts.path)
    if path == "/actor":
        return APPLICATION_USERNAME
    for prefix in ("/actors/", "/@"):
        if path.startswith(prefix) and "/" not in path[len(prefix) :]:
            return path[len(prefix) :].lower()
    raise NotFoundError(f"no actor at {resource!r}")


async def webfinger(request: Request) -> Response:
    """``/.well-known/webfinger?resource=…``: the JRD of a local actor."""
    node = _node(request)
    username = username_for_resource(node, request.query_params.get("resource", ""))
    actor = await Actor.get_or_none(username=username, deleted_at=None)
    if actor is None:
        raise NotFoundError(f"no actor named {username!r} on this node")
    subject = f"acct:{actor.username}@{node.urls.host}"
    if actor.kind == ActorKind.APPLICATION:
        actor_id = node.urls.application_actor
        aliases = [actor_id]
        links = [JrdLink(rel="self", type="application/activity+json", href=actor_id)]
    else:
        actor_id = node.urls.actor(actor.username)
        profile = node.urls.profile(actor.username)
        aliases = [actor_id, profile]
        links = [
            JrdLink(rel="self", type="application/activity+json", href=actor_id),
            JrdLink(rel="http://webfinger.net/rel/profile-page", type="text/html", href=profile),
        ]
    document = WebFinger(subject=subject, aliases=aliases, links=links).to_wire()
    return json_response(document, media_type="application/jrd+json", headers=CORS)


async def host_meta(request: Request) -> Response:
    """``/.well-known/host-meta``: the XRD with the WebFinger ``lrdd`` template."""
    return Response(
        host_meta_xrd(_node(request).settings.base_url), media_type="application/xrd+xml", headers=CORS
    )


async def nodeinfo_links(request: Request) -> Response:
    """``/.well-known/nodeinfo``: the NodeInfo 2.1 link and the FEP-2677 application actor link."""
    node = _node(request)
    document = NodeInfoLinks(
        links=[
            NodeInfoLink(rel=NODEINFO_SCHEMA, href=node.urls.absolute("/nodeinfo/2.1")),
            NodeInfoLink(rel=FEP_2677_REL, href=node.urls.application_actor),
        ]
    ).to_wire()
    return json_response(document, headers=CORS)


async def nodeinfo(request: Request) -> Response:
    """``/nodeinfo/2.1``: software, usage (Organizations, not the application or feed actors; live
    listings and events) and our metadata."""
    node = _node(request)
    organizations = Actor.filter(deleted_at=None).exclude(kind__in=[ActorKind.APPLICATION, ActorKind.FEED])
    users = await organizations.count()
    posts = await Listing.filter(deleted_at=None).count() + await Event.filter(deleted_at=None).count()
    document = NodeInfo(
        software=NodeInfoSoftware(name="fedicoop", version=__version__),
        usage=NodeInfoUsage(
            users=NodeInfoUsers(total=users, active_month=users, active_halfyear=users), local_posts=posts
        ),
        metadata={
            "nodeName": node.settings.display_name,
            "fedicoop": {"role": node.settings.role.value, "regionCodes": list(node.settings.region_codes)},
        },
    ).to_wire()
    media_type = f'application/json; profile="{NODEINFO_SCHEMA}#"'
    return json_response(document, media_type=media_type, headers=CORS)


ROUTES = [
    Route("/.well-known/webfinger", webfinger, methods=["GET", "HEAD"]),
    Route("/.well-known/host-meta", host_meta, methods=["GET", "HEAD"]),
    Route("/.well-known/nodeinfo", nodeinfo_links, methods=["GET", "HEAD"]),
    Route("/nodeinfo/2.1", nodeinfo, methods=["GET", "HEAD"]),
]
