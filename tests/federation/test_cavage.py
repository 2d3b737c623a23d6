"""draft-cavage-12: known answers (cavage appendix, Mastodon's cases, wire-format §10.2), parser, policy."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from hypothesis import given
from hypothesis import strategies as st

from federation.cavage import (
    GET_HEADERS,
    POST_HEADERS,
    CavageSignature,
    check_policy,
    format_signature_header,
    lower_headers,
    parse_authorization_header,
    parse_signature_header,
    sign,
    signing_string,
    verify_signature,
)
from federation.digest import make_digest
from federation.errors import (
    DigestMismatchError,
    SignatureError,
    SignatureExpiredError,
    SignatureInvalidError,
    SignatureMalformedError,
    UnsupportedAlgorithmError,
)
from federation.keys import load_private_key, load_public_key_pem

MASTODON_NOW = datetime(2023, 12, 20, 10, 0, tzinfo=UTC)
WIRE_NOW = datetime(2025, 10, 14, 8, 0, tzinfo=UTC)


# --- draft-cavage-12 Appendix C ---------------------------------------------------------------


def _cavage_request(vectors: dict[str, Any]) -> tuple[str, str, list[tuple[str, str]]]:
    request = vectors["request"]
    return request["method"], request["path"], [(name, value) for name, value in request["headers"]]


def test_signing_string__cavage_default_and_basic(cavage_vectors: dict[str, Any]) -> None:
    method, path, headers = _cavage_request(cavage_vectors)
    assert signing_string(method, path, headers, ["date"]) == cavage_vectors["default"]["signing_string"]
    basic = signing_string(method, path, headers, ["(request-target)", "host", "date"])
    assert basic == cavage_vectors["basic"]["signing_string"]


@pytest.mark.parametrize(
    ("case", "header"), [("default", "Authorization"), ("default", "Signature"), ("basic", "Authorization")]
)
def test_verify_signature__cavage_examples(cavage_vectors: dict[str, Any], case: str, header: str) -> None:
    method, path, headers = _cavage_request(cavage_vectors)
    value = cavage_vectors[case][header]
    parsed = parse_authorization_header(value) if header == "Authorization" else parse_signature_header(value)
    public_key = load_public_key_pem(cavage_vectors["public_key_pem"], min_rsa_bits=1024)
    verify_signature(
        parsed, method=method, path_and_query=path, headers=headers, public_key=public_key, min_rsa_bits=1024
    )


@pytest.mark.parametrize("case", ["default", "basic"])
def test_sign__cavage_examples_are_reproduced(cavage_vectors: dict[str, Any], case: str) -> None:
    method, path, headers = _cavage_request(cavage_vectors)
    private_key = load_private_key(cavage_vectors["private_key_pem"])
    expected = parse_authorization_header(cavage_vectors[case]["Authorization"])
    produced = parse_signature_header(sign(private_key, "Test", method, path, headers, expected.headers))
    assert produced.signature == expected.signature


def test_verify_signature__cavage_all_headers_defect(cavage_vectors: dict[str, Any]) -> None:
    """The printed header lists (created)/(expires) that the printed signing string lacks."""
    method, path, headers = _cavage_request(cavage_vectors)
    public_key = load_public_key_pem(cavage_vectors["public_key_pem"], min_rsa_bits=1024)
    parsed = parse_signature_header(cavage_vectors["all_headers"]["Signature"])
    assert parsed.created == 1402170695
    assert parsed.expires == 1402170699
    with pytest.raises(SignatureInvalidError):
        verify_signature(
            parsed,
            method=method,
            path_and_query=path,
            headers=headers,
            public_key=public_key,
            min_rsa_bits=1024,
        )
    printed = CavageSignature(
        key_id="Test",
        algorithm="rsa-sha256",
        headers=tuple(name for name in parsed.headers if name not in ("(created)", "(expires)")),
        signature=parsed.signature,
    )
    assert (
        signing_string(method, path, headers, printed.headers)
        == cavage_vectors["all_headers"]["printed_signing_string"]
    )
    verify_signature(
        printed, method=method, path_and_query=path, headers=headers, public_key=public_key, min_rsa_bits=1024
    )


def test_signing_string__created_and_expires_resign(cavage_vectors: dict[str, Any]) -> None:
    method, path, headers = _cavage_request(cavage_vectors)
    parsed = parse_signature_header(cavage_vectors["all_headers"]["Signature"])
    text = signing_string(
        method, path, headers, parsed.headers, created=parsed.created, expires=parsed.expires
    )
    assert text.splitlines()[1:3] == ["(created): 1402170695", "(expires): 1402170699"]
    private_key = load_private_key(cavage_vectors["private_key_pem"])
    assert isinstance(private_key, rsa.RSAPrivateKey)
    signature = private_key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
    assert (
        base64.b64encode(signature).decode() == cavage_vectors["all_headers"]["resigned_with_created_expires"]
    )
    fixed = CavageSignature("Test", "rsa-sha256", parsed.headers, signature, parsed.created, parsed.expires)
    public_key = load_public_key_pem(cavage_vectors["public_key_pem"], min_rsa_bits=1024)
    verify_signature(
        fixed, method=method, path_and_query=path, headers=headers, public_key=public_key, min_rsa_bits=1024
    )


def test_verify_signature__refuses_1024_bit_key_by_default(cavage_vectors: dict[str, Any]) -> None:
    method, path, headers = _cavage_request(cavage_vectors)
    public_key = load_public_key_pem(cavage_vectors["public_key_pem"], min_rsa_bits=1024)
    parsed = parse_authorization_header(cavage_vectors["basic"]["Authorization"])
    with pytest.raises(UnsupportedAlgorithmError, match="1024 bits"):
        verify_signature(parsed, method=method, path_and_query=path, headers=headers, public_key=public_key)


def test_check_policy__refuses_cavage_default_and_basic(cavage_vectors: dict[str, Any]) -> None:
    method, _, headers = _cavage_request(cavage_vectors)
    body = cavage_vectors["request"]["body"].encode()
    now = datetime(2014, 1, 5, 21, 31, 40, tzinfo=UTC)
    default = parse_signature_header(cavage_vectors["default"]["Signature"])
    assert not default.headers_given
    assert default.headers == ("date",)
    with pytest.raises(SignatureInvalidError, match="no headers parameter"):
        check_policy(default, method=method, headers=headers, body=body, hosts={"example.com"}, now=now)
    basic = parse_authorization_header(cavage_vectors["basic"]["Authorization"])
    with pytest.raises(DigestMismatchError, match="must cover the Digest"):
        check_policy(basic, method=method, headers=headers, body=body, hosts={"example.com"}, now=now)


# --- Mastodon's verification cases ------------------------------------------------------------


def _mastodon_verdict(vectors: dict[str, Any], case: dict[str, Any]) -> None:
    """Run our whole cavage chain (parse, policy, crypto) on one of Mastodon's requests."""
    headers = dict(case["headers"])
    headers["Signature"] = case["Signature"]
    body = case.get("body", "").encode()
    parsed = parse_signature_header(headers["Signature"])
    check_policy(
        parsed, method=case["method"], headers=headers, body=body, hosts={"www.example.com"}, now=MASTODON_NOW
    )
    public_key = load_public_key_pem(vectors["actor"]["publicKeyPem"])
    verify_signature(
        parsed, method=case["method"], path_and_query=case["path"], headers=headers, public_key=public_key
    )


