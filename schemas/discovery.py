"""Discovery documents (wire-format §4.1–§4.3): WebFinger JRD, NodeInfo 2.1 and host-meta.

These are plain JSON (and XML), not JSON-LD: they carry no ``@context``. NodeInfo field names follow
the same camelCase rule as ActivityStreams (``openRegistrations``, ``activeHalfyear``…).
"""

from __future__ import annotations

from typing import Annotated, Any
from xml.sax.saxutils import quoteattr

from pydantic import Field, JsonValue

from schemas.base import IRI, WireModel
from schemas.limits import IRI_MAX

WEBFINGER_PROFILE_REL = "http://webfinger.net/rel/profile-page"
NODEINFO_21_REL = "http://nodeinfo.diaspora.software/ns/schema/2.1"
NODEINFO_21_PROFILE = "http://nodeinfo.diaspora.software/ns/schema/2.1#"
APPLICATION_ACTOR_REL = "https://www.w3.org/ns/activitystreams#Application"
ACTIVITY_JSON = "application/activity+json"


class JrdLink(WireModel):
    """A JRD link: ``rel``, and ``type``/``href`` (or ``template`` for ``lrdd`` and ``subscribe``)."""

    rel: str = Field(max_length=IRI_MAX)
    type: str | None = None
    href: str | None = Field(default=None, max_length=IRI_MAX)
    template: str | None = Field(default=None, max_length=IRI_MAX)
    titles: dict[str, str] | None = None
    properties: dict[str, str | None] | None = None


class WebFinger(WireModel):
    """A WebFinger answer (RFC 7033): ``subject`` in ``acct:`` form, ``aliases``, ``links``.

    :meth:`self_link` finds the ``self`` link of type ``application/activity+json`` (Mastodon accepts the
    ``ld+json`` profile form too).
    """

    subject: str = Field(max_length=IRI_MAX)
    aliases: list[str] | None = None
    properties: dict[str, str | None] | None = None
    links: list[JrdLink] = Field(default_factory=list)

    def self_link(self) -> str | None:
        """Return the ``href`` of the ActivityStreams ``self`` link, or ``None`` when there is none."""
        for link in self.links:
            if link.rel != "self" or link.href is None or link.type is None:
                continue
            media_type = link.type.split(";", 1)[0].strip().lower()
            if media_type == ACTIVITY_JSON or (
                media_type == "application/ld+json" and "activitystreams" in link.type
            ):
                return link.href
        return None


class NodeInfoLink(WireModel):
    """One entry of ``/.well-known/nodeinfo``: ``rel`` and ``href``."""

    rel: str = Field(max_length=IRI_MAX)
    href: IRI


class NodeInfoLinks(WireModel):
    """``/.well-known/nodeinfo``: the NodeInfo 2.1 link and the FEP-2677 application-actor link."""

    links: list[NodeInfoLink]

    def href_for(self, rel: str) -> str | None:
        """Return the ``href`` of the first link with this ``rel``, or ``None``."""
        return next((link.href for link in self.links if link.rel == rel), None)


class NodeInfoSoftware(WireModel):
    """``software``: ``name`` matches ``^[a-z0-9-]+$``; ``version``; optional repository and homepage."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9-]+$", max_length=255)]
    version: str = Field(max_length=255)
    repository: str | None = None
    homepage: str | None = None


class NodeInfoServices(WireModel):
    """``services``: third-party services the node talks to (none for fedicoop)."""

    inbound: list[str] = Field(default_factory=list)
    outbound: list[str] = Field(default_factory=list)


class NodeInfoUsers(WireModel):
    """``usage.users``: local Organization actors, in total and active."""

    total: int | None = None
    active_month: int | None = None
    active_halfyear: int | None = None


class NodeInfoUsage(WireModel):
    """``usage``: users and ``localPosts`` (live listings and events)."""

    users: NodeInfoUsers = Field(default_factory=NodeInfoUsers)
    local_posts: int | None = None
    local_comments: int | None = None


class NodeInfo(WireModel):
    """A NodeInfo 2.1 document; ``metadata.fedicoop.role`` is ``node`` or ``portal`` on ours."""

    version: str = "2.1"
    software: NodeInfoSoftware
    protocols: list[str] = Field(default_factory=lambda: ["activitypub"])
    services: NodeInfoServices = Field(default_factory=NodeInfoServices)
    open_registrations: bool = False
    usage: NodeInfoUsage = Field(default_factory=NodeInfoUsage)
    metadata: dict[str, JsonValue] = Field(default_factory=dict)

    def fedicoop_metadata(self) -> dict[str, Any] | None:
        """Return ``metadata.fedicoop`` when the node is a fedicoop node, else ``None``."""
        value = self.metadata.get("fedicoop")
        return value if isinstance(value, dict) else None


def host_meta_xrd(base_url: str) -> str:
    """Render ``/.well-known/host-meta`` (§4.2) for a node whose public base URL is ``base_url``.

    The ``lrdd`` template points at our WebFinger endpoint; the URL is XML-escaped.

    >>> print(host_meta_xrd("https://velo-fives.example/"), end="")
    <?xml version="1.0" encoding="UTF-8"?>
    <XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">
      <Link rel="lrdd" template="https://velo-fives.example/.well-known/webfinger?resource={uri}"/>
    </XRD>
    """
    template = base_url.rstrip("/") + "/.well-known/webfinger?resource={uri}"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" template={quoteattr(template)}/>\n'
        "</XRD>\n"
    )
