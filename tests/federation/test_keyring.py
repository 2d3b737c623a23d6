"""KeyRing: the §10.5 key forms served by a real loopback peer, the cache, forced refetches, rotation."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from federation import cavage
from federation.auth import http_date
from federation.digest import make_digest
from federation.errors import (
    FetchConnectionError,
    KeyUnavailableError,
    RemoteGoneError,
    RemoteNotFoundError,
    SignatureInvalidError,
)
from federation.fetch import Fetcher, Signer
from federation.http import AsyncClient
from federation.keyring import KeyRing, key_from_document, stub_owner
from federation.keys import ed25519_to_multibase, public_key_to_pem
from federation.verifier import SignatureChecker
from tests.federation.loopback import LOOSE, Peer, free_port, rsa_key, running_peer

NODE_ACTOR = "https://velo-fives.example/actor"
SIGNER = Signer(key_id=f"{NODE_ACTOR}#main-key", private_key=rsa_key("node"))
START = datetime(2025, 10, 13, 6, 0, tzinfo=UTC)


class Clock:
    """A settable clock for the key ring's cache decisions."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
async def peer() -> AsyncIterator[Peer]:
    async with running_peer(require_signature=True) as server:
        server.trust(SIGNER.key_id, NODE_ACTOR, SIGNER.private_key)
        yield server


@pytest.fixture
def clock() -> Clock:
    return Clock()


def ring(client: AsyncClient, clock: Clock, **options: Any) -> KeyRing:
    fetcher = Fetcher(client, LOOSE, signer=SIGNER, now=lambda: datetime.now(UTC))
    return KeyRing(fetcher.fetch, clock, **options)


def pem_of(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) -> str:
    return public_key_to_pem(key.public_key())


def actor(peer: Peer, path: str, public_key: Any = None, **extra: Any) -> dict[str, Any]:
    document = {
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": peer.url(path),
        "type": "Person",
        "preferredUsername": path.rsplit("/", 1)[-1],
        "inbox": peer.url(f"{path}/inbox"),
        **extra,
    }
    if public_key is not None:
        document["publicKey"] = public_key
    return document


def key_entry(key_id: str, owner: str, key: rsa.RSAPrivateKey) -> dict[str, str]:
    return {"id": key_id, "owner": owner, "publicKeyPem": pem_of(key)}


def same_key(a: Any, b: Any) -> bool:
    return public_key_to_pem(a) == public_key_to_pem(b)


@pytest.mark.anyio
async def test_keyring__fragment_key_id(peer: Peer, http: AsyncClient, clock: Clock) -> None:
    alice = peer.url("/actors/alice")
    peer.serve(
        "/actors/alice", actor(peer, "/actors/alice", key_entry(f"{alice}#main-key", alice, rsa_key("a")))
    )
    key = await ring(http, clock)(f"{alice}#main-key", False)
    assert key.key_id == f"{alice}#main-key"
    assert key.owner == alice
    assert same_key(key.public_key, rsa_key("a").public_key())
    (hit,) = peer.hits
    assert hit.path == "/actors/alice"
    assert hit.signer == NODE_ACTOR


@pytest.mark.anyio
async def test_keyring__public_key_list(peer: Peer, http: AsyncClient, clock: Clock) -> None:
    alice = peer.url("/actors/alice")
    keys = [key_entry(f"{alice}#old", alice, rsa_key("a")), key_entry(f"{alice}#new", alice, rsa_key("b"))]
    peer.serve("/actors/alice", actor(peer, "/actors/alice", keys))
    key = await ring(http, clock)(f"{alice}#new", False)
    assert same_key(key.public_key, rsa_key("b").public_key())


@pytest.mark.anyio
async def test_keyring__multikey_assertion_method(peer: Peer, http: AsyncClient, clock: Clock) -> None:
    alice = peer.url("/actors/alice")
    ed_key = ed25519.Ed25519PrivateKey.generate()
    multikey = {
        "id": f"{alice}#ed25519-key",
        "type": "Multikey",
        "controller": alice,
        "publicKeyMultibase": ed25519_to_multibase(ed_key.public_key()),
    }
    document = actor(
        peer, "/actors/alice", key_entry(f"{alice}#main-key", alice, rsa_key("a")), assertionMethod=[multikey]
    )
    peer.serve("/actors/alice", document)
    key = await ring(http, clock)(f"{alice}#ed25519-key", False)
    assert isinstance(key.public_key, ed25519.Ed25519PublicKey)
    assert key.owner == alice
    assert same_key(key.public_key, ed_key.public_key())