def _case_ids(vectors_cases: list[dict[str, Any]]) -> list[str]:
    return [case["name"] for case in vectors_cases]


def test_mastodon_vectors__twelve_cases(mastodon_vectors: dict[str, Any]) -> None:
    assert len(mastodon_vectors["cases"]) == 12


@pytest.mark.parametrize("index", range(12))
def test_mastodon_vectors__verdict(mastodon_vectors: dict[str, Any], index: int) -> None:
    case = mastodon_vectors["cases"][index]
    if case["expect"].startswith("accept"):
        _mastodon_verdict(mastodon_vectors, case)
    else:
        with pytest.raises(SignatureError):
            _mastodon_verdict(mastodon_vectors, case)


@pytest.mark.parametrize(
    ("name", "error", "message"),
    [
        ("mismatching query string", SignatureInvalidError, "does not verify"),
        ("mismatching path", SignatureInvalidError, "does not verify"),
        ("mismatching method", DigestMismatchError, "must cover the Digest"),
        ("unparsable date", SignatureExpiredError, "'wrong date' is not an HTTP-date"),
        ("request older than a day", SignatureExpiredError, "more than 1:00:00 away"),
        ("POST whose Digest is not signed", DigestMismatchError, "must cover the Digest"),
        ("POST with tampered body", DigestMismatchError, "computed wFNeS"),
        ("POST with tampered path", SignatureInvalidError, "does not verify"),
    ],
)
def test_mastodon_vectors__precise_errors(
    mastodon_vectors: dict[str, Any], name: str, error: type[SignatureError], message: str
) -> None:
    case = next(c for c in mastodon_vectors["cases"] if c["name"] == name)
    with pytest.raises(error, match=message):
        _mastodon_verdict(mastodon_vectors, case)


