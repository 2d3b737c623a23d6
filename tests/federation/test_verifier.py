"""SignatureChecker: scheme branching, Mastodon's cases end to end, key refetch, RFC 9421 requests."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from federation.cavage import GET_HEADERS, POST_HEADERS, sign
from federation.digest import make_content_digest, make_digest
from federation.errors import (
    DigestMismatchError,
    KeyUnavailableError,
    RemoteGoneError,
    SignatureError,
    SignatureExpiredError,
    SignatureInvalidError,
    SignatureMalformedError,
    SignatureMissingError,
    UnsupportedAlgorithmError,
)
from federation.keys import PrivateKey, PublicKey, load_private_key, load_public_key_pem
from federation.rfc9421 import HttpMessage, parse_signature_input, signature_base
from federation.verifier import SignatureChecker, VerificationKey

MASTODON_NOW = datetime(2023, 12, 20, 10, 0, tzinfo=UTC)
NOW = datetime(2025, 10, 14, 8, 0, tzinfo=UTC)
STAMP = int(NOW.timestamp())
BOB = "https://remote.domain/users/bob"
KEY_ID = "https://a.example/actors/x#main-key"
OWNER = "https://a.example/actors/x"


class Retriever:
    """A key retriever that serves keys in order (cached first, then fresh) and records calls."""

    def __init__(self, *keys: PublicKey | Exception, owner: str = OWNER, key_id: str | None = None) -> None:
        self.keys = list(keys)
        self.owner = owner
        self.key_id = key_id
        self.calls: list[tuple[str, bool]] = []

    async def __call__(self, key_id: str, bypass_cache: bool) -> VerificationKey:
        self.calls.append((key_id, bypass_cache))
        item = self.keys[min(len(self.calls), len(self.keys)) - 1]
        if isinstance(item, Exception):
            raise item
        return VerificationKey(self.key_id or key_id, self.owner, item)


def _checker(
    retriever: Retriever, hosts: tuple[str, ...] = ("velo-fives.example",), now: datetime = NOW, **kw: Any
) -> SignatureChecker:
    frozen: Callable[[], datetime] = lambda: now  # noqa: E731
    return SignatureChecker(key_retriever=retriever, hosts=hosts, now=frozen, **kw)


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, 2048)


def _cavage_post(private_key: PrivateKey, body: bytes = b"{}", path: str = "/inbox") -> dict[str, str]:
    headers = {
        "Host": "velo-fives.example",
        "Date": "Tue, 14 Oct 2025 08:00:00 GMT",
        "Digest": make_digest(body),
        "Content-Type": "application/activity+json",
    }
    headers["Signature"] = sign(private_key, KEY_ID, "POST", path, headers, POST_HEADERS)
    return headers


# --- Mastodon's cases, end to end --------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("index", range(12))
async def test_verify__mastodon_cases(mastodon_vectors: dict[str, Any], index: int) -> None:
    case = mastodon_vectors["cases"][index]
    bob = load_public_key_pem(mastodon_vectors["actor"]["publicKeyPem"])
    retriever = Retriever(bob, owner=BOB)
    checker = _checker(retriever, hosts=("www.example.com",), now=MASTODON_NOW)
    headers = dict(case["headers"], Signature=case["Signature"])
    url = "https://www.example.com" + case["path"]
    body = case.get("body", "").encode()
    if case["expect"].startswith("accept"):
        assert await checker.verify(case["method"], url, headers, body) == BOB
    else:
        with pytest.raises(SignatureError):
            await checker.verify(case["method"], url, headers, body)


@pytest.mark.anyio
async def test_verify__mastodon_unknown_key(mastodon_vectors: dict[str, Any]) -> None:
    unknown = mastodon_vectors["unknown_key_case"]
    valid = mastodon_vectors["cases"][0]
    retriever = Retriever(KeyUnavailableError(f"Unable to fetch key JSON at {unknown['keyId']}"))
    checker = _checker(retriever, hosts=("www.example.com",), now=MASTODON_NOW)
    headers = dict(valid["headers"], Signature=unknown["Signature"])
    with pytest.raises(KeyUnavailableError, match="Unable to fetch key JSON"):
        await checker.verify("GET", "https://www.example.com/activitypub/success", headers, b"")
    assert retriever.calls == [(unknown["keyId"], False)]


@pytest.mark.anyio
async def test_verify__unsigned() -> None:
    checker = _checker(Retriever())
    with pytest.raises(SignatureMissingError):
        await checker.verify(
            "POST", "https://velo-fives.example/inbox", {"Host": "velo-fives.example"}, b"{}"
        )
    with pytest.raises(SignatureMissingError):
        await checker.verify("GET", "https://velo-fives.example/x", {"Authorization": "Bearer abc"}, b"")


@pytest.mark.anyio
async def test_verify__wire_format_example(wire_format_10_2: dict[str, Any]) -> None:
    key = load_public_key_pem(wire_format_10_2["actor_public_key_pem_section_3_1"])
    retriever = Retriever(key, owner="https://velo-fives.example/actors/atelier-fives")
    checker = _checker(retriever, hosts=("mastodon.example",))
    headers = dict(wire_format_10_2["headers"], Signature=wire_format_10_2["Signature"])
    owner = await checker.verify(
        "POST", wire_format_10_2["url"], list(headers.items()), wire_format_10_2["body"].encode()
    )
    assert owner == "https://velo-fives.example/actors/atelier-fives"
    assert retriever.calls == [(wire_format_10_2["key_id"], False)]


# --- cavage specifics --------------------------------------------------------------------------


@pytest.mark.anyio
async def test_verify__authorization_header_form(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = _cavage_post(rsa_key)
    headers["Authorization"] = "Signature " + headers.pop("Signature")
    assert (
        await _checker(Retriever(rsa_key.public_key())).verify(
            "POST", "https://velo-fives.example/inbox", headers, b"{}"
        )
        == OWNER
    )


@pytest.mark.anyio
async def test_verify__get_with_query(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = {
        "Host": "velo-fives.example",
        "Date": "Tue, 14 Oct 2025 08:00:00 GMT",
        "Accept": "application/activity+json",
    }
    headers["Signature"] = sign(rsa_key, KEY_ID, "GET", "/outbox?page=2", headers, GET_HEADERS)
    checker = _checker(Retriever(rsa_key.public_key()))
    assert await checker.verify("GET", "https://velo-fives.example/outbox?page=2", headers, b"") == OWNER
    with pytest.raises(SignatureInvalidError):
        await checker.verify("GET", "https://velo-fives.example/outbox?page=3", headers, b"")


@pytest.mark.anyio
async def test_verify__refetches_once_after_key_rotation(rsa_key: rsa.RSAPrivateKey) -> None:
    stale = rsa.generate_private_key(65537, 2048).public_key()
    retriever = Retriever(stale, rsa_key.public_key())
    owner = await _checker(retriever).verify(
        "POST", "https://velo-fives.example/inbox", _cavage_post(rsa_key), b"{}"
    )
    assert owner == OWNER
    assert retriever.calls == [(KEY_ID, False), (KEY_ID, True)]


@pytest.mark.anyio
async def test_verify__same_key_after_refetch_fails(rsa_key: rsa.RSAPrivateKey) -> None:
    other = rsa.generate_private_key(65537, 2048).public_key()
    retriever = Retriever(other, other)
    with pytest.raises(SignatureInvalidError, match="does not verify"):
        await _checker(retriever).verify(
            "POST", "https://velo-fives.example/inbox", _cavage_post(rsa_key), b"{}"
        )
    assert retriever.calls == [(KEY_ID, False), (KEY_ID, True)]


@pytest.mark.anyio
async def test_verify__refetched_key_still_wrong(rsa_key: rsa.RSAPrivateKey) -> None:
    first = rsa.generate_private_key(65537, 2048).public_key()
    second = rsa.generate_private_key(65537, 2048).public_key()
    retriever = Retriever(first, second)
    with pytest.raises(SignatureInvalidError):
        await _checker(retriever).verify(
            "POST", "https://velo-fives.example/inbox", _cavage_post(rsa_key), b"{}"
        )
    assert len(retriever.calls) == 2


@pytest.mark.anyio
async def test_verify__refetch_failure_propagates(rsa_key: rsa.RSAPrivateKey) -> None:
    stale = rsa.generate_private_key(65537, 2048).public_key()
    retriever = Retriever(stale, RemoteGoneError("410 Gone"))
    with pytest.raises(KeyUnavailableError, match="410 Gone") as caught:
        await _checker(retriever).verify(
            "POST", "https://velo-fives.example/inbox", _cavage_post(rsa_key), b"{}"
        )
    assert isinstance(caught.value.__cause__, RemoteGoneError)


@pytest.mark.anyio
async def test_verify__policy_failures_fetch_no_key(rsa_key: rsa.RSAPrivateKey) -> None:
    retriever = Retriever(rsa_key.public_key())
    checker = _checker(retriever, now=datetime(2025, 10, 15, tzinfo=UTC))
    with pytest.raises(SignatureExpiredError):
        await checker.verify("POST", "https://velo-fives.example/inbox", _cavage_post(rsa_key), b"{}")
    with pytest.raises(DigestMismatchError):
        await _checker(retriever).verify(
            "POST", "https://velo-fives.example/inbox", _cavage_post(rsa_key), b"{!}"
        )
    assert retriever.calls == []


@pytest.mark.anyio
async def test_verify__retriever_returning_another_key_id(rsa_key: rsa.RSAPrivateKey) -> None:
    retriever = Retriever(rsa_key.public_key(), key_id="https://evil.example/k")
    with pytest.raises(KeyUnavailableError, match="returned"):
        await _checker(retriever).verify(
            "POST", "https://velo-fives.example/inbox", _cavage_post(rsa_key), b"{}"
        )


@pytest.mark.anyio
async def test_verify__weak_rsa_key_refused(cavage_vectors: dict[str, Any]) -> None:
    weak = load_private_key(cavage_vectors["private_key_pem"])
    retriever = Retriever(weak.public_key())
    with pytest.raises(UnsupportedAlgorithmError, match="1024 bits"):
        await _checker(retriever).verify(
            "POST", "https://velo-fives.example/inbox", _cavage_post(weak), b"{}"
        )
    owner = await _checker(retriever, min_rsa_bits=1024).verify(
        "POST", "https://velo-fives.example/inbox", _cavage_post(weak), b"{}"
    )
    assert owner == OWNER


@pytest.mark.anyio
async def test_verify__malformed_signature_header() -> None:
    headers = {"Host": "velo-fives.example", "Signature": 'keyId="k"'}
    with pytest.raises(SignatureMalformedError):
        await _checker(Retriever()).verify("POST", "https://velo-fives.example/inbox", headers, b"")


def test_signature_checker__needs_hosts() -> None:
    with pytest.raises(ValueError, match="at least one"):
        _checker(Retriever(), hosts=())


# --- RFC 9421 ----------------------------------------------------------------------------------


def _rfc9421_sign(
    private_key: PrivateKey,
    url: str = "https://velo-fives.example/inbox",
    body: bytes = b"{}",
    label: str = "sig1",
    params: str | None = None,
    components: str = '"@method" "@target-uri" "content-digest"',
) -> list[tuple[str, str]]:
    headers = [("Host", "velo-fives.example"), ("Content-Digest", make_content_digest(body))]
    extra = params if params is not None else f'created={STAMP};keyid="{KEY_ID}"'
    signature_input = f"{label}=({components});{extra}"
    message = HttpMessage.for_request("POST", url, headers)
    base = signature_base(message, parse_signature_input(signature_input)[label]).encode()
    if isinstance(private_key, rsa.RSAPrivateKey):
        if "rsa-pss-sha512" in extra:
            pss = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)
            signature = private_key.sign(base, pss, hashes.SHA512())
        else:
            signature = private_key.sign(base, padding.PKCS1v15(), hashes.SHA256())
    else:
        signature = private_key.sign(base)
    encoded = base64.b64encode(signature).decode()
    return [*headers, ("Signature-Input", signature_input), ("Signature", f"{label}=:{encoded}:")]


@pytest.mark.anyio
async def test_verify__rfc9421_ed25519() -> None:
    private_key = ed25519.Ed25519PrivateKey.generate()
    retriever = Retriever(private_key.public_key())
    owner = await _checker(retriever).verify(
        "POST", "https://velo-fives.example/inbox", _rfc9421_sign(private_key), b"{}"
    )
    assert owner == OWNER
    assert retriever.calls == [(KEY_ID, False)]


@pytest.mark.anyio
async def test_verify__rfc9421_rsa_v1_5(rsa_key: rsa.RSAPrivateKey) -> None:
    params = f'created={STAMP};keyid="{KEY_ID}";alg="rsa-v1_5-sha256"'
    headers = _rfc9421_sign(rsa_key, params=params)
    assert (
        await _checker(Retriever(rsa_key.public_key())).verify(
            "POST", "https://velo-fives.example/inbox", headers, b"{}"
        )
        == OWNER
    )


@pytest.mark.anyio
async def test_verify__rfc9421_rsa_pss_refused_unless_accepted(rsa_key: rsa.RSAPrivateKey) -> None:
    params = f'created={STAMP};keyid="{KEY_ID}";alg="rsa-pss-sha512"'
    headers = _rfc9421_sign(rsa_key, params=params)
    retriever = Retriever(rsa_key.public_key())
    with pytest.raises(UnsupportedAlgorithmError):
        await _checker(retriever).verify("POST", "https://velo-fives.example/inbox", headers, b"{}")
    checker = _checker(retriever, rfc9421_algorithms={"rsa-pss-sha512"})
    assert await checker.verify("POST", "https://velo-fives.example/inbox", headers, b"{}") == OWNER


@pytest.mark.anyio
async def test_verify__rfc9421_key_type_algorithm_not_accepted() -> None:
    private_key = ed25519.Ed25519PrivateKey.generate()
    checker = _checker(Retriever(private_key.public_key()), rfc9421_algorithms={"rsa-v1_5-sha256"})
    with pytest.raises(UnsupportedAlgorithmError, match="ed25519"):
        await checker.verify("POST", "https://velo-fives.example/inbox", _rfc9421_sign(private_key), b"{}")


@pytest.mark.anyio
async def test_verify__rfc9421_refetch() -> None:
    private_key = ed25519.Ed25519PrivateKey.generate()
    stale = ed25519.Ed25519PrivateKey.generate().public_key()
    retriever = Retriever(stale, private_key.public_key())
    owner = await _checker(retriever).verify(
        "POST", "https://velo-fives.example/inbox", _rfc9421_sign(private_key), b"{}"
    )
    assert owner == OWNER
    assert retriever.calls == [(KEY_ID, False), (KEY_ID, True)]


@pytest.mark.anyio
async def test_verify__rfc9421_second_label_wins() -> None:
    private_key = ed25519.Ed25519PrivateKey.generate()
    first = _rfc9421_sign(private_key, label="old", params=f'created={STAMP - 7200};keyid="{KEY_ID}"')
    second = _rfc9421_sign(private_key, label="new")
    headers = [
        *first[:2],
        ("Signature-Input", first[2][1]),
        ("Signature-Input", second[2][1]),
        ("Signature", first[3][1] + ", " + second[3][1]),
    ]
    assert (
        await _checker(Retriever(private_key.public_key())).verify(
            "POST", "https://velo-fives.example/inbox", headers, b"{}"
        )
        == OWNER
    )


@pytest.mark.anyio
async def test_verify__rfc9421_all_labels_fail_raises_first() -> None:
    private_key = ed25519.Ed25519PrivateKey.generate()
    headers = _rfc9421_sign(private_key, params=f'created={STAMP - 7200};keyid="{KEY_ID}"')
    with pytest.raises(SignatureExpiredError):
        await _checker(Retriever(private_key.public_key())).verify(
            "POST", "https://velo-fives.example/inbox", headers, b"{}"
        )


@pytest.mark.anyio
async def test_verify__rfc9421_malformed() -> None:
    private_key = ed25519.Ed25519PrivateKey.generate()
    headers = _rfc9421_sign(private_key)
    checker = _checker(Retriever(private_key.public_key()))
    with pytest.raises(SignatureMalformedError, match="Signature is not"):
        await checker.verify("POST", "https://velo-fives.example/inbox", headers[:3], b"{}")
    renamed = [*headers[:3], ("Signature", headers[3][1].replace("sig1=", "other="))]
    with pytest.raises(SignatureMalformedError, match="no member for the label"):
        await checker.verify("POST", "https://velo-fives.example/inbox", renamed, b"{}")
    garbage = [*headers[:2], ("Signature-Input", "((("), headers[3]]
    with pytest.raises(SignatureMalformedError):
        await checker.verify("POST", "https://velo-fives.example/inbox", garbage, b"{}")


@pytest.mark.anyio
async def test_verify__rfc9421_tampered_body() -> None:
    private_key = ed25519.Ed25519PrivateKey.generate()
    retriever = Retriever(private_key.public_key())
    with pytest.raises(DigestMismatchError):
        await _checker(retriever).verify(
            "POST", "https://velo-fives.example/inbox", _rfc9421_sign(private_key), b"{!}"
        )
    assert retriever.calls == []


@pytest.mark.anyio
async def test_verify__rfc9421_preferred_over_cavage(rsa_key: rsa.RSAPrivateKey) -> None:
    """With Signature-Input present, Signature is an RFC 9421 dictionary, whatever else is sent."""
    private_key = ed25519.Ed25519PrivateKey.generate()
    headers = _rfc9421_sign(private_key)
    headers.append(("Authorization", "Signature " + _cavage_post(rsa_key)["Signature"]))
    assert (
        await _checker(Retriever(private_key.public_key())).verify(
            "POST", "https://velo-fives.example/inbox", headers, b"{}"
        )
        == OWNER
    )


def test_verification_key__is_frozen(mastodon_vectors: dict[str, Any]) -> None:
    key = VerificationKey(KEY_ID, OWNER, load_public_key_pem(mastodon_vectors["actor"]["publicKeyPem"]))
    with pytest.raises(AttributeError):
        key.owner = "x"  # type: ignore[misc]
    assert load_private_key(mastodon_vectors["actor"]["privateKeyPem_pkcs1"])
