"""bovine-herd alone, against a stand-in of our node: the peer works, and its signatures meet our verifier.

The stand-in is a real loopback HTTP server (:mod:`tests.federation.loopback`) publishing one actor with
a fresh RSA key. Every request bovine sends it is checked on arrival with our
:class:`~federation.verifier.SignatureChecker`, trusting the keys bovine publishes (its actor's, and its
application actor's, which signs the GETs that fetch keys). Requests to bovine are signed with our
:class:`~federation.auth.HttpSignatureAuth`, as our node signs them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from federation.auth import HttpSignatureAuth
from federation.cavage import parse_signature_header
from federation.http import HttpPolicy, client_factory
from federation.keys import load_public_key_pem, public_key_to_pem
from federation.verifier import VerificationKey
from schemas.context import PUBLIC, fedicoop_context
from schemas.examples import load_example
from tests.federation.loopback import Hit, Peer, rsa_key, running_peer
from tests.interop.bovine_peer import AS_JSON, BovinePeer

pytestmark = pytest.mark.anyio

WAIT_SECONDS = 15.0
GET_HEADERS = ["(request-target)", "host", "date", "accept"]
POST_HEADERS = ["(request-target)", "host", "date", "digest", "content-type"]
EXAMPLE_ORIGIN = "https://partage-lille.example"
EXAMPLE_ACTOR = EXAMPLE_ORIGIN + "/actors/partage-lille"


@dataclass(eq=False)
class StandIn:
    """Our node's stand-in: one actor on a loopback peer, an inbox that answers 202, a signing key."""

    peer: Peer
    key: rsa.RSAPrivateKey

    @property
    def actor_id(self) -> str:
        return self.peer.url("/actor")

    @property
    def key_id(self) -> str:
        return self.actor_id + "#main-key"

    def auth(self) -> HttpSignatureAuth:
        return HttpSignatureAuth(self.key_id, self.key, now=lambda: datetime.now(UTC))

    def publish(self, key: rsa.RSAPrivateKey) -> None:
        """Serve the actor document with ``key`` as its public key."""
        self.peer.serve(
            "/actor",
            {
                "@context": fedicoop_context(),
                "id": self.actor_id,
                "type": "Organization",
                "preferredUsername": "standin",
                "inbox": self.peer.url("/inbox"),
                "outbox": self.peer.url("/outbox"),
                "followers": self.peer.url("/followers"),
                "publicKey": {
                    "id": self.key_id,
                    "owner": self.actor_id,
                    "publicKeyPem": public_key_to_pem(key.public_key()),
                },
            },
        )

    async def wait_for(self, path: str, method: str = "POST", count: int = 1) -> list[Hit]:
        """The requests for ``method path``, once at least ``count`` have arrived."""
        for _ in range(int(WAIT_SECONDS / 0.05)):
            hits = self.peer.requests_to(path, method)
            if len(hits) >= count:
                return hits
            await asyncio.sleep(0.05)
        raise AssertionError(
            f"{count} {method} {path} expected; got {[(h.method, h.path) for h in self.peer.hits]}"
        )

    async def post(self, http: httpx.AsyncClient, url: str, activity: dict[str, Any]) -> httpx.Response:
        """POST ``activity`` signed by the stand-in actor, as our node delivers."""
        body = json.dumps({"@context": fedicoop_context(), **activity}).encode("utf-8")
        return await http.post(url, content=body, auth=self.auth())


@pytest.fixture
async def stand_in() -> AsyncIterator[StandIn]:
    """A running stand-in of our node with its actor published."""
    async with running_peer() as peer:
        stand_in = StandIn(peer, rsa_key("bovine-stand-in"))
        stand_in.publish(stand_in.key)
        peer.serve("/inbox", b"", status=202, method="POST")
        yield stand_in


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """Our node's HTTP client (ActivityStreams ``Accept``, SSRF guard open to loopback) for the test."""
    async with client_factory(HttpPolicy(user_agent="fedicoop/test", insecure_peers=True)) as client:
        yield client


