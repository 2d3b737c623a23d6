"""Authorized-fetch mode (wire-format §4.4): object and collection GETs need a valid HTTP signature.

The node runs in process on the test database; the signing remote actor is a real loopback peer that
publishes its key. The last test serves two real nodes with uvicorn on loopback ports and lets one
node's Fetcher (signing as its application actor) read from the other in authorized-fetch mode.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette

from federation.auth import HttpSignatureAuth
from fedicoop.app import create_app
from fedicoop.models.activities import Activity
from fedicoop.models.places import Place
from fedicoop.settings import Settings, load_settings
from tests.conftest import TEST_BASE_URL, TEST_TOKEN, Clock, _settings
from tests.federation.loopback import rsa_key, serving
from tests.fedicoop.remote import Remote, network_of
from tests.fedicoop.web.seed import AS_JSON, BROWSER_ACCEPT, LD_JSON, Seeded, path_of, seed_node

pytestmark = pytest.mark.anyio


@pytest.fixture
def node_settings(database_url: str, tmp_path: Path) -> Settings:
    """The node under test in authorized-fetch mode, allowed to talk to loopback peers."""
    return _settings(database_url, tmp_path, insecure_peers=True, authorized_fetch=True)


@contextlib.asynccontextmanager
async def seeded_node(settings: Settings, clock: Clock) -> AsyncIterator[tuple[httpx.AsyncClient, Seeded]]:
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url=TEST_BASE_URL,
            headers={"Authorization": f"Bearer {TEST_TOKEN}"},
        ) as http:
            yield http, await seed_node(http)


@pytest.fixture
async def seeded(node_settings: Settings, clock: Clock) -> AsyncIterator[tuple[httpx.AsyncClient, Seeded]]:
    async with seeded_node(node_settings, clock) as pair:
        yield pair


async def guarded_urls(seed: Seeded) -> list[str]:
    """Every kind of object and collection the node serves as ActivityStreams JSON."""
    place = await Place.filter(blurred=False).first()
    create = await Activity.filter(type="Create", public=True).first()
    assert place is not None and create is not None
    return [
        seed.loan_offer,
        seed.request,
        seed.repair_offer,
        seed.slots,
        seed.slots + "?page=1",
        seed.event,
        f"{TEST_BASE_URL}/places/{place.id}",
        f"{TEST_BASE_URL}/activities/{create.id}",
        seed.workshop + "/outbox",
        seed.workshop + "/outbox?page=1",
        seed.workshop + "/followers",
        seed.workshop + "/following",
        seed.workshop + "/following?page=1",
        f"{TEST_BASE_URL}/actor/outbox",
        f"{TEST_BASE_URL}/actor/followers",
        f"{TEST_BASE_URL}/actor/following",
    ]


async def signed_get(
    node: httpx.AsyncClient,
    clock: Clock,
    remote: Remote,
    url: str,
    *,
    method: str = "GET",
    accept: str = AS_JSON,
    key: rsa.RSAPrivateKey | None = None,
    key_id: str | None = None,
    skew: timedelta = timedelta(0),
    after_signing: dict[str, str] | None = None,
) -> httpx.Response:
    request = node.build_request(method, path_of(url), headers={"Accept": accept})
    HttpSignatureAuth(key_id or remote.key_id, key or remote.key, now=lambda: clock() + skew).sign(request)
    request.headers.update(after_signing or {})
    return await node.send(request)


def assert_refused(response: httpx.Response, status: int = 401) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["error"] == ("signature" if status == 401 else "forbidden") and body["detail"]


async def test_unsigned_get_of_objects_and_collections__401(
    seeded: tuple[httpx.AsyncClient, Seeded],
) -> None:
    node, seed = seeded
    for url in await guarded_urls(seed):
        for accept in (AS_JSON, LD_JSON):
            response = await node.get(path_of(url), headers={"Accept": accept})
            assert_refused(response)
            assert "no Signature" in response.json()["detail"]
    head = await node.head(path_of(seed.loan_offer), headers={"Accept": AS_JSON})
    assert head.status_code == 401


async def test_unsigned_collection_asked_without_accept__401(
    seeded: tuple[httpx.AsyncClient, Seeded],
) -> None:
    """Collections answer JSON whatever the Accept header says: they are guarded on what they answer."""
    node, seed = seeded
    for accept in (None, "*/*", BROWSER_ACCEPT):
        headers = {} if accept is None else {"Accept": accept}
        for url in (seed.workshop + "/outbox?page=1", f"{TEST_BASE_URL}/actor/followers"):
            assert_refused(await node.get(path_of(url), headers=headers))


async def test_signed_get_by_a_remote_actor__200(
    seeded: tuple[httpx.AsyncClient, Seeded], clock: Clock, remote: Remote
) -> None:
    node, seed = seeded
    for url in await guarded_urls(seed):
        response = await signed_get(node, clock, remote, url)
        assert response.status_code == 200, (url, response.text)
        assert response.headers["content-type"] == AS_JSON
        document: dict[str, Any] = response.json()
        assert document["id"] == url
    head = await signed_get(node, clock, remote, seed.event, method="HEAD")
    assert head.status_code == 200 and head.headers["content-type"] == AS_JSON
    assert len(remote.peer.requests_to("/users/camille")) == 1  # the key, fetched once and cached


@pytest.mark.parametrize(
    "case", ["wrong key", "unknown key", "expired date", "future date", "Accept changed", "Host changed"]
)
async def test_bad_signature__401(
    seeded: tuple[httpx.AsyncClient, Seeded], clock: Clock, remote: Remote, case: str
) -> None:
    node, seed = seeded
    cases: dict[str, dict[str, Any]] = {
        "wrong key": {"key": rsa_key("mallory")},
        "unknown key": {"key_id": remote.peer.url("/users/nobody#main-key")},
        "expired date": {"skew": -timedelta(hours=2)},
        "future date": {"skew": timedelta(hours=2)},
        "Accept changed": {"after_signing": {"Accept": LD_JSON}},
        "Host changed": {"after_signing": {"Host": "elsewhere.example"}},
    }
    assert_refused(await signed_get(node, clock, remote, seed.loan_offer, **cases[case]))


async def test_malformed_signature__401(seeded: tuple[httpx.AsyncClient, Seeded]) -> None:
    node, seed = seeded
    response = await node.get(
        path_of(seed.event), headers={"Accept": AS_JSON, "Signature": 'keyId="x",signature=='}
    )
    assert_refused(response)


async def test_actor_documents_and_discovery__public(seeded: tuple[httpx.AsyncClient, Seeded]) -> None:
    node, seed = seeded
    for url in (seed.workshop, seed.cooperative, f"{TEST_BASE_URL}/actor", f"{TEST_BASE_URL}/@atelier-fives"):
        response = await node.get(path_of(url), headers={"Accept": AS_JSON})
        assert response.status_code == 200, (url, response.text)
        assert response.headers["content-type"] == AS_JSON
        assert response.json()["publicKey"]["id"].endswith("#main-key")
    for path in (
        "/.well-known/webfinger?resource=acct:atelier-fives@velo-fives.example",
        "/.well-known/host-meta",
        "/.well-known/nodeinfo",
        "/nodeinfo/2.1",
        "/healthz",
    ):
        assert (await node.get(path)).status_code == 200, path


async def test_html_pages__public(seeded: tuple[httpx.AsyncClient, Seeded]) -> None:
    node, seed = seeded
    for url in (
        seed.loan_offer,
        seed.repair_offer,
        seed.slots,
        seed.event,
        seed.workshop,
        f"{TEST_BASE_URL}/@atelier-fives",
        f"{TEST_BASE_URL}/",
        f"{TEST_BASE_URL}/catalogue",
    ):
        response = await node.get(path_of(url), headers={"Accept": BROWSER_ACCEPT})
        assert response.status_code == 200, (url, response.text)
        assert response.headers["content-type"].startswith("text/html")


async def test_signer_on_a_blocked_host__403(
    database_url: str, tmp_path: Path, clock: Clock, remote: Remote
) -> None:
    settings = _settings(
        database_url, tmp_path, insecure_peers=True, authorized_fetch=True, blocked_domains=["127.0.0.1"]
    )
    async with seeded_node(settings, clock) as (node, seed):
        assert_refused(await signed_get(node, clock, remote, seed.loan_offer), status=403)
        assert remote.peer.requests_to("/users/camille") == []  # its key is not even fetched


async def test_off_by_default(client: httpx.AsyncClient, settings: Settings) -> None:
    assert settings.authorized_fetch is False
    seed = await seed_node(client)
    for url in (seed.loan_offer, seed.event, seed.workshop + "/outbox?page=1"):
        response = await client.get(path_of(url), headers={"Accept": AS_JSON})
        assert response.status_code == 200, (url, response.text)


# Two real nodes on loopback ports


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def served_node(database_url: str, data_dir: Path, **options: Any) -> AsyncIterator[Starlette]:
    """A node app served by uvicorn (lifespan on) at ``http://127.0.0.1:<free port>``."""
    apps: list[Starlette] = []

    def make_app(base: str) -> Starlette:
        settings = load_settings(
            toml_file=None,
            env_file=None,
            base_url=base,
            database_url=database_url,
            data_dir=str(data_dir),
            demo=False,
            admin_token=TEST_TOKEN,
            insecure_peers=True,
            worker_in_serve=False,
            **options,
        )
        apps.append(create_app(settings))
        return apps[0]

    async with serving(make_app, lifespan="on"):
        yield apps[0]


