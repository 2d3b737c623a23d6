"""The production transport (our HTTP/1.1 pool behind the SSRF guard) on real loopback sockets.

The client of :func:`client_factory` runs the URL check in a request hook too; most tests here give the
client the LOOSE policy (no hook refusal) and the transport a strict one, so that what is refused is
refused by the transport itself. Where a host name must look public, the resolver is injected; where the
socket must land somewhere else than where the pool was told to connect (DNS rebinding, a transparent
redirect), the transport's dialler is routed to a loopback listener.
"""

from __future__ import annotations

import asyncio
import datetime
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from federation.errors import AddressBlockedError, FetchConnectionError, FetchTimeoutError
from federation.fetch import Fetcher
from federation.http import (
    ConnectError,
    ConnectTimeout,
    HttpPolicy,
    PoolTimeout,
    ReadTimeout,
    RemoteProtocolError,
    TimeoutException,
    UnsupportedProtocol,
    bounded_request,
    client_factory,
)
from federation.ssrf import AddressPolicy, IPAddress
from federation.transport import GuardedTransport, Resolver, system_dial
from tests.federation.loopback import LOOSE, free_port

STRICT = HttpPolicy(user_agent="fedicoop/test")
PUBLIC = "93.184.216.34"
PUBLIC_V6 = "2606:2800:220:1:248:1893:25c8:1946"
OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"

Answer = Callable[[bytes], bytes | None]
"""What a listener answers to a request head; ``None`` keeps silent until the client hangs up."""


def _ok(head: bytes) -> bytes | None:
    return OK


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


needs_ipv6 = pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback")


@dataclass
class Listener:
    """A TCP server on a loopback address recording, per connection, every byte it received."""

    host: str = "127.0.0.1"
    answer: Answer = _ok
    ssl_context: ssl.SSLContext | None = None
    received: list[bytearray] = field(default_factory=list)
    port: int = 0
    server: asyncio.Server | None = None
    writers: set[asyncio.StreamWriter] = field(default_factory=set)
    idle: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def connections(self) -> int:
        return len(self.received)

    @property
    def heads(self) -> list[bytes]:
        return [bytes(data) for data in self.received]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        data = bytearray()
        self.received.append(data)
        self.writers.add(writer)
        self.idle.clear()
        start = 0  # where the current request begins (keep-alive connections carry several)
        try:
            while chunk := await reader.read(65536):
                data += chunk
                if data.endswith(b"\r\n\r\n"):
                    reply = self.answer(bytes(data[start:]))
                    start = len(data)
                    if reply is not None:
                        writer.write(reply)
                        await writer.drain()
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()
            self.writers.discard(writer)
            if not self.writers:
                self.idle.set()

    async def settled(self) -> None:
        """Wait until the clients have hung up every connection."""
        async with asyncio.timeout(5):
            await self.idle.wait()

    async def __aenter__(self) -> Listener:
        self.server = await asyncio.start_server(self._handle, self.host, 0, ssl=self.ssl_context)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.writers):
            writer.transport.abort()
        await self.server.wait_closed()
        await asyncio.sleep(0)


@dataclass
class Router:
    """The transport's dialler: records where the pool asks to connect and, when ``target`` is set, connects
    there instead."""

    asked: list[tuple[str, int]] = field(default_factory=list)
    target: tuple[str, int] | None = None

    async def dial(self, address: str, port: int) -> socket.socket:
        self.asked.append((address, port))
        if self.target is not None:
            address, port = self.target
        return await system_dial(address, port)


@pytest.fixture
def router() -> Router:
    return Router()


@dataclass
class StaticResolver:
    """An injected resolver answering fixed addresses per name, recording every lookup."""

    answers: dict[str, list[str]]
    lookups: list[tuple[str, int]] = field(default_factory=list)

    async def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append((host, port))
        return list(self.answers.get(host, []))


def _strict(resolve: Resolver | None = None, **options: Any) -> GuardedTransport:
    return GuardedTransport(AddressPolicy(), resolve=resolve, **options)


def _loose(resolve: Resolver | None = None, **options: Any) -> GuardedTransport:
    return GuardedTransport(AddressPolicy(insecure_peers=True), resolve=resolve, **options)


# --- every refused address class, when a name resolves to it ------------------------------------

