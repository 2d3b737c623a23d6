"""A remote fediverse actor for the node's federation tests, served by a real loopback HTTP peer.

:class:`Remote` publishes an actor document with its key on a :class:`~tests.federation.loopback.Peer`
and signs POSTs to the node under test, which runs in process (ASGI) with its lifespan, its database and
its network runtime. :func:`post_signed` is the one way the tests deliver an activity to the node.
"""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette

from federation.auth import HttpSignatureAuth
from federation.keys import load_private_key, public_key_to_pem
from fedicoop.app import create_app
from fedicoop.models.actors import Actor, ActorKey
from fedicoop.network import Network
from fedicoop.settings import Settings
from fedicoop.worker import DeliveryJob
from schemas.examples import load_example
from tests.conftest import TEST_BASE_URL, TEST_TOKEN, Clock
from tests.federation.loopback import Hit, Peer, rsa_key

AS = "https://www.w3.org/ns/activitystreams"
PUBLIC = f"{AS}#Public"
LOCAL_ACTOR = f"{TEST_BASE_URL}/actors/atelier-fives"


def actor_document(actor_id: str, key: rsa.RSAPrivateKey, kind: str = "Person") -> dict[str, Any]:
    """A minimal actor document publishing ``key`` as ``{actor_id}#main-key``."""
    return {
        "@context": [AS, "https://w3id.org/security/v1"],
        "id": actor_id,
        "type": kind,
        "preferredUsername": actor_id.rsplit("/", 1)[-1],
        "inbox": f"{actor_id}/inbox",
        "publicKey": {
            "id": f"{actor_id}#main-key",
            "owner": actor_id,
            "publicKeyPem": public_key_to_pem(key.public_key()),
        },
    }


@dataclass
class Remote:
    """A remote actor served by a loopback peer, able to sign POSTs to our node."""

    peer: Peer
    actor_id: str
    key: rsa.RSAPrivateKey

    @classmethod
    def on(cls, peer: Peer, username: str) -> Remote:
        """Publish actor ``username`` (its document and key) on ``peer``."""
        actor_id = peer.url(f"/users/{username}")
        key = rsa_key(username)
        peer.serve(f"/users/{username}", actor_document(actor_id, key))
        return cls(peer, actor_id, key)

    @property
    def key_id(self) -> str:
        return f"{self.actor_id}#main-key"

    def activity(self, kind: str, number: int, **fields: Any) -> dict[str, Any]:
        """An activity of this actor with id ``…/activities/{number}``."""
        return {
            "@context": AS,
            "id": f"{self.actor_id}/activities/{number}",
            "type": kind,
            "actor": self.actor_id,
            **fields,
        }

    def note(self, number: int, **fields: Any) -> dict[str, Any]:
        """A public offer Note by this actor (the golden example re-homed), with id ``…/notes/{number}``."""
        note = {key: value for key, value in load_example("offer-loan").items() if key != "@context"}
        for key in ("url", "replies", "likes", "shares"):
            note.pop(key, None)
        note.update(
            id=f"{self.actor_id}/notes/{number}",
            attributedTo=self.actor_id,
            title=f"Offre {number}",
            published="2025-10-12T08:00:00Z",
            updated="2025-10-12T08:00:00Z",
            to=[PUBLIC],
            cc=[f"{self.actor_id}/followers"],
        )
        return {**note, **fields}


async def post_signed(
    node: httpx.AsyncClient,
    clock: Clock,
    remote: Remote,
    document: dict[str, Any] | bytes,
    *,
    path: str = "/inbox",
    key: rsa.RSAPrivateKey | None = None,
    key_id: str | None = None,
    skew: timedelta = timedelta(0),
    content_type: str = "application/activity+json",
) -> httpx.Response:
    """POST ``document`` to the node, signed by ``remote`` (or ``key``, ``key_id``) at ``clock() + skew``."""
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    auth = HttpSignatureAuth(key_id or remote.key_id, key or remote.key, now=lambda: clock() + skew)
    request = node.build_request("POST", path, content=body, headers={"Content-Type": content_type})
    auth.sign(request)
    return await node.send(request)


async def deliver_to(remote: Remote, app: Starlette, clock: Clock) -> list[Hit]:
    """Run the node's delivery job once, the remote's inbox answering 202; return the POSTs it received.

    The remote trusts the key of the workshop ``atelier-fives`` (:func:`running_node`), so each hit
    says whether the workshop's signature verified.
    """
    inbox = urlsplit(remote.actor_id).path + "/inbox"
    remote.peer.now = clock
    remote.peer.serve(inbox, b"", status=202, method="POST")
    key = await ActorKey.get(actor=await Actor.get(username="atelier-fives"))
    remote.peer.trust(f"{LOCAL_ACTOR}#main-key", LOCAL_ACTOR, load_private_key(key.private_pem))
    job = DeliveryJob(network_of(app), "test", concurrency=4, rng=random.Random(1))
    await job(clock())
    await job.drain()
    return remote.peer.requests_to(inbox, "POST")


def network_of(app: Starlette) -> Network:
    """The open network runtime of an app started with its lifespan."""
    network: Network = app.state.network_holder.get()
    return network


@asynccontextmanager
async def running_node(
    settings: Settings, clock: Clock
) -> AsyncIterator[tuple[httpx.AsyncClient, Starlette]]:
    """The node app with its lifespan entered, a client for it, and the workshop ``atelier-fives``."""
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url=TEST_BASE_URL,
            headers={"Authorization": f"Bearer {TEST_TOKEN}"},
        ) as http:
            created = await http.post(
                "/api/v1/actors", json={"username": "atelier-fives", "kind": "workshop", "name": "Atelier"}
            )
            assert created.status_code == 201, created.text
            yield http, app
