"""Tests of fedicoop.web.wellknown: WebFinger, host-meta and NodeInfo 2.1 (wire-format §4.1–§4.3)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from fedicoop.models.actors import Actor
from fedicoop.models.states import ActorKind
from tests.fedicoop.web.seed import AS_JSON, BASE, Seeded, seed_node

pytestmark = pytest.mark.anyio

WORKSHOP_ID = BASE + "/actors/atelier-fives"


@pytest.fixture
async def seeded(client: httpx.AsyncClient) -> Seeded:
    """The node of wire-format §3.1, §5, §6 and §7, created through the API."""
    return await seed_node(client)


async def _webfinger(client: httpx.AsyncClient, resource: str | None) -> httpx.Response:
    params = {} if resource is None else {"resource": resource}
    return await client.get("/.well-known/webfinger", params=params)


@pytest.mark.parametrize(
    "resource",
    [
        "acct:atelier-fives@velo-fives.example",
        "ACCT:Atelier-Fives@VELO-FIVES.EXAMPLE",
        WORKSHOP_ID,
        BASE + "/@atelier-fives",
        "https://VELO-FIVES.example/actors/atelier-fives",
    ],
)
async def test_webfinger__organization_forms(
    client: httpx.AsyncClient, seeded: Seeded, resource: str
) -> None:
    response = await _webfinger(client, resource)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/jrd+json"
    assert response.headers["access-control-allow-origin"] == "*"
    document = response.json()
    assert document["subject"] == "acct:atelier-fives@velo-fives.example"
    assert document["aliases"] == [WORKSHOP_ID, BASE + "/@atelier-fives"]
    self_links = [link for link in document["links"] if link["rel"] == "self"]
    assert self_links == [{"rel": "self", "type": "application/activity+json", "href": WORKSHOP_ID}]
    profile = [link for link in document["links"] if link["rel"] == "http://webfinger.net/rel/profile-page"]
    assert profile == [
        {
            "rel": "http://webfinger.net/rel/profile-page",
            "type": "text/html",
            "href": BASE + "/@atelier-fives",
        }
    ]


@pytest.mark.parametrize("resource", [BASE + "/actor", "acct:relay@velo-fives.example"])
async def test_webfinger__application_actor(client: httpx.AsyncClient, seeded: Seeded, resource: str) -> None:
    response = await _webfinger(client, resource)
    assert response.status_code == 200, response.text
    document = response.json()
    assert document["subject"] == "acct:relay@velo-fives.example"
    self_link = next(link for link in document["links"] if link["rel"] == "self")
    assert self_link == {"rel": "self", "type": AS_JSON, "href": BASE + "/actor"}


async def test_webfinger__self_link_resolves_to_the_actor(client: httpx.AsyncClient, seeded: Seeded) -> None:
    document = (await _webfinger(client, "acct:partage-lille@velo-fives.example")).json()
    href = next(link["href"] for link in document["links"] if link["rel"] == "self")
    actor = await client.get(href.removeprefix(BASE), headers={"Accept": AS_JSON})
    assert actor.status_code == 200
    assert actor.json()["id"] == href
    assert actor.json()["preferredUsername"] == "partage-lille"


@pytest.mark.parametrize(
    "resource",
    [
        "acct:nobody@velo-fives.example",
        "acct:atelier-fives@mastodon.example",
        "https://mastodon.example/actors/atelier-fives",
        BASE + "/listings/0199d2a0-5e6f-7a81-92b3-c4d5e6f70812",
        BASE + "/actors/nobody",
    ],
)
async def test_webfinger__unknown_or_foreign_404(
    client: httpx.AsyncClient, seeded: Seeded, resource: str
) -> None:
    response = await _webfinger(client, resource)
    assert response.status_code == 404, response.text


async def test_webfinger__deleted_actor_404(client: httpx.AsyncClient, seeded: Seeded) -> None:
    assert (await client.delete("/api/v1/actors/partage-lille")).status_code == 204
    response = await _webfinger(client, "acct:partage-lille@velo-fives.example")
    assert response.status_code == 404


@pytest.mark.parametrize(
    "resource", [None, "", "acct:nobody", "acct:@velo-fives.example", "mailto:x@y.example"]
)
async def test_webfinger__missing_or_malformed_400(
    client: httpx.AsyncClient, seeded: Seeded, resource: str | None
) -> None:
    response = await _webfinger(client, resource)
    assert response.status_code == 400, response.text


async def test_host_meta__lrdd_template(client: httpx.AsyncClient) -> None:
    response = await client.get("/.well-known/host-meta")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xrd+xml")
    text = response.text
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">' in text
    links = re.findall(r"<Link [^>]*/>", text)
    assert links == [f'<Link rel="lrdd" template="{BASE}/.well-known/webfinger?resource={{uri}}"/>']


async def test_nodeinfo_links__nodeinfo_and_application_actor(client: httpx.AsyncClient) -> None:
    response = await client.get("/.well-known/nodeinfo")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {
        "links": [
            {"rel": "http://nodeinfo.diaspora.software/ns/schema/2.1", "href": BASE + "/nodeinfo/2.1"},
            {"rel": "https://www.w3.org/ns/activitystreams#Application", "href": BASE + "/actor"},
        ]
    }


async def test_nodeinfo__software_and_usage(client: httpx.AsyncClient, seeded: Seeded) -> None:
    response = await client.get("/nodeinfo/2.1")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert "nodeinfo.diaspora.software/ns/schema/2.1" in response.headers["content-type"]
    document = response.json()
    assert document["version"] == "2.1"
    assert document["software"]["name"] == "fedicoop"
    assert document["protocols"] == ["activitypub"]
    # two Organizations (the Application actor is not a user); 3 listings + 1 event
    assert document["usage"]["users"]["total"] == 2
    assert document["usage"]["localPosts"] == 4
    assert document["metadata"]["fedicoop"]["role"] == "node"


async def test_nodeinfo__counts_only_live_posts(client: httpx.AsyncClient, seeded: Seeded) -> None:
    listing_uuid = seeded.loan_offer.rsplit("/", 1)[1]
    assert (await client.delete(f"/api/v1/listings/{listing_uuid}")).status_code == 204
    document = (await client.get("/nodeinfo/2.1")).json()
    assert document["usage"]["localPosts"] == 3


async def test_nodeinfo__feed_actors_are_not_users(client: httpx.AsyncClient, seeded: Seeded) -> None:
    now = datetime.now(UTC)
    await Actor.create(
        id=uuid.uuid4(), username="velo-roubaix", kind=ActorKind.FEED, name="Vélo", published=now, updated=now
    )
    document = (await client.get("/nodeinfo/2.1")).json()
    assert document["usage"]["users"]["total"] == 2
