"""The address policy of the SSRF guard (wire-format §13.1).

Every outbound request goes to an ``https`` URL without userinfo whose every resolved address is
public. Loopback, private, link-local, multicast, reserved, unspecified and other non-global ranges are
refused, including IPv4 addresses hidden in IPv6: IPv4-mapped (``::ffff:0:0/96``), NAT64
(``64:ff9b::/96``, and the local-use ``64:ff9b:1::/48``) and 6to4 (``2002::/16``). The one switch,
``insecure_peers``, allows ``http://`` and private peers for tests and local demos only.

This module is pure. The check on the address actually connected to (no second DNS lookup between
check and connect) is done by the connector in :mod:`federation.transport`, which calls
:meth:`AddressPolicy.check_address` on each resolved address and on the connected peer.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from federation.errors import AddressBlockedError

__all__ = ["AddressPolicy", "IPAddress", "refusal_reason"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
"""An IPv4 or IPv6 address object."""

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
_IPV4_MASK = 0xFFFFFFFF


def _v4_reason(address: ipaddress.IPv4Address) -> str | None:
    checks = (
        (address.is_unspecified, "unspecified"),
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (address.is_reserved, "reserved"),
        (address.is_private, "private"),
    )
    for failed, reason in checks:
        if failed:
            return reason
    return None if address.is_global else "not globally routable"


def refusal_reason(address: IPAddress | str) -> str | None:
    """Return why an address is not public (``"loopback"``, ``"private"``…), or ``None`` if it is.

    IPv4 addresses embedded in IPv6 (mapped, NAT64, 6to4) are judged by the embedded address.

    >>> refusal_reason("10.0.0.1"), refusal_reason("::ffff:127.0.0.1"), refusal_reason("64:ff9b::a00:1")
    ('private', 'loopback in IPv4-mapped', 'private in NAT64')
    >>> refusal_reason("8.8.8.8") is None
    True
    """
    if isinstance(address, str):
        try:
            address = ipaddress.ip_address(address)
        except ValueError:
            return "not an IP address"
    if isinstance(address, ipaddress.IPv4Address):
        return _v4_reason(address)
    embedded: tuple[ipaddress.IPv4Address, str] | None = None
    if address.ipv4_mapped is not None:
        embedded = (address.ipv4_mapped, "IPv4-mapped")
    elif address in _NAT64:
        embedded = (ipaddress.IPv4Address(int(address) & _IPV4_MASK), "NAT64")
    elif address in _NAT64_LOCAL:
        return "local-use NAT64"
    elif address.sixtofour is not None:
        embedded = (address.sixtofour, "6to4")
    if embedded is not None:
        inner = _v4_reason(embedded[0])
        return None if inner is None else f"{inner} in {embedded[1]}"
    checks = (
        (address.is_unspecified, "unspecified"),
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (address.is_site_local, "site-local"),
        (address.is_reserved, "reserved"),
        (address.is_private, "private"),
    )
    for failed, reason in checks:
        if failed:
            return reason
    return None if address.is_global else "not globally routable"


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """What outbound requests may reach: public https peers, or anything with ``insecure_peers``.

    ``insecure_peers`` is the explicit test and demo switch of wire-format §13.1; production
    configuration refuses it. URL checks always refuse userinfo, empty hosts and non-http(s) schemes.
    """

    insecure_peers: bool = False

    def check_url(self, url: str) -> None:
        """Raise AddressBlockedError unless ``url`` may be requested (scheme, userinfo, host, IP literal).

        A host that is an IP literal is checked with :meth:`check_address` right away; names are
        checked when they are resolved, at connect time.
        """
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise AddressBlockedError(f"URL {url!r} does not parse: {exc}") from exc
        scheme = parts.scheme.lower()
        allowed = ("https", "http") if self.insecure_peers else ("https",)
        if scheme not in allowed:
            raise AddressBlockedError(f"URL scheme {scheme!r} is refused; expected {' or '.join(allowed)}")
        if "@" in parts.netloc:
            raise AddressBlockedError(f"URL {url!r} carries userinfo")
        host = parts.hostname
        if not host:
            raise AddressBlockedError(f"URL {url!r} has no host")
        if port == 0:
            raise AddressBlockedError(f"URL {url!r} has port 0")
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            return
        self.check_address(literal)

    def check_address(self, address: IPAddress | str) -> None:
        """Raise AddressBlockedError unless the address is public (or ``insecure_peers`` is set)."""
        if self.insecure_peers:
            return
        reason = refusal_reason(address)
        if reason is not None:
            raise AddressBlockedError(f"address {address} is refused: {reason}")
