"""Subscriptions (fedicoop.services.subscriptions) against real loopback nodes and peers.

The remote nodes are real fedicoop apps served by uvicorn on 127.0.0.1 (:func:`served_node`, also used
by the API and CLI tests); the peers are :class:`~tests.federation.loopback.Peer` servers. The node under
test talks to them through the real guarded transport, with an address policy that treats 127.0.0.1
(and only it) as public, so that private addresses in the same list are refused as in production.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from starlette.types import ASGIApp

from federation.http import HttpPolicy
from federation.ssrf import AddressPolicy, IPAddress
from federation.transport import GuardedTransport
from fedicoop.app import create_app
from fedicoop.db import open_database
from fedicoop.errors import BadRequestError, NotFoundError
from fedicoop.models.deliveries import Delivery
from fedicoop.models.social import Following
from fedicoop.models.states import FollowState
from fedicoop.network import Network, open_network
from fedicoop.node import build_node
from fedicoop.services import follows
from fedicoop.services.actors import ensure_application_actor
from fedicoop.services.subscriptions import (
    Entry,
    FailureReason,
    Outcome,
    list_subscriptions,
    parse_target,
    subscribe_all,
    unsubscribe,
)
from fedicoop.settings import Settings, load_settings
from tests.conftest import SHARED_CACHE, Clock, _settings
from tests.federation.loopback import Peer, free_port, rsa_key, running_peer, serving
from tests.fedicoop.remote import actor_document

pytestmark = pytest.mark.anyio

REMOTE_TOKEN = "remote-admin-token"


# --- helpers shared with the API and CLI tests -------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServedNode:
    """A real fedicoop node on loopback: its base URL, host and an authenticated API client."""

    base: str
    client: httpx.AsyncClient

    @property
    def host(self) -> str:
        return self.base.removeprefix("http://")


def served_settings(base: str, database_url: str, data_dir: Path, token: str, **extra: object) -> Settings:
    """Settings of a node served on loopback at ``base`` (worker inside unless told otherwise)."""
    return load_settings(
        toml_file=None,
        env_file=None,
        base_url=base,
        database_url=database_url,
        data_dir=str(data_dir),
        cache_dir=str(SHARED_CACHE),
        demo=False,
        admin_token=token,
        insecure_peers=True,
        **extra,
    )


@asynccontextmanager
async def served_node(
    database_url: str, data_dir: Path, *, token: str = REMOTE_TOKEN, worker: bool = True
) -> AsyncIterator[ServedNode]:
    """Serve a real node (lifespan on) on a free loopback port for the block."""
    await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)

    def make(base: str) -> ASGIApp:
        return create_app(served_settings(base, database_url, data_dir, token, worker_in_serve=worker))

    async with serving(make, lifespan="on") as base:
        async with httpx.AsyncClient(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as client:
            yield ServedNode(base, client)


async def eventually(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 30.0) -> None:
    """Wait until ``check()`` holds (the nodes' workers run on their own), failing after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {seconds:g} s waiting for {what}")
        await asyncio.sleep(0.1)


class LoopbackIsPublic(AddressPolicy):
    """The production address policy, except that 127.0.0.1 stands for a public peer (http allowed)."""

    def check_url(self, url: str) -> None:
        AddressPolicy.check_url(self, "https" + url[4:] if url.startswith("http:") else url)

    def check_address(self, address: IPAddress | str) -> None:
        if str(address) != "127.0.0.1":
            AddressPolicy.check_address(self, address)


# --- fixtures ------------------------------------------------------------------------------------


@asynccontextmanager
async def network_for(settings: Settings, clock: Clock) -> AsyncIterator[Network]:
    """The node under test's database and network, 127.0.0.1 its only reachable address."""
    node = build_node(settings, clock)
    policy = HttpPolicy(user_agent="fedicoop-test", insecure_peers=True)
    async with open_database(settings):
        await ensure_application_actor(settings.display_name, clock())
        transport = GuardedTransport(LoopbackIsPublic(), limits=policy.limits())
        async with open_network(node, transport, policy=policy) as network:
            yield network


@pytest.fixture
def our_settings(database_url: str, tmp_path: Path) -> Settings:
    return _settings(database_url, tmp_path, insecure_peers=True, blocked_domains=["blocked.example"])


@pytest.fixture
async def remote_node(second_database_url: str, tmp_path: Path) -> AsyncIterator[ServedNode]:
    async with served_node(second_database_url, tmp_path / "remote", worker=False) as node:
        yield node


@pytest.fixture
async def app_peer() -> AsyncIterator[Peer]:
    """A peer with an Application actor at ``/actor`` and no WebFinger (as some servers have)."""
    async with running_peer() as peer:
        peer.serve("/actor", actor_document(peer.url("/actor"), rsa_key("peer-app"), kind="Application"))
        yield peer


@pytest.fixture
async def html_peer() -> AsyncIterator[Peer]:
    """A web site that is no ActivityPub server: HTML at ``/actor``, no WebFinger."""
    async with running_peer() as peer:
        peer.serve("/actor", b"<!doctype html><title>Hello</title>", content_type="text/html")
        yield peer


# --- parsing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "host", "handle", "url"),
    [
        ("Velo-Fives.EXAMPLE", "velo-fives.example", None, None),
        ("  127.0.0.1:8000 ", "127.0.0.1:8000", None, None),
        ("https://velo-fives.example/", "velo-fives.example", None, None),
        ("http://127.0.0.1:8000", "127.0.0.1:8000", None, None),
        ("relay@Velo-Fives.example", None, "relay@velo-fives.example", None),
        ("https://velo-fives.example/actor", None, None, "https://velo-fives.example/actor"),
    ],
)
def test_parse_target__hosts_handles_urls(
    text: str, host: str | None, handle: str | None, url: str | None
) -> None:
    target = parse_target(text)
    assert (target.host, target.handle, target.actor_url) == (host, handle, url)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("not a host", "spaces"),
        ("exa_mple.org", "IDNA"),
        ("velo-fives.example/actor", "whole URL"),
        ("ftp://velo-fives.example/", "scheme 'ftp'"),
        ("https://user@velo-fives.example/actor", "no user name"),
        ("https://velo-fives.example:99999/", "port"),
        ("https://velo-fives.example/actor#x", "fragment"),
        ("relay@", "handle"),
        ("a\x00b", "control"),
        ("x" * 2049, "2048"),
    ],
)
def test_parse_target__malformed__names_the_problem(text: str, fragment: str) -> None:
    with pytest.raises(BadRequestError, match="is not a host") as caught:
        parse_target(text)
    assert fragment in str(caught.value)