def _trust(stand_in: StandIn, document: dict[str, Any]) -> None:
    key = document["publicKey"]
    stand_in.peer.keys[key["id"]] = VerificationKey(
        key["id"], key["owner"], load_public_key_pem(key["publicKeyPem"])
    )


async def _trust_bovine(stand_in: StandIn, bovine: BovinePeer, http: httpx.AsyncClient) -> dict[str, Any]:
    """Trust bovine's application actor (public) and its actor (signed GET); return the actor document."""
    application = await http.get(bovine.application_actor_id, headers={"Accept": AS_JSON})
    assert application.status_code == 200, application.text
    _trust(stand_in, application.json())
    response = await http.get(bovine.actor_id, auth=stand_in.auth())
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    _trust(stand_in, document)
    return document


def _signed_headers(hit: Hit) -> list[str]:
    return list(parse_signature_header(hit.headers["signature"]).headers)


def _offer(stand_in: StandIn) -> dict[str, Any]:
    """The golden loan offer, moved to the stand-in's origin and addressed to the public and bovine."""
    text = json.dumps(load_example("offer-loan")).replace(EXAMPLE_ACTOR, stand_in.actor_id)
    offer: dict[str, Any] = json.loads(text.replace(EXAMPLE_ORIGIN, stand_in.peer.base_url))
    offer.pop("@context")
    return offer


async def test_bovine__serves_its_actor_only_to_signed_gets(
    bovine_peer: BovinePeer, stand_in: StandIn, http: httpx.AsyncClient
) -> None:
    unsigned = await http.get(bovine_peer.actor_id, headers={"Accept": AS_JSON})
    assert unsigned.status_code == 401

    document = await _trust_bovine(stand_in, bovine_peer, http)

    assert document["id"] == bovine_peer.actor_id
    assert document["id"].startswith(bovine_peer.base_url + "/endpoints/")
    assert document["inbox"].startswith("http://127.0.0.1:")
    assert document["publicKey"]["id"] == bovine_peer.key_id
    assert document["publicKey"]["owner"] == bovine_peer.actor_id
    [key_fetch] = stand_in.peer.requests_to("/actor")
    assert key_fetch.signature_error is None
    assert key_fetch.signer == bovine_peer.application_actor_id
    assert _signed_headers(key_fetch) == GET_HEADERS
    assert key_fetch.headers["accept"] == AS_JSON


async def test_bovine__follow_arrives_signed_and_verifies(
    bovine_peer: BovinePeer, stand_in: StandIn, http: httpx.AsyncClient
) -> None:
    await _trust_bovine(stand_in, bovine_peer, http)

    follow_id = await bovine_peer.follow(stand_in.actor_id)

    [delivery] = await stand_in.wait_for("/inbox")
    assert delivery.signature_error is None
    assert delivery.signer == bovine_peer.actor_id
    assert _signed_headers(delivery) == POST_HEADERS
    assert delivery.headers["digest"].startswith("sha-256=")
    assert delivery.headers["content-type"] == AS_JSON
    follow = json.loads(delivery.body)
    assert (follow["type"], follow["id"], follow["actor"]) == ("Follow", follow_id, bovine_peer.actor_id)
    assert follow["object"] == stand_in.actor_id

    accept: dict[str, Any] = {
        "id": stand_in.peer.url("/accepts/1"),
        "type": "Accept",
        "actor": stand_in.actor_id,
    }
    accept |= {"object": follow, "to": [bovine_peer.actor_id]}
    response = await stand_in.post(http, bovine_peer.actor["inbox"], accept)

    assert response.status_code == 202, response.text
    await bovine_peer.wait_for_collection(bovine_peer.actor["following"], stand_in.actor_id)