def test_mastodon_vectors__signing_strings(mastodon_vectors: dict[str, Any]) -> None:
    for case in mastodon_vectors["cases"]:
        parsed = parse_signature_header(case["Signature"])
        signed_path = case["signing_string"].rsplit(" ", 1)[-1]
        signed_method = case["signing_string"].split("(request-target): ")[1].split(" ")[0]
        text = signing_string(signed_method, signed_path, case["headers"], parsed.headers)
        assert text == case["signing_string"], case["name"]


# --- wire-format §10.2 ------------------------------------------------------------------------


def test_sign__wire_format_example_byte_for_byte(
    mastodon_vectors: dict[str, Any], wire_format_10_2: dict[str, Any]
) -> None:
    private_key = load_private_key(mastodon_vectors["actor"]["privateKeyPem_pkcs1"])
    headers = wire_format_10_2["headers"]
    assert signing_string("POST", "/inbox", headers, POST_HEADERS) == wire_format_10_2["signing_string"]
    value = sign(private_key, wire_format_10_2["key_id"], "POST", "/inbox", headers, POST_HEADERS)
    assert value == wire_format_10_2["Signature"]


def test_verify__wire_format_example(wire_format_10_2: dict[str, Any]) -> None:
    headers = dict(wire_format_10_2["headers"], Signature=wire_format_10_2["Signature"])
    body = wire_format_10_2["body"].encode()
    parsed = parse_signature_header(headers["Signature"])
    check_policy(parsed, method="POST", headers=headers, body=body, hosts={"mastodon.example"}, now=WIRE_NOW)
    public_key = load_public_key_pem(wire_format_10_2["actor_public_key_pem_section_3_1"])
    verify_signature(parsed, method="POST", path_and_query="/inbox", headers=headers, public_key=public_key)


# --- parsing ----------------------------------------------------------------------------------


def test_parse_signature_header__tolerant_forms() -> None:
    parsed = parse_signature_header(
        ' KeyId="https://a.example/u#k" , ALGORITHM="HS2019",headers="(request-target) Host Date",'
        'signature="AAAA", created=1700000000, expires="1700000060.5"'
    )
    assert parsed == CavageSignature(
        key_id="https://a.example/u#k",
        algorithm="hs2019",
        headers=("(request-target)", "host", "date"),
        signature=b"\0\0\0",
        created=1700000000,
        expires=1700000060,
    )