# --- against real nodes ------------------------------------------------------------------------


async def test_subscribe_all__a_mixed_list__each_line_says_what_became_of_it(
    our_settings: Settings, clock: Clock, remote_node: ServedNode, app_peer: Peer, html_peer: Peer
) -> None:
    texts = [
        remote_node.host,  # WebFinger acct:relay@host → the real node's application actor
        app_peer.authority,  # no WebFinger: /actor
        f"http://{remote_node.host}/",  # the same host again
        f"relay@{remote_node.host}",  # another spelling of the same actor
        app_peer.url("/actor"),  # the peer's actor by URL, once more
        f"127.0.0.1:{free_port()}",  # nobody listens
        "not a host!",
        html_peer.authority,  # a web site, not ActivityPub
        "10.0.0.1",
        "[::1]:8080",
        "http://169.254.169.254/actor",
        "127.0.0.2:8000",
        "blocked.example",
        "velo-fives.example",  # ourselves
    ]
    entries = [Entry(f"line {number}", text) for number, text in enumerate(texts, start=1)]
    seen: list[str] = []
    async with network_for(our_settings, clock) as network:
        results = await subscribe_all(
            network, entries, concurrency=3, progress=lambda e: seen.append(e.label)
        )
        summary = [(r.label, r.outcome, r.reason) for r in results]
        assert summary == [
            ("line 1", Outcome.SUBSCRIBED, None),
            ("line 2", Outcome.SUBSCRIBED, None),
            ("line 3", Outcome.DUPLICATE, None),
            ("line 4", Outcome.DUPLICATE, None),
            ("line 5", Outcome.DUPLICATE, None),
            ("line 6", Outcome.FAILED, FailureReason.UNREACHABLE),
            ("line 7", Outcome.FAILED, FailureReason.MALFORMED),
            ("line 8", Outcome.FAILED, FailureReason.NOT_ACTIVITYPUB),
            ("line 9", Outcome.FAILED, FailureReason.ADDRESS_REFUSED),
            ("line 10", Outcome.FAILED, FailureReason.ADDRESS_REFUSED),
            ("line 11", Outcome.FAILED, FailureReason.ADDRESS_REFUSED),
            ("line 12", Outcome.FAILED, FailureReason.ADDRESS_REFUSED),
            ("line 13", Outcome.FAILED, FailureReason.BLOCKED),
            ("line 14", Outcome.FAILED, FailureReason.OWN_NODE),
        ]
        assert sorted(seen) == sorted(entry.label for entry in entries)
        details = {result.label: result.detail for result in results}
        remote_actor, peer_actor = f"{remote_node.base}/actor", app_peer.url("/actor")
        assert details["line 1"] == f"Follow sent to {remote_actor}; pending until the node accepts"
        assert details["line 3"] == "same target as line 1"
        assert details["line 4"] == f"{remote_actor} again, as line 1"
        assert details["line 5"] == f"{peer_actor} again, as line 2"
        assert "text/html" in details["line 8"] and "no WebFinger" in details["line 8"]
        assert "10.0.0.1" in details["line 9"] and "blocked.example" in details["line 13"]
        assert [s.actor for s in await list_subscriptions()] == [peer_actor, remote_actor]
        follows_sent = await Delivery.filter(activity__type="Follow").values_list("inbox", flat=True)
        assert sorted(str(inbox) for inbox in follows_sent) == sorted(
            [f"{remote_node.base}/inbox", f"{peer_actor}/inbox"]
        )
        assert not [hit for hit in html_peer.hits if hit.method == "POST"]