@pytest.mark.anyio
async def test_keyring__gotosocial_path_key_id_with_stub(peer: Peer, http: AsyncClient, clock: Clock) -> None:
    gts = peer.url("/users/gts")
    key_id = f"{gts}/main-key"
    peer.serve("/users/gts/main-key", key_entry(key_id, gts, rsa_key("a")))
    peer.serve("/users/gts", actor(peer, "/users/gts", key_entry(key_id, gts, rsa_key("a"))))
    key = await ring(http, clock)(key_id, False)
    assert key.owner == gts
    assert same_key(key.public_key, rsa_key("a").public_key())
    assert [hit.path for hit in peer.hits] == ["/users/gts/main-key", "/users/gts"]


@pytest.mark.anyio
async def test_keyring__stub_owner_on_another_origin_refused(
    peer: Peer, http: AsyncClient, clock: Clock
) -> None:
    async with running_peer() as other:
        owner = other.url("/users/gts")
        key_id = peer.url("/users/gts/main-key")
        other.serve("/users/gts", actor(other, "/users/gts", key_entry(key_id, owner, rsa_key("a"))))
        peer.serve("/users/gts/main-key", key_entry(key_id, owner, rsa_key("a")))
        with pytest.raises(KeyUnavailableError, match="owner on another origin"):
            await ring(http, clock)(key_id, False)
        assert other.hits == []


@pytest.mark.anyio
async def test_keyring__stub_owner_must_publish_the_key(peer: Peer, http: AsyncClient, clock: Clock) -> None:
    gts = peer.url("/users/gts")
    key_id = f"{gts}/main-key"
    peer.serve("/users/gts/main-key", key_entry(key_id, gts, rsa_key("a")))
    peer.serve("/users/gts", actor(peer, "/users/gts", key_entry(f"{gts}/other-key", gts, rsa_key("a"))))
    with pytest.raises(KeyUnavailableError, match="does not publish that key"):
        await ring(http, clock)(key_id, False)


@pytest.mark.anyio
async def test_keyring__owner_mismatch_refused(peer: Peer, http: AsyncClient, clock: Clock) -> None:
    alice = peer.url("/actors/alice")
    mallory = peer.url("/actors/mallory")
    peer.serve(
        "/actors/alice", actor(peer, "/actors/alice", key_entry(f"{alice}#main-key", mallory, rsa_key("a")))
    )
    with pytest.raises(KeyUnavailableError, match="does not publish the key"):
        await ring(http, clock)(f"{alice}#main-key", False)


@pytest.mark.anyio
async def test_keyring__missing_key_refused(peer: Peer, http: AsyncClient, clock: Clock) -> None:
    alice = peer.url("/actors/alice")
    peer.serve(
        "/actors/alice", actor(peer, "/actors/alice", key_entry(f"{alice}#main-key", alice, rsa_key("a")))
    )
    with pytest.raises(KeyUnavailableError, match=r"does not publish the key .*#other-key"):
        await ring(http, clock)(f"{alice}#other-key", False)


@pytest.mark.anyio
async def test_keyring__weak_key_refused(peer: Peer, http: AsyncClient, clock: Clock) -> None:
    alice = peer.url("/actors/alice")
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - the refusal under test
    peer.serve("/actors/alice", actor(peer, "/actors/alice", key_entry(f"{alice}#main-key", alice, weak)))
    with pytest.raises(KeyUnavailableError, match="1024 bits"):
        await ring(http, clock)(f"{alice}#main-key", False)


@pytest.mark.anyio
async def test_keyring__cache_hit_and_ttl(peer: Peer, http: AsyncClient, clock: Clock) -> None:
    alice = peer.url("/actors/alice")
    peer.serve(
        "/actors/alice", actor(peer, "/actors/alice", key_entry(f"{alice}#main-key", alice, rsa_key("a")))
    )
    keys = ring(http, clock, ttl=timedelta(hours=24))
    first = await keys(f"{alice}#main-key", False)
    clock.advance(timedelta(hours=23))
    assert await keys(f"{alice}#main-key", False) is first
    assert len(peer.hits) == 1
    clock.advance(timedelta(hours=2))
    await keys(f"{alice}#main-key", False)
    assert len(peer.hits) == 2


