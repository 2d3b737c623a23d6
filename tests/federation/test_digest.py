"""Body digests: Digest (SHA-256, tolerant reading) and RFC 9530 Content-Digest."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from federation.digest import make_content_digest, make_digest, verify_content_digest, verify_digest
from federation.errors import DigestMismatchError

HELLO = b'{"hello": "world"}'
HELLO_SHA256 = "X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="
HELLO_SHA512 = "WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew=="


def test_make_digest__vectors(mastodon_vectors: dict[str, Any], wire_format_10_2: dict[str, Any]) -> None:
    assert make_digest(HELLO) == "SHA-256=" + HELLO_SHA256
    case = next(c for c in mastodon_vectors["cases"] if c["name"] == "valid POST with signed Digest")
    assert make_digest(case["body"].encode()) == case["headers"]["Digest"]
    assert make_digest(wire_format_10_2["body"].encode()) == wire_format_10_2["headers"]["Digest"]


@pytest.mark.parametrize(
    "header",
    [
        "SHA-256=" + HELLO_SHA256,
        "sha-256=" + HELLO_SHA256,
        "Sha-256=" + HELLO_SHA256,
        "MD5=Sd/dVLAcvNLSq16eXua5uQ==,SHA-256=" + HELLO_SHA256,
        "SHA-256=" + HELLO_SHA256 + ", SHA-512=whatever",
        " SHA-256 = " + HELLO_SHA256 + " ",
    ],
)
def test_verify_digest__accepts(header: str) -> None:
    verify_digest(header, HELLO)


def test_verify_digest__mismatch_names_both_values() -> None:
    with pytest.raises(DigestMismatchError) as caught:
        verify_digest("SHA-256=" + HELLO_SHA256, b"Hello world!")
    assert "computed wFNeS+K3n/2TKRMFQ2v4iTFOSj+uwF7P/Lt98xrZ5Ro=" in str(caught.value)
    assert "given " + HELLO_SHA256 in str(caught.value)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("MD5=Sd/dVLAcvNLSq16eXua5uQ==", "no SHA-256 entry"),
        ("SHA-256", "not algorithm=value"),
        ("SHA-256=%%%", "not base64"),
        ("SHA-256=" + HELLO_SHA256 + ",SHA-256=AAAA", "mismatch"),
        ("", "not algorithm=value"),
    ],
)
def test_verify_digest__refusals(header: str, message: str) -> None:
    with pytest.raises(DigestMismatchError, match=message):
        verify_digest(header, HELLO)


@given(st.binary(max_size=2048))
def test_verify_digest__accepts_what_make_digest_makes(body: bytes) -> None:
    verify_digest(make_digest(body), body)
    verify_digest("sha-256=" + make_digest(body).removeprefix("SHA-256="), body)


def test_make_content_digest__rfc9421_vector() -> None:
    assert make_content_digest(HELLO, "sha-512") == f"sha-512=:{HELLO_SHA512}:"
    assert make_content_digest(HELLO) == f"sha-256=:{HELLO_SHA256}:"
    with pytest.raises(ValueError, match="md5"):
        make_content_digest(HELLO, "md5")


@pytest.mark.parametrize(
    "header",
    [
        f"sha-512=:{HELLO_SHA512}:",
        f"sha-256=:{HELLO_SHA256}:",
        f"sha-256=:{HELLO_SHA256}:, sha-512=:{HELLO_SHA512}:",
        f"md5=:AAAA:, sha-256=:{HELLO_SHA256}:",
    ],
)
def test_verify_content_digest__accepts(header: str) -> None:
    verify_content_digest(header, HELLO)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (f"sha-256=:{HELLO_SHA256}:, sha-512=:AAAA:", "sha-512 mismatch"),
        ("md5=:AAAA:", "no sha-256 or sha-512"),
        ("", "got nothing"),
        (f'sha-256="{HELLO_SHA256}"', "not a byte sequence"),
        ("sha-256=:not base64", "does not parse"),
        ("SHA-256=:AAAA:", "does not parse"),
    ],
)
def test_verify_content_digest__refusals(header: str, message: str) -> None:
    with pytest.raises(DigestMismatchError, match=message):
        verify_content_digest(header, HELLO)


@given(st.binary(max_size=2048), st.sampled_from(["sha-256", "sha-512"]))
def test_verify_content_digest__accepts_what_make_makes(body: bytes, algorithm: str) -> None:
    verify_content_digest(make_content_digest(body, algorithm), body)
    with pytest.raises(DigestMismatchError):
        verify_content_digest(make_content_digest(body + b"x", algorithm), body)