async def test_subscribe_again__pending_then_already_subscribed_then_unsubscribed(
    our_settings: Settings, clock: Clock, remote_node: ServedNode
) -> None:
    entry = [Entry("target", remote_node.host)]
    actor = f"{remote_node.base}/actor"
    async with network_for(our_settings, clock) as network:
        assert [r.outcome for r in await subscribe_all(network, entry)] == [Outcome.SUBSCRIBED]
        (again,) = await subscribe_all(network, entry)
        assert (again.outcome, again.detail) == (
            Outcome.PENDING,
            f"already asked {actor}; waiting for its answer",
        )
        row = await Following.get(target_iri=actor)
        # The inbox applies the remote Accept with this very function (tested end to end by the API test).
        assert await follows.settle_following({"actor": actor, "object": row.follow_activity_iri}, True)
        (third,) = await subscribe_all(network, [Entry("target", f"{remote_node.base}/actor")])
        assert third.outcome is Outcome.ALREADY and third.subscription is not None
        assert third.subscription.state is FollowState.ACCEPTED and third.subscription.type == "Application"
        assert await Delivery.filter(activity__type="Follow").count() == 1
        with pytest.raises(NotFoundError, match=r"no subscription matches 'other\.example'"):
            await unsubscribe(network, "other.example")
        removed = await unsubscribe(network, remote_node.host)
        assert [s.actor for s in removed] == [actor]
        assert await list_subscriptions() == []
        assert await Delivery.filter(activity__type="Undo").count() == 1


async def test_subscribe_after_a_reject__asks_again(
    our_settings: Settings, clock: Clock, remote_node: ServedNode
) -> None:
    actor = f"{remote_node.base}/actor"
    async with network_for(our_settings, clock) as network:
        await subscribe_all(network, [Entry("target", actor)])
        row = await Following.get(target_iri=actor)
        assert await follows.settle_following({"actor": actor, "object": row.follow_activity_iri}, False)
        assert [s.state for s in await list_subscriptions(FollowState.REJECTED)] == [FollowState.REJECTED]
        (result,) = await subscribe_all(network, [Entry("target", remote_node.host)])
        assert result.outcome is Outcome.SUBSCRIBED
        assert [s.state for s in await list_subscriptions()] == [FollowState.PENDING]
        assert await Delivery.filter(activity__type="Follow").count() == 2


async def test_subscribe_all__bad_concurrency__refused(our_settings: Settings, clock: Clock) -> None:
    async with network_for(our_settings, clock) as network:
        with pytest.raises(BadRequestError, match="concurrency: expected 1 to 16, got 17"):
            await subscribe_all(network, [Entry("target", "a.example")], concurrency=17)
        assert await Following.all().count() == 0