@pytest.mark.anyio
async def test_keyring__forced_refetch_rate_limited(peer: Peer, http: AsyncClient, clock: Clock) -> None:
    alice = peer.url("/actors/alice")
    peer.serve(
        "/actors/alice", actor(peer, "/actors/alice", key_entry(f"{alice}#main-key", alice, rsa_key("a")))
    )
    keys = ring(http, clock)
    await keys(f"{alice}#main-key", False)
    await keys(f"{alice}#main-key", True)
    assert len(peer.hits) == 2
    clock.advance(timedelta(minutes=4, seconds=59))
    await keys(f"{alice}#main-key", True)
    assert len(peer.hits) == 2
    clock.advance(timedelta(seconds=1))
    await keys(f"{alice}#main-key", True)
    assert len(peer.hits) == 3


@pytest.mark.anyio
async def test_keyring__rotation_picked_up_and_logged(
    peer: Peer, http: AsyncClient, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    alice = peer.url("/actors/alice")
    key_id = f"{alice}#main-key"
    peer.serve("/actors/alice", actor(peer, "/actors/alice", key_entry(key_id, alice, rsa_key("a"))))
    keys = ring(http, clock)
    await keys(key_id, False)
    peer.serve("/actors/alice", actor(peer, "/actors/alice", key_entry(key_id, alice, rsa_key("b"))))
    assert same_key((await keys(key_id, False)).public_key, rsa_key("a").public_key())
    with caplog.at_level(logging.WARNING, logger="federation.keyring"):
        rotated = await keys(key_id, True)
    assert same_key(rotated.public_key, rsa_key("b").public_key())
    assert [record.getMessage() for record in caplog.records] == [f"key {key_id} of {alice} changed"]
    assert (await keys(key_id, False)) is rotated


def signed_post(key_id: str, key: rsa.RSAPrivateKey, body: bytes, now: datetime) -> list[tuple[str, str]]:
    headers = [
        ("Host", "velo-fives.example"),
        ("Date", http_date(now)),
        ("Digest", make_digest(body)),
        ("Content-Type", "application/activity+json"),
    ]
    signature = cavage.sign(key, key_id, "POST", "/inbox", headers, cavage.POST_HEADERS)
    return [*headers, ("Signature", signature)]


@pytest.mark.anyio
async def test_keyring__checker_refetches_a_rotated_key_once(
    peer: Peer, http: AsyncClient, clock: Clock
) -> None:
    alice = peer.url("/actors/alice")
    key_id = f"{alice}#main-key"
    peer.serve("/actors/alice", actor(peer, "/actors/alice", key_entry(key_id, alice, rsa_key("a"))))
    keys = ring(http, clock)
    checker = SignatureChecker(key_retriever=keys, hosts=["velo-fives.example"], now=clock)
    body = b'{"type":"Follow"}'
    url = "https://velo-fives.example/inbox"
    assert await checker.verify("POST", url, signed_post(key_id, rsa_key("a"), body, clock()), body) == alice
    peer.serve("/actors/alice", actor(peer, "/actors/alice", key_entry(key_id, alice, rsa_key("b"))))
    rotated = signed_post(key_id, rsa_key("b"), body, clock())
    assert await checker.verify("POST", url, rotated, body) == alice
    assert len(peer.hits) == 2
    forged = signed_post(key_id, rsa_key("c"), body, clock())
    with pytest.raises(SignatureInvalidError):
        await checker.verify("POST", url, forged, body)
    assert len(peer.hits) == 2  # the forced refetch just made is not repeated


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "document", "cause"),
    [
        (410, None, RemoteGoneError),
        (404, None, RemoteNotFoundError),
        (200, {"type": "Tombstone", "formerType": "Person"}, RemoteGoneError),
    ],
)
async def test_keyring__gone_actor(
    peer: Peer, http: AsyncClient, clock: Clock, status: int, document: dict[str, Any] | None, cause: type
) -> None:
    alice = peer.url("/actors/alice")
    keys = ring(http, clock)
    peer.serve(
        "/actors/alice", actor(peer, "/actors/alice", key_entry(f"{alice}#main-key", alice, rsa_key("a")))
    )
    await keys(f"{alice}#main-key", False)
    assert len(keys) == 1
    served = {"id": alice, **(document or {"type": "Tombstone"})}
    peer.serve("/actors/alice", served, status=status)
    with pytest.raises(KeyUnavailableError, match="is gone") as caught:
        await keys(f"{alice}#main-key", True)
    assert isinstance(caught.value.__cause__, cause)
    assert len(keys) == 0