REFUSED = [
    ("127.0.0.1", "loopback"),
    ("127.8.9.10", "loopback"),
    ("::1", "loopback"),
    ("10.0.0.1", "private"),
    ("172.16.5.4", "private"),
    ("192.168.1.1", "private"),
    ("fd00::1", "private"),
    ("2001:db8::1", "private"),
    ("100.64.0.1", "not globally routable"),
    ("169.254.169.254", "link-local"),
    ("fe80::1", "link-local"),
    ("224.0.0.251", "multicast"),
    ("ff02::1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("0.0.0.0", "unspecified"),  # noqa: S104 - an address under test, not a bind
    ("::", "unspecified"),
    ("::ffff:127.0.0.1", "loopback in IPv4-mapped"),
    ("::ffff:10.0.0.1", "private in IPv4-mapped"),
    ("64:ff9b::a00:1", "private in NAT64"),
    ("64:ff9b::7f00:1", "loopback in NAT64"),
    ("64:ff9b::a9fe:a9fe", "link-local in NAT64"),
    ("64:ff9b:1::1", "local-use NAT64"),
    ("2002:7f00:1::1", "loopback in 6to4"),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("address", "reason"), REFUSED)
async def test_resolver__refuses_every_class_of_address(router: Router, address: str, reason: str) -> None:
    resolve = StaticResolver({"peer.example": [address]})
    async with Listener() as listener:
        router.target = ("127.0.0.1", listener.port)
        async with client_factory(LOOSE, transport=_strict(resolve, dial=router.dial)) as client:
            with pytest.raises(AddressBlockedError, match=f"{reason}$"):
                await client.get(f"https://peer.example:{listener.port}/")
    assert resolve.lookups == [("peer.example", listener.port)]
    assert router.asked == []
    assert listener.connections == 0


@pytest.mark.anyio
@pytest.mark.parametrize(
    "addresses", [[PUBLIC, "10.0.0.1"], ["fe80::1", PUBLIC], [PUBLIC_V6, "::ffff:127.0.0.1"]]
)
async def test_resolver__one_refused_address_refuses_the_name(router: Router, addresses: list[str]) -> None:
    async with Listener() as listener:
        router.target = ("127.0.0.1", listener.port)
        transport = _strict(StaticResolver({"rebind.example": addresses}), dial=router.dial)
        async with client_factory(STRICT, transport=transport) as client:
            with pytest.raises(AddressBlockedError):
                await client.get(f"https://rebind.example:{listener.port}/")
    assert router.asked == []
    assert listener.connections == 0


@pytest.mark.anyio
async def test_resolver__addresses_are_dialled_in_order_until_one_answers(router: Router) -> None:
    async def unreachable_first(address: str, port: int) -> socket.socket:
        router.asked.append((address, port))
        if address == PUBLIC_V6:
            raise ConnectionRefusedError(111, "Connection refused")
        return await system_dial("127.0.0.1", port)

    async with Listener() as listener:
        transport = GuardedTransport(
            _LoopbackIsPublic(),
            resolve=StaticResolver({"m.example": [PUBLIC_V6, PUBLIC]}),
            dial=unreachable_first,
        )
        async with client_factory(LOOSE, transport=transport) as client:
            response = await client.get(f"http://m.example:{listener.port}/")
    assert response.status_code == 200
    assert router.asked == [(PUBLIC_V6, listener.port), (PUBLIC, listener.port)]


# --- the connected peer, whatever the resolver said ----------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("listen", "connect", "reason"),
    [
        ("127.0.0.1", "127.0.0.1", "loopback"),
        ("127.0.0.1", "::ffff:127.0.0.1", "loopback in IPv4-mapped"),
        pytest.param("::1", "::1", "loopback", marks=needs_ipv6),
    ],
)
async def test_connector__refuses_a_private_peer_behind_a_public_answer(
    router: Router, listen: str, connect: str, reason: str
) -> None:
    """DNS rebinding, or anything between resolver and socket: the resolver said public, the peer is not.

    The peer is refused before TLS starts: the listener sees a connection and not one byte.
    """
    resolve = StaticResolver({"peer.example": [PUBLIC]})
    async with Listener(listen) as listener:
        router.target = (connect, listener.port)
        async with client_factory(STRICT, transport=_strict(resolve, dial=router.dial)) as client:
            with pytest.raises(AddressBlockedError, match=f"is refused: {reason}$"):
                await client.get(f"https://peer.example:{listener.port}/actor")
        await listener.settled()
    assert router.asked == [(PUBLIC, listener.port)]  # the checked address, not the name again
    assert resolve.lookups == [("peer.example", listener.port)]
    assert listener.heads == [b""]


