"""Hosts: IDNA normalisation, authorities, origins, block and allow lists."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from federation.errors import HostError
from federation.hosts import (
    DomainList,
    host_allowed,
    normalize_authority,
    normalize_host,
    origin,
    same_origin,
    split_authority,
)

LABEL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=20)
DOMAIN = (
    st.lists(LABEL, min_size=1, max_size=4).map(".".join).filter(lambda d: not d.replace(".", "").isdigit())
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Velo-Fives.EXAMPLE", "velo-fives.example"),
        ("velo-fives.example.", "velo-fives.example"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("BÜCHER.example", "xn--bcher-kva.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("faß.de", "xn--fa-hia.de"),
        ("ＥＸＡＭＰＬＥ．ｃｏｍ", "example.com"),
        ("例え.テスト", "xn--r8jz45g.xn--zckzah"),
        ("localhost", "localhost"),
        ("127.0.0.1", "127.0.0.1"),
        ("[::1]", "[::1]"),
        ("2001:DB8:0:0::1", "[2001:db8::1]"),
        ("  a.example  ", "a.example"),
    ],
)
def test_normalize_host__forms(raw: str, expected: str) -> None:
    assert normalize_host(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "a..b",
        ".a",
        "-bad.example",
        "ex_ample.com",
        "exa mple.com",
        "evil.com/x",
        "[::g]",
        "[1.2.3.4]",
        "a" * 64 + ".com",
        ("a" * 60 + ".") * 5 + "com",
        "xn--zz.com",
    ],
)
def test_normalize_host__garbage(raw: str) -> None:
    with pytest.raises(HostError):
        normalize_host(raw)


@given(DOMAIN)
def test_normalize_host__case_and_trailing_dot(domain: str) -> None:
    assert normalize_host(domain.upper() + ".") == domain
    assert normalize_host(normalize_host(domain)) == normalize_host(domain)


@given(st.text(max_size=40))
def test_normalize_host__never_crashes_and_is_idempotent(text: str) -> None:
    try:
        result = normalize_host(text)
    except HostError:
        return
    assert result.isascii()
    assert result == result.lower()
    assert not result.endswith(".")
    assert normalize_host(result) == result


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Example.com", ("example.com", None)),
        ("example.com:8443", ("example.com", 8443)),
        ("[::1]:8000", ("[::1]", 8000)),
        ("[2001:db8::1]", ("[2001:db8::1]", None)),
    ],
)
def test_split_authority__forms(raw: str, expected: tuple[str, int | None]) -> None:
    assert split_authority(raw) == expected


@pytest.mark.parametrize(
    "raw", ["example.com:", "example.com:x", "example.com:70000", "[::1", "[::1]x", "a:1:2"]
)
def test_split_authority__garbage(raw: str) -> None:
    with pytest.raises(HostError):
        split_authority(raw)


def test_normalize_authority__default_ports() -> None:
    assert normalize_authority("A.example:443") == "a.example"
    assert normalize_authority("a.example:80") == "a.example:80"
    assert normalize_authority("a.example:80", "HTTP") == "a.example"
    assert normalize_authority("a.example:8443") == "a.example:8443"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://velo-fives.example/actors/x", "https://velo-fives.example"),
        ("HTTPS://Velo-Fives.Example:443/", "https://velo-fives.example"),
        ("https://velo-fives.example:8443/x", "https://velo-fives.example:8443"),
        ("http://localhost:80/", "http://localhost"),
        ("https://user:pw@bücher.example/", "https://xn--bcher-kva.example"),
        ("https://[2001:db8::1]:443/", "https://[2001:db8::1]"),
    ],
)
def test_origin__forms(url: str, expected: str) -> None:
    assert origin(url) == expected


@pytest.mark.parametrize(
    "url", ["ftp://a.example/", "/relative", "https:///nohost", "https://a.example:bad/", "mailto:x"]
)
def test_origin__refusals(url: str) -> None:
    with pytest.raises(HostError):
        origin(url)


def test_same_origin__cases() -> None:
    assert same_origin("https://a.example/x", "https://A.example./y")
    assert same_origin("https://bücher.example/", "https://xn--bcher-kva.example/")
    assert not same_origin("https://a.example/", "http://a.example/")
    assert not same_origin("https://a.example/", "https://a.example:8443/")
    assert not same_origin("https://a.example/", "https://sub.a.example/")


def test_domain_list__label_boundaries() -> None:
    blocked = DomainList.of(["Bad.Example", "bücher.example"])
    assert blocked.matches("bad.example")
    assert blocked.matches("social.BAD.example.")
    assert blocked.matches("xn--bcher-kva.example")
    assert blocked.matches("www.bücher.example")
    assert not blocked.matches("notbad.example")
    assert not blocked.matches("bad.example.org")
    assert not blocked.matches("example")
    assert "deep.sub.bad.example" in blocked
    assert 42 not in blocked


def test_domain_list__ip_literals_match_exactly() -> None:
    listed = DomainList.of(["192.0.2.1", "[2001:db8::1]"])
    assert listed.matches("192.0.2.1")
    assert listed.matches("2001:db8:0::1")
    assert not listed.matches("10.192.0.2.1")
    assert not DomainList.of(["0.2.1"]).matches("192.0.2.1")


def test_domain_list__garbage_entry() -> None:
    with pytest.raises(HostError):
        DomainList.of(["ok.example", "not a host"])


@given(DOMAIN, LABEL)
def test_domain_list__subdomains_match_but_lookalikes_do_not(domain: str, label: str) -> None:
    listed = DomainList.of([domain])
    assert listed.matches(domain)
    assert listed.matches(f"{label}.{domain}")
    assert not listed.matches(f"{label}{domain}")


def test_host_allowed__block_and_regional_mode() -> None:
    blocked = DomainList.of(["bad.example"])
    region = DomainList.of(["partage-lille.example", "velo-fives.example"])
    assert host_allowed("mastodon.example", blocked=blocked)
    assert not host_allowed("x.bad.example", blocked=blocked)
    assert host_allowed("velo-fives.example", blocked=blocked, allowlist=region)
    assert not host_allowed("mastodon.example", blocked=blocked, allowlist=region)
    assert not host_allowed("bad.example", blocked=blocked, allowlist=DomainList.of(["bad.example"]))