@pytest.mark.anyio
async def test_keyring__unreachable_actor(http: AsyncClient, clock: Clock) -> None:
    key_id = f"http://127.0.0.1:{free_port()}/actors/alice#main-key"
    with pytest.raises(KeyUnavailableError, match="failed") as caught:
        await ring(http, clock)(key_id, False)
    assert isinstance(caught.value.__cause__, FetchConnectionError)


@pytest.mark.anyio
@pytest.mark.parametrize("key_id", ["alice", "acct:alice@a.example", "https://a.example/actors/alice#"])
async def test_keyring__malformed_key_id(http: AsyncClient, clock: Clock, key_id: str) -> None:
    with pytest.raises(KeyUnavailableError, match="keyId"):
        await ring(http, clock)(key_id, False)


@pytest.mark.anyio
async def test_keyring__lru_bound_and_forget(peer: Peer, http: AsyncClient, clock: Clock) -> None:
    for name in ("alice", "bob"):
        url = peer.url(f"/actors/{name}")
        peer.serve(
            f"/actors/{name}",
            actor(peer, f"/actors/{name}", key_entry(f"{url}#main-key", url, rsa_key(name))),
        )
    keys = ring(http, clock, max_entries=1)
    await keys(peer.url("/actors/alice#main-key"), False)
    await keys(peer.url("/actors/bob#main-key"), False)
    assert len(keys) == 1
    await keys(peer.url("/actors/bob#main-key"), False)
    assert len(peer.hits) == 2
    await keys(peer.url("/actors/alice#main-key"), False)
    assert len(peer.hits) == 3
    keys.forget(peer.url("/actors/alice#main-key"))
    keys.forget("https://unknown.example/actor#k")
    assert len(keys) == 0


def test_keyring__needs_room() -> None:
    async def never(url: str) -> dict[str, Any]:
        raise AssertionError(url)

    with pytest.raises(ValueError, match="at least one"):
        KeyRing(never, Clock(), max_entries=0)


def test_key_from_document__actor_on_another_origin_ignored() -> None:
    key_id = "https://a.example/actors/alice#main-key"
    document = {
        "id": "https://b.example/actors/alice",
        "publicKey": {
            "id": key_id,
            "owner": "https://b.example/actors/alice",
            "publicKeyPem": pem_of(rsa_key("a")),
        },
    }
    assert key_from_document(key_id, document) is None


def test_key_from_document__multikey_needs_type_and_controller() -> None:
    alice = "https://a.example/actors/alice"
    multibase = ed25519_to_multibase(ed25519.Ed25519PrivateKey.generate().public_key())
    entry = {"id": f"{alice}#ed", "controller": alice, "publicKeyMultibase": multibase}
    assert key_from_document(f"{alice}#ed", {"id": alice, "assertionMethod": entry}) is None
    typed = {**entry, "type": ["Multikey"]}
    assert key_from_document(f"{alice}#ed", {"id": alice, "assertionMethod": typed}) is not None
    foreign = {**typed, "controller": "https://a.example/actors/mallory"}
    assert key_from_document(f"{alice}#ed", {"id": alice, "assertionMethod": [foreign]}) is None


def test_stub_owner__only_for_the_key_itself() -> None:
    key_id = "https://g.example/users/x/main-key"
    assert (
        stub_owner(key_id, {"id": key_id, "owner": "https://g.example/users/x"})
        == "https://g.example/users/x"
    )
    assert (
        stub_owner(key_id, {"id": "https://g.example/users/x", "owner": "https://g.example/users/x"}) is None
    )
    assert stub_owner(key_id, {"id": key_id, "owner": ["https://g.example/users/x"]}) is None