@pytest.mark.anyio
async def test_connector__refuses_a_private_peer_of_a_plain_http_request(router: Router) -> None:
    """Under a policy that allows http but not loopback, the request head is not sent either."""
    policy = _HttpButStrict()
    async with Listener() as listener:
        router.target = ("127.0.0.1", listener.port)
        transport = GuardedTransport(
            policy, resolve=StaticResolver({"peer.example": [PUBLIC]}), dial=router.dial
        )
        async with client_factory(LOOSE, transport=transport) as client:
            with pytest.raises(AddressBlockedError, match="loopback"):
                await client.post(f"http://peer.example:{listener.port}/inbox", content=b"{}")
        await listener.settled()
    assert listener.heads == [b""]


# --- IP literal URLs ---------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("host", "error", "match"),
    [
        ("127.0.0.1", AddressBlockedError, "loopback"),
        ("[::1]", AddressBlockedError, "loopback"),
        ("[::ffff:127.0.0.1]", AddressBlockedError, "loopback in IPv4-mapped"),
        ("[64:ff9b::7f00:1]", AddressBlockedError, "loopback in NAT64"),
        ("10.0.0.1", AddressBlockedError, "private"),
        ("169.254.169.254", AddressBlockedError, "link-local"),
        ("[fe80::1%25lo]", AddressBlockedError, "link-local"),
        ("0.0.0.0", AddressBlockedError, "unspecified"),  # noqa: S104 - an address under test
        ("127.1", UnsupportedProtocol, "not a canonical IPv4 address"),
        ("2130706433", UnsupportedProtocol, "not a canonical IPv4 address"),
    ],
)
async def test_transport__checks_ip_literal_urls(
    router: Router, host: str, error: type[Exception], match: str
) -> None:
    resolve = StaticResolver({})
    async with Listener() as listener:
        async with client_factory(LOOSE, transport=_strict(resolve, dial=router.dial)) as client:
            with pytest.raises(error, match=match):
                await client.get(f"https://{host}:{listener.port}/")
    assert resolve.lookups == []
    assert router.asked == []
    assert listener.connections == 0


@pytest.mark.anyio
async def test_transport__numeric_forms_resolved_by_the_system_are_checked() -> None:
    """``0x7f.0.0.1`` is no IP literal to the URL check; getaddrinfo turns it into 127.0.0.1."""
    async with Listener() as listener, client_factory(LOOSE, transport=_strict()) as client:
        with pytest.raises(AddressBlockedError, match=r"127\.0\.0\.1 is refused: loopback"):
            await client.get(f"https://0x7f.0.0.1:{listener.port}/")
        with pytest.raises(AddressBlockedError, match="loopback"):
            await client.get(f"https://localhost:{listener.port}/")
    assert listener.connections == 0


@pytest.mark.anyio
@pytest.mark.parametrize(
    "url", ["http://mastodon.example/", "https://a:b@mastodon.example/", "file:///etc/passwd", "https://h:0/"]
)
async def test_transport__checks_the_url_itself(router: Router, url: str) -> None:
    resolve = StaticResolver({"mastodon.example": [PUBLIC], "h": [PUBLIC]})
    async with client_factory(LOOSE, transport=_strict(resolve, dial=router.dial)) as client:
        with pytest.raises(AddressBlockedError):
            await client.get(url)
    assert resolve.lookups == []
    assert router.asked == []


# --- redirects ---------------------------------------------------------------------------------


class _LoopbackIsPublic(AddressPolicy):
    """The strict policy, except that 127.0.0.1 counts as public and ``http`` as ``https``.

    A plain loopback server then stands in for a public peer; every other address is judged as in
    production, so 127.0.0.2 (also loopback) is refused.
    """

    def check_url(self, url: str) -> None:
        AddressPolicy.check_url(self, "https" + url[4:] if url.startswith("http:") else url)

    def check_address(self, address: IPAddress | str) -> None:
        if str(address) != "127.0.0.1":
            AddressPolicy.check_address(self, address)


