"""Feed actors (fedicoop.feeds.actors): creation from a saved search, discovery, documents, deletion.

The node runs in process with its lifespan; its territory is Hauts-de-France from the suite's cache.
Bad names and bad filters are refused with a typed error naming them, and nothing is stored.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from fedicoop.errors import BadRequestError, ConflictError, NotFoundError, ValidationError
from fedicoop.feeds.actors import create_feed, delete_feed, list_feeds
from fedicoop.models.activities import Activity
from fedicoop.models.actors import Actor, ActorKey
from fedicoop.models.deliveries import Delivery
from fedicoop.models.feeds import Feed
from fedicoop.models.states import ActorKind
from fedicoop.node import Node
from schemas.actors import Actor as ActorDocument
from tests.conftest import TEST_BASE_URL, Clock
from tests.fedicoop.queue_helpers import follower

pytestmark = pytest.mark.anyio

AS_JSON = {"Accept": "application/activity+json"}
FEED_ID = f"{TEST_BASE_URL}/actors/velo-roubaix"
ROUBAIX = {"kind": "repair", "near": "59512", "radius": "10"}


def node_of(app: Starlette) -> Node:
    node: Node = app.state.node
    return node


async def test_create__service_actor_found_by_webfinger(
    node_app: tuple[httpx.AsyncClient, Starlette], clock: Clock
) -> None:
    http, app = node_app
    feed = await create_feed(node_of(app), "velo-roubaix", ROUBAIX)
    assert feed.params == {"kind": "repair", "near": "59512", "radius": "10"}
    actor = await Actor.get(username="velo-roubaix")
    assert (actor.kind, actor.name) == (ActorKind.FEED, "Réparations · à 10 km de Roubaix")
    assert await ActorKey.exists(actor=actor)

    finger = await http.get(
        "/.well-known/webfinger", params={"resource": "acct:velo-roubaix@velo-fives.example"}
    )
    assert finger.status_code == 200
    assert {"rel": "self", "type": "application/activity+json", "href": FEED_ID} in finger.json()["links"]

    response = await http.get("/actors/velo-roubaix", headers=AS_JSON)
    assert response.status_code == 200
    document = response.json()
    parsed = ActorDocument.model_validate(document)
    assert (parsed.type, parsed.id, parsed.preferred_username) == ("Service", FEED_ID, "velo-roubaix")
    assert document["name"] == "Réparations · à 10 km de Roubaix"
    assert "« Réparations · à 10 km de Roubaix »" in document["summary"]
    assert document["url"] == f"{TEST_BASE_URL}/catalogue?kind=repair&near=59512&radius=10"
    assert document["inbox"] == f"{FEED_ID}/inbox" and document["followers"] == f"{FEED_ID}/followers"
    assert document["endpoints"] == {"sharedInbox": f"{TEST_BASE_URL}/inbox"}
    assert document["manuallyApprovesFollowers"] is False
    assert document["publicKey"]["id"] == f"{FEED_ID}#main-key"
    fields = {field["name"]: field["value"] for field in document["attachment"]}
    assert f"{TEST_BASE_URL}/catalogue.atom?kind=repair&amp;near=59512&amp;radius=10" in fields["Atom"]

    page = await http.get("/actors/velo-roubaix", headers={"Accept": "text/html"})
    assert page.status_code == 303
    assert page.headers["location"] == document["url"]
    followers = await http.get("/actors/velo-roubaix/followers", headers=AS_JSON)
    assert followers.status_code == 200 and followers.json()["totalItems"] == 0


async def test_create__not_an_organization_in_the_api(
    node_app: tuple[httpx.AsyncClient, Starlette], clock: Clock
) -> None:
    http, app = node_app
    await create_feed(node_of(app), "velo-roubaix", ROUBAIX)
    listed = await http.get("/api/v1/actors")
    assert listed.status_code == 200
    assert [actor["username"] for actor in listed.json()] == ["atelier-fives"]
    assert (await http.get("/api/v1/actors/velo-roubaix")).status_code == 404


@pytest.mark.parametrize(
    ("name", "params", "error", "where"),
    [
        ("Velo Roubaix", ROUBAIX, ValidationError, "name"),
        ("relay", ROUBAIX, ValidationError, "name"),
        ("x" * 65, ROUBAIX, ValidationError, "name"),
        ("velo\x00", ROUBAIX, ValidationError, "name"),
        ("velo", {"kind": "concert"}, BadRequestError, "kind"),
        ("velo", {"near": "99999"}, BadRequestError, "near"),
        ("velo", {"near": "59512", "radius": "500"}, BadRequestError, "radius"),
        ("velo", {"radius": "5"}, BadRequestError, "radius"),
        ("velo", {"q": "le, la et de"}, BadRequestError, "q"),
        ("velo", {"q": "vélo\x00"}, BadRequestError, "q"),
        ("velo", {"commune": "59999"}, BadRequestError, "commune"),
        ("velo", {"commune": "75056"}, BadRequestError, "commune"),  # Paris: not a région served
        ("velo", {"epci": "123456789"}, BadRequestError, "epci"),
        ("velo", {"departement": "99"}, BadRequestError, "departement"),
        ("velo", {"from": "2025-02-30"}, BadRequestError, "from"),
        ("velo", {"cursor": "abc"}, BadRequestError, "cursor"),
        ("velo", {"limit": "5"}, BadRequestError, "limit"),
        ("velo", {"sort": "date"}, BadRequestError, "sort"),
        ("atelier-fives", ROUBAIX, ConflictError, None),
    ],
)
async def test_create__refused_and_nothing_stored(
    node_app: tuple[httpx.AsyncClient, Starlette],
    clock: Clock,
    name: str,
    params: dict[str, Any],
    error: type[Exception],
    where: str | None,
) -> None:
    _, app = node_app
    actors = await Actor.all().count()
    with pytest.raises(error) as raised:
        await create_feed(node_of(app), name, params)
    if where is not None:
        assert str(raised.value).startswith(f"{where}: ")
        assert getattr(raised.value, "field", None) == where
    assert await Actor.all().count() == actors
    assert await Feed.all().count() == 0


async def test_create__title_checked(node_app: tuple[httpx.AsyncClient, Starlette], clock: Clock) -> None:
    _, app = node_app
    for title in ("", "   ", "a\nb", "x" * 501):
        with pytest.raises(ValidationError, match=r"^title: "):
            await create_feed(node_of(app), "velo", ROUBAIX, title=title)
    feed = await create_feed(node_of(app), "velo", ROUBAIX, title="  Vélos de Roubaix ")
    await feed.fetch_related("actor")
    assert feed.actor.name == "Vélos de Roubaix"


async def test_list_and_delete__followers_told(
    node_app: tuple[httpx.AsyncClient, Starlette], clock: Clock
) -> None:
    http, app = node_app
    node = node_of(app)
    await create_feed(node, "velo-roubaix", ROUBAIX)
    await create_feed(node, "agenda-mel", {"kind": "event", "epci": "200093201"})
    actor = await Actor.get(username="velo-roubaix")
    await follower(actor, "https://social.example/users/camille", "https://social.example/inbox", clock())
    views = await list_feeds(node)
    assert [(view.username, view.followers, view.announced) for view in views] == [
        ("agenda-mel", 0, 0),
        ("velo-roubaix", 1, 0),
    ]
    assert views[0].name == "Événements · Métropole Européenne de Lille"
    assert views[1].handle == "@velo-roubaix@velo-fives.example"

    await delete_feed(node, "velo-roubaix")
    delete = await Activity.get(type="Delete", actor_iri=FEED_ID)
    assert delete.document["object"] == FEED_ID
    assert [row.inbox for row in await Delivery.filter(activity_id=delete.id)] == [
        "https://social.example/inbox"
    ]
    gone = await http.get("/actors/velo-roubaix", headers=AS_JSON)
    assert gone.status_code == 410 and gone.json()["type"] == "Tombstone"
    assert [view.username for view in await list_feeds(node)] == ["agenda-mel"]
    with pytest.raises(NotFoundError):
        await delete_feed(node, "velo-roubaix")
    with pytest.raises(ConflictError):  # a deleted actor's name is never reused
        await create_feed(node, "velo-roubaix", ROUBAIX)
