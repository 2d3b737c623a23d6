"""Keys: RSA generation, PEM and Multikey loading, strength checks, keyId parsing."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from hypothesis import given
from hypothesis import strategies as st

from federation.errors import KeyFormatError
from federation.keys import (
    check_key_strength,
    ed25519_to_multibase,
    generate_rsa_keypair,
    load_private_key,
    load_public_key_multibase,
    load_public_key_pem,
    parse_key_id,
    private_key_to_pem,
    public_key_to_pem,
)

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _b58encode(data: bytes) -> str:
    """Independent base58btc encoder, for building Multikey values in tests."""
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, digit = divmod(number, 58)
        out = _B58[digit] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def test_generate_rsa_keypair__pem_forms_and_size() -> None:
    pair = generate_rsa_keypair()
    assert pair.private_pem.startswith("-----BEGIN PRIVATE KEY-----\n")
    assert pair.public_pem.startswith("-----BEGIN PUBLIC KEY-----\n")
    private_key = load_private_key(pair.private_pem)
    public_key = load_public_key_pem(pair.public_pem)
    assert isinstance(private_key, rsa.RSAPrivateKey)
    assert isinstance(public_key, rsa.RSAPublicKey)
    assert public_key.key_size == 2048
    assert public_key.public_numbers().e == 65537
    signature = private_key.sign(b"data", padding.PKCS1v15(), hashes.SHA256())
    public_key.verify(signature, b"data", padding.PKCS1v15(), hashes.SHA256())


def test_generate_rsa_keypair__refuses_weak_size() -> None:
    with pytest.raises(KeyFormatError, match="1024 bits"):
        generate_rsa_keypair(1024)


def test_load_public_key_pem__mastodon_actor_key(mastodon_vectors: dict[str, Any]) -> None:
    key = load_public_key_pem(mastodon_vectors["actor"]["publicKeyPem"])
    assert isinstance(key, rsa.RSAPublicKey)
    assert key.key_size == 2048


def test_load_public_key_pem__pkcs1_rsa_public_key(rfc9421_vectors: dict[str, Any]) -> None:
    pem = rfc9421_vectors["keys"]["test-key-rsa"]["pem"]
    pkcs1 = pem[: pem.index("-----END RSA PUBLIC KEY-----") + len("-----END RSA PUBLIC KEY-----")]
    assert pkcs1.startswith("-----BEGIN RSA PUBLIC KEY-----")
    key = load_public_key_pem(pkcs1)
    spki = load_public_key_pem(rfc9421_vectors["keys"]["test-key-rsa"]["public_spki_pem"])
    assert public_key_to_pem(key) == public_key_to_pem(spki)


def test_load_public_key_pem__ed25519_and_p256(rfc9421_vectors: dict[str, Any]) -> None:
    ed = load_public_key_pem(rfc9421_vectors["keys"]["test-key-ed25519"]["public_spki_pem"])
    p256 = load_public_key_pem(rfc9421_vectors["keys"]["test-key-ecc-p256"]["public_spki_pem"].encode())
    assert isinstance(ed, ed25519.Ed25519PublicKey)
    assert isinstance(p256, ec.EllipticCurvePublicKey)


def test_load_public_key_pem__refuses_1024_bits_by_default(cavage_vectors: dict[str, Any]) -> None:
    with pytest.raises(KeyFormatError, match="1024 bits; at least 2048"):
        load_public_key_pem(cavage_vectors["public_key_pem"])


def test_load_public_key_pem__lowered_minimum_accepts_cavage_key(cavage_vectors: dict[str, Any]) -> None:
    key = load_public_key_pem(cavage_vectors["public_key_pem"], min_rsa_bits=1024)
    assert isinstance(key, rsa.RSAPublicKey)
    assert key.key_size == 1024


@pytest.mark.parametrize(
    "text", ["", "not a key", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"]
)
def test_load_public_key_pem__garbage(text: str) -> None:
    with pytest.raises(KeyFormatError):
        load_public_key_pem(text)


def test_load_public_key_pem__unsupported_curve() -> None:
    pem = public_key_to_pem(ec.generate_private_key(ec.SECP384R1()).public_key())
    with pytest.raises(KeyFormatError, match="secp384r1"):
        load_public_key_pem(pem)


def test_load_private_key__pkcs1_and_pkcs8_round_trip(mastodon_vectors: dict[str, Any]) -> None:
    key = load_private_key(mastodon_vectors["actor"]["privateKeyPem_pkcs1"])
    assert isinstance(key, rsa.RSAPrivateKey)
    again = load_private_key(private_key_to_pem(key).encode())
    assert public_key_to_pem(again.public_key()) == public_key_to_pem(key.public_key())
    assert public_key_to_pem(key.public_key()) == mastodon_vectors["actor"]["publicKeyPem"]


def test_load_private_key__ed25519(rfc9421_vectors: dict[str, Any]) -> None:
    pem = rfc9421_vectors["keys"]["test-key-ed25519"]["pem"]
    key = load_private_key(pem[pem.index("-----BEGIN PRIVATE KEY-----") :])
    assert isinstance(key, ed25519.Ed25519PrivateKey)


def test_load_private_key__refuses_ec_and_garbage(rfc9421_vectors: dict[str, Any]) -> None:
    pem = rfc9421_vectors["keys"]["test-key-ecc-p256"]["pem"]
    with pytest.raises(KeyFormatError, match="not supported"):
        load_private_key(pem[pem.index("-----BEGIN EC PRIVATE KEY-----") :])
    with pytest.raises(KeyFormatError, match="does not parse"):
        load_private_key("garbage")


def test_check_key_strength__ed25519_always_passes() -> None:
    check_key_strength(ed25519.Ed25519PrivateKey.generate().public_key(), min_rsa_bits=100_000)


def test_multibase__ed25519_round_trip(rfc9421_vectors: dict[str, Any]) -> None:
    key = load_public_key_pem(rfc9421_vectors["keys"]["test-key-ed25519"]["public_spki_pem"])
    assert isinstance(key, ed25519.Ed25519PublicKey)
    value = ed25519_to_multibase(key)
    assert value.startswith("z6Mk")
    loaded = load_public_key_multibase(value)
    assert public_key_to_pem(loaded) == public_key_to_pem(key)


@given(st.binary(min_size=32, max_size=32))
def test_multibase__any_ed25519_key_round_trips(seed: bytes) -> None:
    key = ed25519.Ed25519PrivateKey.from_private_bytes(seed).public_key()
    value = ed25519_to_multibase(key)
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert value == "z" + _b58encode(b"\xed\x01" + raw)
    loaded = load_public_key_multibase(value)
    assert loaded.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw) == raw


def test_multibase__rsa_pub_multicodec(mastodon_vectors: dict[str, Any]) -> None:
    key = load_public_key_pem(mastodon_vectors["actor"]["publicKeyPem"])
    assert isinstance(key, rsa.RSAPublicKey)
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    loaded = load_public_key_multibase("z" + _b58encode(b"\x85\x24" + der))
    assert public_key_to_pem(loaded) == mastodon_vectors["actor"]["publicKeyPem"]


def test_multibase__rsa_pub_too_weak(cavage_vectors: dict[str, Any]) -> None:
    key = load_public_key_pem(cavage_vectors["public_key_pem"], min_rsa_bits=1024)
    assert isinstance(key, rsa.RSAPublicKey)
    value = "z" + _b58encode(
        b"\x85\x24" + key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    )
    with pytest.raises(KeyFormatError, match="1024 bits"):
        load_public_key_multibase(value)
    assert isinstance(load_public_key_multibase(value, min_rsa_bits=1024), rsa.RSAPublicKey)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("uAAAA", "base58btc"),
        ("z0OIl", "not base58btc"),
        ("z" + _b58encode(b"\xe7\x01" + b"\x02" * 33), "unsupported multicodec"),
        ("z" + _b58encode(b"\xed\x01" + b"\x02" * 31), "31 bytes"),
        ("z" + _b58encode(b"\x85\x24" + b"garbage"), "DER"),
    ],
)
def test_multibase__refusals(value: str, message: str) -> None:
    with pytest.raises(KeyFormatError, match=message):
        load_public_key_multibase(value)


@pytest.mark.parametrize(
    ("key_id", "expected"),
    [
        ("https://a.example/actors/x#main-key", ("https://a.example/actors/x", "main-key")),
        ("https://gts.example/users/x/main-key", ("https://gts.example/users/x/main-key", None)),
        ("http://localhost:8000/actor#key-1", ("http://localhost:8000/actor", "key-1")),
        ("HTTPS://A.example/x?y=1#k", ("HTTPS://A.example/x?y=1", "k")),
    ],
)
def test_parse_key_id__forms(key_id: str, expected: tuple[str, str | None]) -> None:
    assert parse_key_id(key_id) == expected


@pytest.mark.parametrize(
    "key_id", ["", "Test", "acct:x@a.example", "https://a.example/x#", "https://a.example/ x"]
)
def test_parse_key_id__refusals(key_id: str) -> None:
    with pytest.raises(KeyFormatError):
        parse_key_id(key_id)
