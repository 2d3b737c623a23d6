"""Host names, origins and domain lists (wire-format §10.5 origin, §13.5 normalisation, §13.6 blocks).

Every host is normalised before it is compared, stored or matched: IDNA UTS-46 mapping to A-labels
(the ``idna`` package, IDNA 2008; the standard library codec is IDNA 2003 and is not used), lowercase,
trailing dot removed. IP literals are kept in their canonical text form, IPv6 in brackets. An origin is
scheme + normalised host + port with the scheme's default port dropped (FEP-fe34). Domain lists match
a host when it equals a listed domain or is a subdomain of it, on label boundaries only.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import idna

from federation.errors import HostError

__all__ = [
    "DEFAULT_PORTS",
    "DomainList",
    "host_allowed",
    "normalize_authority",
    "normalize_host",
    "origin",
    "same_origin",
    "split_authority",
]

DEFAULT_PORTS = {"http": 80, "https": 443}
"""The port each scheme implies; it is dropped from origins and authorities."""

_MAX_HOST_LENGTH = 253
_MAX_PORT = 65535


@functools.lru_cache(maxsize=4096)
def normalize_host(host: str) -> str:
    """Return the canonical form of a bare host name or IP literal, or raise HostError.

    Names are mapped with IDNA UTS-46 to lowercase A-labels and lose a trailing dot; IPv4 literals
    are returned as dotted quads and IPv6 literals (with or without brackets) compressed, in brackets.
    A pure function, memoised (bounded): the inbox normalises the same few hosts several times per
    request, and the IDNA mapping and IP parsing were a tenth of its time (bench/README.md).

    >>> normalize_host("Bücher.Example.")
    'xn--bcher-kva.example'
    >>> normalize_host("[2001:DB8::1]")
    '[2001:db8::1]'
    """
    text = host.strip()
    if not text:
        raise HostError("empty host")
    if text.startswith("[") and text.endswith("]"):
        return "[" + _ipv6_literal(text[1:-1], host) + "]"
    if ":" in text:
        return "[" + _ipv6_literal(text, host) + "]"
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        pass
    try:
        encoded = idna.encode(text, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise HostError(f"host {host!r} is not a valid IDNA name: {exc}") from exc
    encoded = encoded.rstrip(".").lower()
    if not encoded or len(encoded) > _MAX_HOST_LENGTH:
        raise HostError(f"host {host!r} is empty or longer than {_MAX_HOST_LENGTH} characters")
    return encoded


def _ipv6_literal(text: str, original: str) -> str:
    try:
        address = ipaddress.IPv6Address(text)
    except ValueError as exc:
        raise HostError(f"host {original!r} is not a valid IPv6 literal") from exc
    return address.compressed


def split_authority(authority: str) -> tuple[str, int | None]:
    """Split ``host[:port]`` (IPv6 in brackets) into the normalised host and the port, if any.

    >>> split_authority("Example.COM:8443")
    ('example.com', 8443)
    """
    text = authority.strip()
    port_text: str | None = None
    if text.startswith("["):
        end = text.find("]")
        if end == -1:
            raise HostError(f"authority {authority!r} has an unterminated IPv6 literal")
        host, rest = text[: end + 1], text[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise HostError(f"authority {authority!r} has garbage after the IPv6 literal")
            port_text = rest[1:]
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        host = text
    port: int | None = None
    if port_text is not None:
        if not port_text.isascii() or not port_text.isdigit() or int(port_text) > _MAX_PORT:
            raise HostError(f"authority {authority!r} has an invalid port {port_text!r}")
        port = int(port_text)
    return normalize_host(host), port


@functools.lru_cache(maxsize=4096)
def normalize_authority(authority: str, scheme: str = "https") -> str:
    """Normalise ``host[:port]`` and drop the port when it is the default one of ``scheme`` (memoised).

    >>> normalize_authority("Example.com:443")
    'example.com'
    >>> normalize_authority("example.com:80", "http")
    'example.com'
    """
    host, port = split_authority(authority)
    if port is None or port == DEFAULT_PORTS.get(scheme.lower()):
        return host
    return f"{host}:{port}"


def origin(url: str) -> str:
    """Return the origin of an absolute http(s) URL: scheme, normalised host and non-default port.

    >>> origin("https://Velo-Fives.example:443/actors/x?y#z")
    'https://velo-fives.example'
    >>> origin("http://localhost:8000/")
    'http://localhost:8000'
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:
        raise HostError(f"URL {url!r} does not parse: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise HostError(f"URL {url!r} is not http(s)")
    netloc = parts.netloc.rpartition("@")[2]
    if not netloc:
        raise HostError(f"URL {url!r} has no host")
    return f"{scheme}://{normalize_authority(netloc, scheme)}"


def same_origin(a: str, b: str) -> bool:
    """Tell whether two http(s) URLs share scheme, normalised host and port.

    A value that is not an http(s) URL with a valid host is on no origin: the answer is then False.

    >>> same_origin("https://a.example/x", "https://A.EXAMPLE:443/y")
    True
    >>> same_origin("https://a.example/x", "https://b.a.example/x")
    False
    >>> same_origin("mailto:x@a.example", "https://a.example/")
    False
    """
    try:
        return origin(a) == origin(b)
    except HostError:
        return False


def _is_ipv4(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class DomainList:
    """A set of normalised domains matched by suffix on label boundaries (blocklist or allowlist).

    ``example.com`` in the list matches ``example.com`` and ``social.example.com`` but neither
    ``badexample.com`` nor ``example.com.evil``; IP literals match only themselves. Build it with
    :meth:`of`, which normalises each entry.
    """

    domains: frozenset[str]

    @classmethod
    def of(cls, domains: Iterable[str]) -> DomainList:
        """Build a list from raw entries, normalising each one (a garbage entry raises HostError)."""
        return cls(frozenset(normalize_host(domain) for domain in domains))

    def matches(self, host: str) -> bool:
        """Tell whether ``host`` (normalised here) is a listed domain or a subdomain of one."""
        candidate = normalize_host(host)
        if not self.domains:
            return False
        if candidate in self.domains:
            return True
        if candidate.startswith("[") or _is_ipv4(candidate):
            return False
        labels = candidate.split(".")
        for index in range(1, len(labels)):
            suffix = ".".join(labels[index:])
            if suffix in self.domains and not _is_ipv4(suffix):
                return True
        return False

    def __contains__(self, host: object) -> bool:
        return isinstance(host, str) and self.matches(host)


def host_allowed(host: str, *, blocked: DomainList, allowlist: DomainList | None = None) -> bool:
    """Tell whether a host may federate: not blocked and, in regional mode, allowlisted.

    ``allowlist`` is ``None`` outside regional mode. A block always wins over the allowlist.
    """
    if blocked.matches(host):
        return False
    return allowlist is None or allowlist.matches(host)
