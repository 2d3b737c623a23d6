"""The node's federation runtime: one HTTP client, the fetcher, the key ring and the signature checker.

:func:`open_network` builds them from the node once its database is open (the application actor's key
signs every outbound GET) and closes the client at the end. The routes, the worker and the commands
receive the :class:`Network` they run with; nothing here is global.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

from federation.delivery import Deliverer
from federation.fetch import Fetcher, Signer
from federation.hosts import DomainList, host_allowed
from federation.http import AsyncBaseTransport, AsyncClient, HttpPolicy, client_factory, make_user_agent
from federation.keyring import KeyRing
from federation.keys import load_private_key
from federation.signing_pool import SigningPool
from federation.ssrf import AddressPolicy
from federation.transport import GuardedTransport
from federation.verifier import SignatureChecker
from fedicoop import __version__
from fedicoop.errors import InstallationError
from fedicoop.models.actors import Actor, ActorKey
from fedicoop.node import Node
from fedicoop.services.actors import get_application_actor

__all__ = ["HostFilter", "Network", "NetworkHolder", "http_policy", "open_network"]


@dataclass(frozen=True, slots=True)
class HostFilter:
    """The domain blocklist and, in regional mode, the allowlist, applied to every federation path."""

    blocked: DomainList
    allowed: DomainList | None

    def allows(self, host: str) -> bool:
        """Tell whether ``host`` may federate with this node."""
        return host_allowed(host, blocked=self.blocked, allowlist=self.allowed)

    def allows_url(self, url: str) -> bool:
        """Tell whether the host of ``url`` may federate with this node."""
        return self.allows(urlsplit(url).hostname or "")


@dataclass(slots=True)
class Network:
    """What a node needs to talk to its peers, built once per process by :func:`open_network`."""

    node: Node
    policy: HttpPolicy
    client: AsyncClient
    deliverer: Deliverer
    signing: SigningPool
    hosts: HostFilter
    app_signer: Signer
    fetcher: Fetcher
    keyring: KeyRing
    checker: SignatureChecker
    _signers: dict[str, Signer] = field(default_factory=dict)

    async def signer_for(self, actor: Actor) -> Signer:
        """The signer of a local actor (its main key), loaded once per process."""
        actor_iri = self.node.documents.actors.actor_id(actor)
        signer = self._signers.get(actor_iri)
        if signer is None:
            key = await ActorKey.get(actor=actor)
            signer = Signer(
                key_id=self.node.urls.key_id(actor_iri), private_key=load_private_key(key.private_pem)
            )
            self._signers[actor_iri] = signer
        return signer


class NetworkHolder:
    """Where the app's lifespan leaves the open :class:`Network` for the routes to use."""

    def __init__(self) -> None:
        self.network: Network | None = None

    def get(self) -> Network:
        """The open network; InstallationError when the node is not started (no lifespan ran)."""
        if self.network is None:
            raise InstallationError("the node's network is not open: start the app with its lifespan")
        return self.network


def http_policy(node: Node) -> HttpPolicy:
    """The outbound HTTP policy of a node: its User-Agent and whether insecure peers are allowed."""
    settings = node.settings
    return HttpPolicy(
        user_agent=make_user_agent(__version__, settings.base_url + "/"),
        insecure_peers=settings.insecure_peers,
    )


def host_filter(node: Node) -> HostFilter:
    """The block and allow lists of the node's settings."""
    settings = node.settings
    allowed = None if settings.allowed_domains is None else DomainList.of(settings.allowed_domains)
    return HostFilter(blocked=DomainList.of(settings.blocked_domains), allowed=allowed)


@asynccontextmanager
async def open_network(
    node: Node, transport: AsyncBaseTransport | None = None, *, policy: HttpPolicy | None = None
) -> AsyncIterator[Network]:
    """Build the node's network runtime (inside an open database) and close its client at the end.

    The client (signed GETs, discovery) and the deliverer (signed POSTs) share one transport, so one
    connection pool; the deliverer signs in the child process of a :class:`SigningPool`. ``transport``
    replaces the guarded transport in tests that need failures a real peer cannot make; ``policy``
    replaces the node's HTTP policy (tests that shorten a timeout).
    """
    policy = policy or http_policy(node)
    hosts = host_filter(node)
    application = await get_application_actor()
    key = await ActorKey.get(actor=application)
    app_signer = Signer(
        key_id=node.urls.key_id(node.urls.application_actor), private_key=load_private_key(key.private_pem)
    )
    if transport is None:
        transport = GuardedTransport(
            AddressPolicy(insecure_peers=policy.insecure_peers), limits=policy.limits()
        )
    async with client_factory(policy, transport) as client, SigningPool() as signing:
        deliverer = Deliverer(transport, policy, signing, node.clock, host_allowed=hosts.allows)
        fetcher = Fetcher(client, policy, signer=app_signer, now=node.clock, host_allowed=hosts.allows)
        keyring = KeyRing(fetcher.fetch, node.clock)
        checker = SignatureChecker(
            key_retriever=keyring,
            hosts=[node.settings.host],
            now=node.clock,
            max_skew=timedelta(seconds=node.settings.signature_max_skew),
        )
        network = Network(
            node=node,
            policy=policy,
            client=client,
            deliverer=deliverer,
            signing=signing,
            hosts=hosts,
            app_signer=app_signer,
            fetcher=fetcher,
            keyring=keyring,
            checker=checker,
        )
        network._signers[node.urls.application_actor] = app_signer
        yield network
