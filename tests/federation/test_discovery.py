"""NodeInfo discovery: a peer's software name, read through /.well-known/nodeinfo, and every refusal."""

from __future__ import annotations

from typing import Any

import pytest

from federation.discovery import software_name
from federation.errors import DiscoveryError, HostBlockedError, ResponseTooLargeError
from federation.http import AsyncClient
from tests.federation.loopback import LOOSE, Peer

pytestmark = pytest.mark.anyio

REL = "http://nodeinfo.diaspora.software/ns/schema/2.1"


def nodeinfo(name: str) -> dict[str, Any]:
    return {
        "version": "2.1",
        "software": {"name": name, "version": "5.1.0"},
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": False,
        "usage": {"users": {}},
        "metadata": {},
    }


def publish(peer: Peer, href: str, document: dict[str, Any] | bytes) -> None:
    peer.serve(
        "/.well-known/nodeinfo", {"links": [{"rel": REL, "href": href}]}, content_type="application/json"
    )
    peer.serve("/nodeinfo/2.1", document, content_type="application/json")


async def test_software_name__read_from_the_linked_document(peer: Peer, http: AsyncClient) -> None:
    publish(peer, peer.url("/nodeinfo/2.1"), nodeinfo("mobilizon"))
    assert await software_name(http, LOOSE, peer.base_url) == "mobilizon"


async def test_document_on_another_origin__refused(peer: Peer, http: AsyncClient) -> None:
    publish(peer, "http://127.0.0.2:1/nodeinfo/2.1", nodeinfo("mobilizon"))
    with pytest.raises(DiscoveryError, match=r"no NodeInfo 2\.x document"):
        await software_name(http, LOOSE, peer.base_url)


@pytest.mark.parametrize(
    ("document", "message"),
    [(b"<html>", "not JSON"), ({"software": {"name": "Bad Name!"}}, "not a NodeInfo document")],
)
async def test_malformed_documents__refused(
    peer: Peer, http: AsyncClient, document: dict[str, Any] | bytes, message: str
) -> None:
    publish(peer, peer.url("/nodeinfo/2.1"), document)
    with pytest.raises(DiscoveryError, match=message):
        await software_name(http, LOOSE, peer.base_url)


async def test_no_nodeinfo__discovery_error(peer: Peer, http: AsyncClient) -> None:
    with pytest.raises(DiscoveryError, match="answered 404"):
        await software_name(http, LOOSE, peer.base_url)


async def test_oversized_document__refused(peer: Peer, http: AsyncClient) -> None:
    publish(peer, peer.url("/nodeinfo/2.1"), b"{" + b" " * (70 * 1024) + b"}")
    with pytest.raises(ResponseTooLargeError):
        await software_name(http, LOOSE, peer.base_url)


async def test_blocked_host__no_request(peer: Peer, http: AsyncClient) -> None:
    with pytest.raises(HostBlockedError):
        await software_name(http, LOOSE, peer.base_url, host_allowed=lambda host: False)
    assert peer.hits == []