async def test_our_fetcher_reads_from_a_node_in_authorized_fetch_mode(
    database_url: str, second_database_url: str, tmp_path: Path
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    async with (
        served_node(second_database_url, tmp_path / "a") as reader,
        served_node(database_url, tmp_path / "b", authorized_fetch=True) as guarded,
    ):
        base = guarded.state.node.settings.base_url
        async with httpx.AsyncClient(
            base_url=base, headers={"Authorization": f"Bearer {TEST_TOKEN}"}, timeout=30
        ) as api:
            created = await api.post(
                "/api/v1/actors", json={"username": "partage-lille", "kind": "cooperative", "name": "Partage"}
            )
            assert created.status_code == 201, created.text
            listing = await api.post(
                "/api/v1/listings",
                json={
                    "actor": "partage-lille",
                    "kind": "object",
                    "exchange": "gift",
                    "title": "Vélo",
                    "category": "velos-accessoires",
                },
            )
            assert listing.status_code == 201, listing.text
            listing_id: str = listing.json()["id"]
            unsigned = await api.get(listing_id, headers={"Accept": AS_JSON})
            assert unsigned.status_code == 401 and unsigned.json()["error"] == "signature"

        fetcher = network_of(reader).fetcher
        document = await fetcher.fetch(listing_id)
        assert document["id"] == listing_id and document["type"] == "Note"
        outbox = await fetcher.fetch(f"{base}/actors/partage-lille/outbox?page=1")
        assert [item["object"]["id"] for item in outbox["orderedItems"]] == [listing_id]
        actor = await fetcher.fetch(f"{base}/actors/partage-lille")
        assert actor["type"] == "Organization"
