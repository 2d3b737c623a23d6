"""The SSRF address policy: URL checks and address classification, embedded IPv4 included."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from federation.errors import AddressBlockedError
from federation.ssrf import AddressPolicy, refusal_reason

STRICT = AddressPolicy()
LOOSE = AddressPolicy(insecure_peers=True)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("ff0e::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("0.0.0.0", "unspecified"),  # noqa: S104
        ("::", "unspecified"),
        ("100.64.0.1", "not globally routable"),
        ("192.0.2.1", "private"),
        ("2001:db8::1", "private"),
        ("fec0::1", "site-local"),
        ("::ffff:127.0.0.1", "loopback in IPv4-mapped"),
        ("::ffff:10.0.0.1", "private in IPv4-mapped"),
        ("::ffff:169.254.169.254", "link-local in IPv4-mapped"),
        ("64:ff9b::10.0.0.1", "private in NAT64"),
        ("64:ff9b::7f00:1", "loopback in NAT64"),
        ("64:ff9b:1::a00:1", "local-use NAT64"),
        ("2002:7f00:1::", "loopback in 6to4"),
        ("2002:c0a8:101::1", "private in 6to4"),
        ("not-an-ip", "not an IP address"),
    ],
)
def test_refusal_reason__refused(address: str, reason: str) -> None:
    assert refusal_reason(address) == reason
    with pytest.raises(AddressBlockedError, match=reason):
        STRICT.check_address(address)
    LOOSE.check_address(address)


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "93.184.216.34",
        "2606:4700:4700::1111",
        "2a01:4f8::1",
        "::ffff:8.8.8.8",
        "64:ff9b::8.8.8.8",
        "2002:808:808::1",
    ],
)
def test_refusal_reason__public(address: str) -> None:
    assert refusal_reason(address) is None
    STRICT.check_address(ipaddress.ip_address(address))


@given(st.integers(min_value=0, max_value=2**24 - 1))
def test_refusal_reason__all_of_10_slash_8(offset: int) -> None:
    address = ipaddress.IPv4Address(int(ipaddress.IPv4Address("10.0.0.0")) + offset)
    assert refusal_reason(address) == "private"
    assert refusal_reason(ipaddress.IPv6Address(f"::ffff:{address}")) == "private in IPv4-mapped"
    assert refusal_reason(ipaddress.IPv6Address(f"64:ff9b::{address}")) == "private in NAT64"


@given(st.integers(min_value=0, max_value=2**128 - 1))
def test_refusal_reason__ipv6_total(value: int) -> None:
    address = ipaddress.IPv6Address(value)
    reason = refusal_reason(address)
    if reason is None:
        assert (
            address.is_global
            or address.ipv4_mapped is not None
            or address in ipaddress.ip_network("64:ff9b::/96")
            or address.sixtofour is not None
        )


@pytest.mark.parametrize(
    "url",
    [
        "https://mastodon.example/users/a",
        "https://mastodon.example:8443/x?y",
        "https://8.8.8.8/",
        "https://[2606:4700::1]/",
        "HTTPS://Mastodon.Example/",
    ],
)
def test_check_url__accepted(url: str) -> None:
    STRICT.check_url(url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://mastodon.example/", "scheme 'http'"),
        ("ftp://mastodon.example/", "scheme 'ftp'"),
        ("file:///etc/passwd", "scheme 'file'"),
        ("gopher://x/", "scheme"),
        ("//mastodon.example/", "scheme ''"),
        ("https://user@mastodon.example/", "userinfo"),
        ("https://user:pw@mastodon.example/", "userinfo"),
        ("https:///path", "no host"),
        ("https://mastodon.example:0/", "port 0"),
        ("https://mastodon.example:99999/", "does not parse"),
        ("https://127.0.0.1/", "loopback"),
        ("https://[::1]:8443/", "loopback"),
        ("https://[::ffff:10.0.0.1]/", "IPv4-mapped"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
    ],
)
def test_check_url__refused(url: str, message: str) -> None:
    with pytest.raises(AddressBlockedError, match=message):
        STRICT.check_url(url)


def test_check_url__insecure_peers_allows_http_and_private_only() -> None:
    LOOSE.check_url("http://127.0.0.1:8000/actor")
    LOOSE.check_url("http://localhost:8000/")
    with pytest.raises(AddressBlockedError, match="scheme"):
        LOOSE.check_url("ftp://localhost/")
    with pytest.raises(AddressBlockedError, match="userinfo"):
        LOOSE.check_url("http://a@localhost/")