def test_parse_signature_header__algorithm_optional() -> None:
    assert parse_signature_header('keyId="k",signature="AAAA"').algorithm is None


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        ('algorithm="rsa-sha256",signature="AAAA"', SignatureMalformedError, "no keyId"),
        ('keyId="k",algorithm="rsa-sha256"', SignatureMalformedError, "no signature"),
        ('keyId="k",signature="%%%"', SignatureMalformedError, "not base64"),
        ('keyId="k",signature="AAAA",algorithm="hmac-sha256"', UnsupportedAlgorithmError, "hmac-sha256"),
        ('keyId="k",signature="AAAA",algorithm="rsa-sha512"', UnsupportedAlgorithmError, "rsa-sha512"),
        ('keyId="k,signature="AAAA"', SignatureMalformedError, "garbage after"),
        ('keyId="k",signature="AAAA', SignatureMalformedError, "unterminated"),
        ('keyId="k",keyId="j",signature="AAAA"', SignatureMalformedError, "repeated"),
        ('keyId="k",signature="AAAA",headers=""', SignatureMalformedError, "empty"),
        ('keyId="k",signature="AAAA",created=soon', SignatureMalformedError, "not a number"),
        ('keyId="k" signature="AAAA"', SignatureMalformedError, "garbage after"),
        ("just garbage", SignatureMalformedError, "no '='"),
        ('="x",keyId="k",signature="AAAA"', SignatureMalformedError, "bad signature parameter name"),
        ("", SignatureMalformedError, "no keyId"),
    ],
)
def test_parse_signature_header__refusals(value: str, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        parse_signature_header(value)


def test_parse_authorization_header__other_scheme() -> None:
    with pytest.raises(SignatureMalformedError, match="Bearer"):
        parse_authorization_header("Bearer abc")


KEY_IDS = st.text(
    alphabet=st.characters(blacklist_characters='"', min_codepoint=33, max_codepoint=126), min_size=1
)
HEADER_NAMES = st.lists(
    st.sampled_from(["(request-target)", "host", "date", "digest", "content-type", "accept", "x-custom"]),
    min_size=1,
    unique=True,
)


@given(KEY_IDS, st.sampled_from(["rsa-sha256", "hs2019"]), HEADER_NAMES, st.binary(min_size=1, max_size=512))
def test_parse_signature_header__round_trips_format(
    key_id: str, algorithm: str, names: list[str], signature: bytes
) -> None:
    parsed = parse_signature_header(format_signature_header(key_id, algorithm, names, signature))
    assert parsed == CavageSignature(key_id, algorithm, tuple(names), signature)


@given(st.text(max_size=200))
def test_parse_signature_header__only_typed_errors(value: str) -> None:
    try:
        parse_signature_header(value)
    except SignatureError:
        pass


# --- policy -----------------------------------------------------------------------------------


def _request(method: str = "POST", **overrides: str) -> dict[str, str]:
    headers = {
        "Host": "velo-fives.example",
        "Date": "Tue, 14 Oct 2025 08:00:00 GMT",
        "Digest": make_digest(b"{}"),
        "Content-Type": "application/activity+json",
        "Accept": "application/activity+json",
    }
    headers.update(overrides)
    return headers


def _signature(*names: str, created: int | None = None, expires: int | None = None) -> CavageSignature:
    return CavageSignature(
        "https://a.example/u#k", "rsa-sha256", names or POST_HEADERS, b"x", created, expires
    )


def _policy(
    signature: CavageSignature, headers: dict[str, str], method: str = "POST", now: datetime = WIRE_NOW
) -> None:
    check_policy(signature, method=method, headers=headers, body=b"{}", hosts={"velo-fives.example"}, now=now)


def test_check_policy__accepts_post_and_get() -> None:
    _policy(_signature(), _request())
    _policy(_signature(*GET_HEADERS), _request("GET"), method="GET")
    _policy(_signature("(request-target)", "host", "date"), _request("GET"), method="GET")


@pytest.mark.parametrize("missing", ["(request-target)", "host", "date"])
def test_check_policy__required_coverage(missing: str) -> None:
    names = [name for name in POST_HEADERS if name != missing]
    with pytest.raises(SignatureInvalidError, match=re.escape(f"does not cover {missing}")):
        _policy(_signature(*names), _request())


def test_check_policy__listed_header_absent() -> None:
    headers = _request()
    del headers["Content-Type"]
    with pytest.raises(SignatureInvalidError, match="'content-type' is absent"):
        _policy(_signature(), headers)


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [
        (timedelta(0), True),
        (timedelta(hours=1), True),
        (-timedelta(hours=1), True),
        (timedelta(hours=1, seconds=1), False),
        (-timedelta(hours=1, seconds=1), False),
    ],
)
def test_check_policy__date_window(offset: timedelta, accepted: bool) -> None:
    if accepted:
        _policy(_signature(), _request(), now=WIRE_NOW + offset)
    else:
        with pytest.raises(SignatureExpiredError):
            _policy(_signature(), _request(), now=WIRE_NOW + offset)


def test_check_policy__max_skew_is_configurable() -> None:
    later = WIRE_NOW + timedelta(minutes=10)
    with pytest.raises(SignatureExpiredError):
        check_policy(
            _signature(),
            method="POST",
            headers=_request(),
            body=b"{}",
            hosts={"velo-fives.example"},
            now=later,
            max_skew=timedelta(minutes=5),
        )