async def test_bovine__accepts_a_follower_and_delivers_to_it(
    bovine_peer: BovinePeer, stand_in: StandIn, http: httpx.AsyncClient
) -> None:
    await _trust_bovine(stand_in, bovine_peer, http)
    follow: dict[str, Any] = {
        "id": stand_in.peer.url("/follows/1"),
        "type": "Follow",
        "actor": stand_in.actor_id,
    }
    follow |= {"object": bovine_peer.actor_id, "to": [bovine_peer.actor_id]}
    response = await stand_in.post(http, bovine_peer.actor["inbox"], follow)
    assert response.status_code == 202, response.text
    received = await bovine_peer.wait_for_inbox(lambda item: item.get("id") == follow["id"])

    accept_id = await bovine_peer.accept(received)

    [accept_delivery] = await stand_in.wait_for("/inbox")
    assert accept_delivery.signer == bovine_peer.actor_id, accept_delivery.signature_error
    accept = json.loads(accept_delivery.body)
    assert (accept["type"], accept["id"], accept["actor"]) == ("Accept", accept_id, bovine_peer.actor_id)
    assert accept["object"]["id"] == follow["id"]
    await bovine_peer.wait_for_collection(bovine_peer.actor["followers"], stand_in.actor_id)

    create_id = await bovine_peer.send_create_note(
        "<p>Moo</p>", to=[PUBLIC], cc=[bovine_peer.actor["followers"]]
    )

    create_delivery = (await stand_in.wait_for("/inbox", count=2))[1]
    assert create_delivery.signer == bovine_peer.actor_id, create_delivery.signature_error
    assert create_delivery.headers["digest"].startswith("sha-256=")
    create = json.loads(create_delivery.body)
    assert (create["type"], create["id"], create["actor"]) == ("Create", create_id, bovine_peer.actor_id)
    note = create["object"]
    assert (note["type"], note["attributedTo"], note["content"]) == (
        "Note",
        bovine_peer.actor_id,
        "<p>Moo</p>",
    )
    assert note["id"].startswith(bovine_peer.base_url + "/objects/")
    fetched = await http.get(note["id"], auth=stand_in.auth())
    assert fetched.status_code == 200, fetched.text
    assert fetched.headers["content-type"] == AS_JSON
    assert (fetched.json()["id"], fetched.json()["content"]) == (note["id"], "<p>Moo</p>")


async def test_bovine__stores_our_signed_create_and_refuses_bad_signatures(
    bovine_peer: BovinePeer, stand_in: StandIn, http: httpx.AsyncClient
) -> None:
    offer = _offer(stand_in)
    offer["cc"] = [*offer["cc"], bovine_peer.actor_id]
    create = {"id": offer["id"] + "/create", "type": "Create", "actor": stand_in.actor_id, "object": offer}
    create |= {"to": offer["to"], "cc": offer["cc"]}
    inbox = bovine_peer.actor["inbox"]

    unsigned = await http.post(inbox, content=json.dumps(create).encode(), headers={"Content-Type": AS_JSON})
    tampered = http.build_request("POST", inbox, content=json.dumps(create).encode())
    stand_in.auth().sign(tampered)
    tampered.headers["Digest"] = "SHA-256=" + "A" * 43 + "="
    refused = await http.send(tampered)
    accepted = await stand_in.post(http, inbox, create)

    assert (unsigned.status_code, refused.status_code, accepted.status_code) == (401, 401, 202)
    stored_create = await bovine_peer.wait_for_inbox(lambda item: item.get("id") == create["id"])
    assert (stored_create["type"], stored_create["actor"], stored_create["object"]) == (
        "Create",
        stand_in.actor_id,
        offer["id"],
    )
    stored_offer = await bovine_peer.stored(offer["id"])
    assert stored_offer is not None
    assert (stored_offer["type"], stored_offer["attributedTo"]) == ("Note", stand_in.actor_id)
    assert stored_offer["content"] == offer["content"]
    assert bovine_peer.context_misses() == []


async def test_bovine__never_refetches_a_key_it_has(
    bovine_peer: BovinePeer, stand_in: StandIn, http: httpx.AsyncClient
) -> None:
    first = await http.get(bovine_peer.actor_id, auth=stand_in.auth())
    rotated = rsa_key("bovine-stand-in-rotated")
    stand_in.publish(rotated)
    stand_in.key = rotated

    second = await http.get(bovine_peer.actor_id, auth=stand_in.auth())

    assert (first.status_code, second.status_code) == (200, 401)
    assert len(stand_in.peer.requests_to("/actor")) == 1
