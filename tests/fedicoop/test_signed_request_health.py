"""A correctly signed request from a failing host clears its health record (wire-format §11).

The node runs in process; the signing actor is a real loopback peer, so each request's key is fetched
over HTTP and really verified. Deliveries to that host were failing (stored DomainHealth rows).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from federation.auth import HttpSignatureAuth
from fedicoop.models.deliveries import DomainHealth
from fedicoop.services.deliveries import host_of
from tests.conftest import Clock, _settings
from tests.federation.loopback import rsa_key
from tests.fedicoop.remote import LOCAL_ACTOR, Remote, post_signed, running_node

pytestmark = pytest.mark.anyio

SEVEN_DAYS = [f"2025-10-0{day}" for day in range(1, 8)]


async def failing(host: str, *, unavailable: bool, days: list[str]) -> DomainHealth:
    return await DomainHealth.create(host=host, failure_days=days, unavailable=unavailable)


async def follow(
    node: httpx.AsyncClient,
    clock: Clock,
    remote: Remote,
    *,
    key: rsa.RSAPrivateKey | None = None,
    skew: timedelta = timedelta(0),
) -> httpx.Response:
    document = remote.activity("Follow", 1, object=LOCAL_ACTOR)
    return await post_signed(node, clock, remote, document, key=key, skew=skew)


@pytest.mark.parametrize(("unavailable", "days"), [(True, SEVEN_DAYS), (False, SEVEN_DAYS[:3])])
async def test_signed_inbox_post__clears_the_signers_host(
    node: httpx.AsyncClient, clock: Clock, remote: Remote, unavailable: bool, days: list[str]
) -> None:
    host = host_of(remote.actor_id)
    await failing(host, unavailable=unavailable, days=days)
    other = await failing("other.example", unavailable=True, days=SEVEN_DAYS)
    assert (await follow(node, clock, remote)).status_code == 202
    health = await DomainHealth.get(host=host)
    assert (health.unavailable, health.failure_days, health.last_success_at) == (False, [], clock())
    untouched = await DomainHealth.get(id=other.id)
    assert (untouched.unavailable, untouched.failure_days) == (True, SEVEN_DAYS)


async def test_healthy_host__not_written(node: httpx.AsyncClient, clock: Clock, remote: Remote) -> None:
    long_ago = clock() - timedelta(days=30)
    await DomainHealth.create(host=host_of(remote.actor_id), failure_days=[], last_success_at=long_ago)
    assert (await follow(node, clock, remote)).status_code == 202
    health = await DomainHealth.get(host=host_of(remote.actor_id))
    assert health.last_success_at == long_ago  # nothing to clear: no write


@pytest.mark.parametrize("case", ["wrong key", "expired date"])
async def test_refused_signature__clears_nothing(
    node: httpx.AsyncClient, clock: Clock, remote: Remote, case: str
) -> None:
    host = host_of(remote.actor_id)
    await failing(host, unavailable=True, days=SEVEN_DAYS)
    if case == "wrong key":
        response = await follow(node, clock, remote, key=rsa_key("mallory"))
    else:
        response = await follow(node, clock, remote, skew=-timedelta(hours=2))
    assert response.status_code == 401
    health = await DomainHealth.get(host=host)
    assert (health.unavailable, health.failure_days, health.last_success_at) == (True, SEVEN_DAYS, None)


async def test_signed_get_in_authorized_fetch_mode__clears_the_host(
    database_url: str, tmp_path: Path, clock: Clock, remote: Remote
) -> None:
    settings = _settings(database_url, tmp_path, insecure_peers=True, authorized_fetch=True)
    async with running_node(settings, clock) as (node, _app):
        host = host_of(remote.actor_id)
        await failing(host, unavailable=True, days=SEVEN_DAYS)
        request = node.build_request(
            "GET", "/actors/atelier-fives/followers", headers={"Accept": "application/activity+json"}
        )
        HttpSignatureAuth(remote.key_id, remote.key, now=clock).sign(request)
        assert (await node.send(request)).status_code == 200
        health = await DomainHealth.get(host=host)
        cleared_at: datetime | None = health.last_success_at
        assert (health.unavailable, health.failure_days, cleared_at) == (False, [], clock())