def test_check_policy__created_and_expires() -> None:
    stamp = int(WIRE_NOW.timestamp())
    names = (*POST_HEADERS, "(created)", "(expires)")
    _policy(_signature(*names, created=stamp - 10, expires=stamp + 10), _request())
    with pytest.raises(SignatureExpiredError, match="expired"):
        _policy(_signature(*names, created=stamp - 10, expires=stamp - 1), _request())
    with pytest.raises(SignatureExpiredError, match=r"\(created\)"):
        _policy(_signature(*names, created=stamp + 7200, expires=stamp + 7300), _request())
    with pytest.raises(SignatureMalformedError, match="created parameter is missing"):
        _policy(_signature(*names, expires=stamp + 10), _request())
    with pytest.raises(SignatureMalformedError, match="expires parameter is missing"):
        _policy(_signature(*names, created=stamp), _request())


@pytest.mark.parametrize("host", ["VELO-FIVES.example", "velo-fives.example.", "velo-fives.example:443"])
def test_check_policy__host_normalised(host: str) -> None:
    _policy(_signature(), _request(Host=host))


@pytest.mark.parametrize("host", ["mastodon.example", "velo-fives.example:8443", "bad host"])
def test_check_policy__host_not_ours(host: str) -> None:
    with pytest.raises(SignatureInvalidError, match="host"):
        _policy(_signature(), _request(Host=host))


def test_check_policy__digest_checked_on_get_when_signed() -> None:
    names = (*GET_HEADERS, "digest")
    _policy(_signature(*names), _request("GET"), method="GET")
    with pytest.raises(DigestMismatchError):
        _policy(_signature(*names), _request("GET", Digest=make_digest(b"other")), method="GET")


def test_check_policy__lowercase_digest_accepted() -> None:
    _policy(_signature(), _request(Digest="sha-256=" + make_digest(b"{}").removeprefix("SHA-256=")))


# --- crypto -----------------------------------------------------------------------------------


def test_verify_signature__query_retry_only_when_needed(mastodon_vectors: dict[str, Any]) -> None:
    private_key = load_private_key(mastodon_vectors["actor"]["privateKeyPem_pkcs1"])
    public_key = load_public_key_pem(mastodon_vectors["actor"]["publicKeyPem"])
    headers = _request("GET")
    value = sign(private_key, "k", "GET", "/outbox", headers, GET_HEADERS)
    parsed = parse_signature_header(value)
    verify_signature(
        parsed, method="GET", path_and_query="/outbox?page=1", headers=headers, public_key=public_key
    )
    with pytest.raises(SignatureInvalidError):
        verify_signature(
            parsed, method="GET", path_and_query="/outbox2?page=1", headers=headers, public_key=public_key
        )


def test_sign__ed25519_announces_hs2019_and_verifies() -> None:
    private_key = ed25519.Ed25519PrivateKey.generate()
    headers = _request()
    parsed = parse_signature_header(sign(private_key, "k", "POST", "/inbox", headers, POST_HEADERS))
    assert parsed.algorithm == "hs2019"
    verify_signature(
        parsed, method="POST", path_and_query="/inbox", headers=headers, public_key=private_key.public_key()
    )
    no_algorithm = CavageSignature(parsed.key_id, None, parsed.headers, parsed.signature)
    verify_signature(
        no_algorithm,
        method="POST",
        path_and_query="/inbox",
        headers=headers,
        public_key=private_key.public_key(),
    )
    claimed_rsa = CavageSignature(parsed.key_id, "rsa-sha256", parsed.headers, parsed.signature)
    with pytest.raises(UnsupportedAlgorithmError, match="rsa-sha256"):
        verify_signature(
            claimed_rsa,
            method="POST",
            path_and_query="/inbox",
            headers=headers,
            public_key=private_key.public_key(),
        )


def test_verify_signature__ec_key_unsupported() -> None:
    public_key = ec.generate_private_key(ec.SECP256R1()).public_key()
    with pytest.raises(UnsupportedAlgorithmError):
        verify_signature(
            _signature(), method="POST", path_and_query="/inbox", headers=_request(), public_key=public_key
        )


def test_lower_headers__mapping_and_pairs() -> None:
    assert lower_headers({"Host": " a.example "}) == {"host": "a.example"}
    assert lower_headers([("Accept", "a"), ("ACCEPT", "b")]) == {"accept": "a, b"}


def test_signing_string__absent_header_and_pseudo_headers() -> None:
    with pytest.raises(SignatureInvalidError, match="'x-missing'"):
        signing_string("GET", "/", {}, ["x-missing"])
    with pytest.raises(SignatureMalformedError):
        signing_string("GET", "/", {}, ["(created)"])
    with pytest.raises(SignatureMalformedError):
        signing_string("GET", "/", {}, ["(expires)"])