class _HttpButStrict(AddressPolicy):
    """The strict address policy, with ``http`` URLs allowed."""

    def check_url(self, url: str) -> None:
        AddressPolicy.check_url(self, "https" + url[4:] if url.startswith("http:") else url)


@pytest.mark.anyio
async def test_transport__checks_every_redirect_hop() -> None:
    async with Listener("127.0.0.2") as internal:
        targets = {
            b"/to-literal": f"http://127.0.0.2:{internal.port}/secret",
            b"/to-name": f"http://internal.example:{internal.port}/secret",
            b"/to-mapped": f"http://[::ffff:127.0.0.2]:{internal.port}/secret",
        }

        def answer(head: bytes) -> bytes:
            path = head.split(b" ", 2)[1]
            if path == b"/ok":
                return OK
            location = targets.get(path, f"http://public.example:{public.port}/ok")
            return f"HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n".encode()

        async with Listener(answer=answer) as public:
            resolve = StaticResolver({"public.example": ["127.0.0.1"], "internal.example": ["127.0.0.2"]})
            transport = GuardedTransport(_LoopbackIsPublic(), resolve=resolve)
            async with client_factory(LOOSE, transport=transport) as client:
                for path, reason in [("/to-literal", "loopback"), ("/to-name", "loopback")]:
                    with pytest.raises(AddressBlockedError, match=reason):
                        await client.get(f"http://public.example:{public.port}{path}", follow_redirects=True)
                with pytest.raises(AddressBlockedError, match="IPv4-mapped"):
                    await client.get(f"http://public.example:{public.port}/to-mapped", follow_redirects=True)
                followed = await client.get(f"http://public.example:{public.port}/hop", follow_redirects=True)
    assert followed.status_code == 200
    assert [str(hop.url) for hop in followed.history] == [f"http://public.example:{public.port}/hop"]
    assert ("internal.example", internal.port) in resolve.lookups
    assert internal.connections == 0


# --- insecure peers, names and keep-alive ------------------------------------------------------


@pytest.mark.anyio
async def test_insecure_peers__reach_loopback_names_and_literals() -> None:
    async with Listener() as listener, client_factory(LOOSE) as client:
        by_name = await bounded_request(
            client, "GET", f"http://localhost:{listener.port}/a?x=1", policy=LOOSE
        )
        by_literal = await bounded_request(client, "GET", f"http://127.0.0.1:{listener.port}/b", policy=LOOSE)
    assert (by_name.status_code, by_name.content) == (200, b"hello")
    assert (by_literal.status_code, by_literal.content) == (200, b"hello")
    heads = b"".join(listener.heads)
    assert b"GET /a?x=1 HTTP/1.1\r\n" in heads
    assert b"GET /b HTTP/1.1\r\n" in heads
    assert b"User-Agent: fedicoop/test\r\n" in heads


@pytest.mark.anyio
@needs_ipv6
async def test_insecure_peers__reach_ipv6_loopback() -> None:
    async with Listener("::1") as listener, client_factory(LOOSE) as client:
        response = await client.get(f"http://[::1]:{listener.port}/")
    assert response.status_code == 200


@pytest.mark.anyio
async def test_transport__resolves_once_connects_to_the_ip_and_keeps_the_host_name(router: Router) -> None:
    resolve = StaticResolver({"peer.example": ["127.0.0.1"]})
    async with Listener() as listener:
        async with client_factory(LOOSE, transport=_loose(resolve, dial=router.dial)) as client:
            first = await client.get(f"http://peer.example:{listener.port}/1")
            second = await client.get(f"http://peer.example:{listener.port}/2")
    assert (first.status_code, second.status_code) == (200, 200)
    assert resolve.lookups == [("peer.example", listener.port)]
    assert router.asked == [("127.0.0.1", listener.port)]
    assert listener.connections == 1
    assert f"Host: peer.example:{listener.port}\r\n".encode() in listener.heads[0]


# --- TLS after the peer check ------------------------------------------------------------------


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate for ``peer.example`` and its key, as PEM files."""

    cert: Path
    key: Path

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "peer.example")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("peer.example")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    paths = Certificate(folder / "cert.pem", folder / "key.pem")
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


@pytest.fixture
def server_context(certificate: Certificate) -> Iterator[tuple[ssl.SSLContext, list[str | None]]]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate.cert, certificate.key)
    names: list[str | None] = []
    context.sni_callback = lambda sock, name, ctx: names.append(name)  # type: ignore[assignment,misc]
    yield context, names


@pytest.mark.anyio
async def test_tls__handshake_on_the_checked_socket(
    certificate: Certificate, server_context: tuple[ssl.SSLContext, list[str | None]]
) -> None:
    context, names = server_context
    resolve = StaticResolver({"peer.example": ["127.0.0.1"], "other.example": ["127.0.0.1"]})
    async with Listener(ssl_context=context) as listener:
        transport = _loose(resolve, verify=certificate.client_context())
        async with client_factory(LOOSE, transport=transport) as client:
            first = await client.get(f"https://peer.example:{listener.port}/1")
            second = await client.get(f"https://peer.example:{listener.port}/2")
            with pytest.raises(ConnectError, match=r"not valid for 'other\.example'"):
                await client.get(f"https://other.example:{listener.port}/")
        async with client_factory(LOOSE, transport=_loose(resolve)) as client:
            with pytest.raises(ConnectError, match="self-signed certificate"):
                await client.get(f"https://peer.example:{listener.port}/")
    assert (first.status_code, first.text, second.text) == (200, "hello", "hello")
    assert names[0] == "peer.example"
    assert listener.heads[0].startswith(b"GET /1 HTTP/1.1\r\n")
    assert b"GET /2 HTTP/1.1\r\n" in listener.heads[0]  # one kept-alive TLS connection
    assert listener.connections == 1  # the refused handshakes never carried a request


# --- proxies -----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_transport__ignores_proxy_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    async with Listener() as proxy, Listener() as target:
        for variable in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
            monkeypatch.setenv(variable, f"http://127.0.0.1:{proxy.port}")
        for variable in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(variable, raising=False)
        url = f"http://peer.example:{target.port}/x"
        async with httpx.AsyncClient(trust_env=True) as control:
            answered = await control.get(url)
            assert (
                answered.status_code == 200
            )  # the control: a client trusting the environment uses the proxy
        assert proxy.heads[0].startswith(f"GET {url} HTTP/1.1\r\n".encode())
        transport = _loose(StaticResolver({"peer.example": ["127.0.0.1"]}))
        async with client_factory(LOOSE, transport=transport) as client:
            response = await client.get(url)
    assert response.status_code == 200
    assert proxy.connections == 1
    assert target.heads[0].startswith(b"GET /x HTTP/1.1\r\n")


# --- timeouts and connection errors ------------------------------------------------------------


@pytest.fixture
def full_backlog() -> Iterator[int]:
    """A port whose accept queue is full: the kernel drops further SYNs, so connecting hangs."""
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen(0)
    port: int = listening.getsockname()[1]
    fillers = [socket.socket() for _ in range(3)]
    for filler in fillers:
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
    yield port
    for sock in [*fillers, listening]:
        sock.close()


@pytest.mark.anyio
async def test_timeouts__connect(full_backlog: int) -> None:
    policy = HttpPolicy(user_agent="t", insecure_peers=True, connect_timeout=0.2)
    started = asyncio.get_running_loop().time()
    async with client_factory(policy) as client:
        with pytest.raises(ConnectTimeout):
            await client.get(f"http://127.0.0.1:{full_backlog}/")
    assert asyncio.get_running_loop().time() - started < 3


@pytest.mark.anyio
async def test_timeouts__slow_resolution_is_a_connect_timeout() -> None:
    async def slow(host: str, port: int) -> list[str]:
        await asyncio.sleep(5)
        return ["127.0.0.1"]

    policy = HttpPolicy(user_agent="t", insecure_peers=True, connect_timeout=0.1)
    async with client_factory(policy, transport=_loose(slow)) as client:
        with pytest.raises(ConnectTimeout):
            await client.get("http://slow.example:8080/")


@pytest.mark.anyio
async def test_timeouts__read_before_headers_and_inside_the_body() -> None:
    policy = HttpPolicy(user_agent="t", insecure_peers=True, read_timeout=0.2)

    def partial(head: bytes) -> bytes:
        return b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhello"

    async with Listener(answer=lambda head: None) as silent, Listener(answer=partial) as dripping:
        async with client_factory(policy) as client:
            with pytest.raises(ReadTimeout):
                await client.get(f"http://127.0.0.1:{silent.port}/")
            async with client.stream("GET", f"http://127.0.0.1:{dripping.port}/") as response:
                assert response.status_code == 200
                with pytest.raises(ReadTimeout):
                    await response.aread()


@pytest.mark.anyio
async def test_timeouts__waiting_for_a_pooled_connection_is_a_pool_timeout() -> None:
    """``max_connections`` in use: the next request waits ``pool_timeout`` for one, then gives up."""

    def partial(head: bytes) -> bytes:
        return b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhello"

    policy = HttpPolicy(user_agent="t", insecure_peers=True, max_connections=1, pool_timeout=0.2)
    async with Listener(answer=partial) as listener, client_factory(policy) as client:
        held = await client.send(
            client.build_request("GET", f"http://127.0.0.1:{listener.port}/"), stream=True
        )
        with pytest.raises(PoolTimeout, match=r"no connection free within 0\.2 s \(1 in use\)"):
            await client.get(f"http://127.0.0.1:{listener.port}/")
        await held.aclose()
    assert listener.connections == 1


@pytest.mark.anyio
async def test_timeouts__total_budget_bounds_a_peer_that_never_reads_nor_answers() -> None:
    """A peer that never reads: with a long write timeout, the total budget ends the request."""
    policy = HttpPolicy(user_agent="t", insecure_peers=True, total_timeout=0.5, read_timeout=30)

    hang_up = asyncio.Event()
    peers: list[asyncio.StreamWriter] = []

    async def never_read(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peers.append(writer)
        await hang_up.wait()
        writer.transport.abort()

    server = await asyncio.start_server(never_read, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with client_factory(policy) as client:
            with pytest.raises(TimeoutException, match="total budget"):
                await bounded_request(
                    client, "POST", f"http://127.0.0.1:{port}/inbox", policy=policy, content=b"x" * 2**20
                )
    finally:
        hang_up.set()
        server.close()
        await server.wait_closed()
        await asyncio.sleep(0.01)
    assert len(peers) == 1


@pytest.mark.anyio
async def test_errors__connection_refused_dns_failures_and_disconnects() -> None:
    async def broken(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    def hang_up(head: bytes) -> bytes | None:
        raise ConnectionResetError

    async with client_factory(LOOSE) as client:
        with pytest.raises(ConnectError):
            await client.get(f"http://127.0.0.1:{free_port()}/")
    async with client_factory(LOOSE, transport=_loose(broken)) as client:
        with pytest.raises(ConnectError, match="Name or service not known"):
            await client.get("http://nowhere.example:8080/")
    async with client_factory(LOOSE, transport=_loose(StaticResolver({}))) as client:
        with pytest.raises(ConnectError, match="resolves to no address"):
            await client.get("http://empty.example:8080/")
    async with Listener(answer=hang_up) as listener, client_factory(LOOSE) as client:
        with pytest.raises(RemoteProtocolError):
            await client.get(f"http://127.0.0.1:{listener.port}/")


@pytest.mark.anyio
async def test_fetch__maps_transport_failures(full_backlog: int) -> None:
    def now() -> datetime.datetime:
        return datetime.datetime.now(datetime.UTC)

    policy = HttpPolicy(user_agent="t", insecure_peers=True, connect_timeout=0.2, read_timeout=0.2)
    async with Listener(answer=lambda head: None) as silent, client_factory(policy) as client:
        fetcher = Fetcher(client, policy, signer=None, now=now)
        refused = f"http://127.0.0.1:{free_port()}/actor"
        with pytest.raises(FetchConnectionError, match=f"GET {refused} failed: ConnectError"):
            await fetcher.fetch(refused)
        with pytest.raises(FetchTimeoutError, match="timed out"):
            await fetcher.fetch(f"http://127.0.0.1:{full_backlog}/actor")
        with pytest.raises(FetchTimeoutError, match="timed out"):
            await fetcher.fetch(f"http://127.0.0.1:{silent.port}/actor")
    async with client_factory(STRICT) as client:
        with pytest.raises(AddressBlockedError):
            await Fetcher(client, STRICT, signer=None, now=now).fetch("https://localhost/actor")
