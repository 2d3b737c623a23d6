"""RFC 9421: the RFC's vectors (exact signature bases, every algorithm), components, parser, policy."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from hypothesis import given
from hypothesis import strategies as st

from federation.digest import make_content_digest
from federation.errors import (
    DigestMismatchError,
    SignatureError,
    SignatureExpiredError,
    SignatureInvalidError,
    SignatureMalformedError,
    UnsupportedAlgorithmError,
)
from federation.keys import load_private_key, load_public_key_pem
from federation.rfc9421 import (
    HttpMessage,
    SignatureInput,
    VerifyingKey,
    check_policy,
    parse_signature_input,
    parse_signatures,
    resolve_algorithm,
    signature_base,
    verify_signature,
)

CONTENT_DIGEST = (
    "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:"
)
TEST_REQUEST = HttpMessage.for_request(
    "POST",
    "https://example.com/foo?param=Value&Pet=dog",
    [
        ("Host", "example.com"),
        ("Date", "Tue, 20 Apr 2021 02:07:55 GMT"),
        ("Content-Type", "application/json"),
        ("Content-Digest", CONTENT_DIGEST),
        ("Content-Length", "18"),
    ],
)
TEST_RESPONSE = HttpMessage.for_response(
    200,
    [
        ("Date", "Tue, 20 Apr 2021 02:07:56 GMT"),
        ("Content-Type", "application/json"),
        (
            "Content-Digest",
            "sha-512=:mEWXIS7MaLRuGgxOBdODa3xqM1XdEvxoYhvlCFJ41QJgJc4GTsPp29l5oGX69wWdXymyU0rjJuahq4l5aGgfLQ==:",
        ),
        ("Content-Length", "23"),
    ],
)
PROXY_REQUEST = HttpMessage.for_request(
    "POST",
    "https://origin.host.internal.example/foo?param=Value&Pet=dog",
    [
        ("Host", "origin.host.internal.example"),
        ("Date", "Tue, 20 Apr 2021 02:07:56 GMT"),
        ("Content-Type", "application/json"),
        ("Content-Length", "18"),
        ("Forwarded", "for=192.0.2.123;host=example.com;proto=https"),
        ("Content-Digest", CONTENT_DIGEST),
    ],
)
MESSAGES = {"sig-b24": TEST_RESPONSE, "proxy_sig": PROXY_REQUEST}
NOW = datetime(2025, 10, 14, 8, 0, tzinfo=UTC)
STAMP = int(NOW.timestamp())
HOSTS = {"velo-fives.example"}


def _verifying_key(vectors: dict[str, Any], key_id: str) -> VerifyingKey:
    entry = vectors["keys"][key_id]
    if "base64" in entry:
        return base64.b64decode(entry["base64"])
    return load_public_key_pem(entry["public_spki_pem"])


def _input(text: str) -> SignatureInput:
    (member,) = parse_signature_input(text).values()
    return member


CASE_LABELS = ["sig-b21", "sig-b22", "sig-b23", "sig-b24", "sig-b25", "sig-b26", "proxy_sig"]


def _case(vectors: dict[str, Any], label: str) -> dict[str, Any]:
    case: dict[str, Any] = next(c for c in vectors["cases"] if c["label"] == label)
    return case


@pytest.mark.parametrize("label", CASE_LABELS)
def test_signature_base__rfc_vectors_exact(rfc9421_vectors: dict[str, Any], label: str) -> None:
    case = _case(rfc9421_vectors, label)
    signature_input = parse_signature_input(case["signature_input"])[label]
    assert signature_base(MESSAGES.get(label, TEST_REQUEST), signature_input) == case["signature_base"]


@pytest.mark.parametrize("label", CASE_LABELS)
def test_verify_signature__rfc_vectors(rfc9421_vectors: dict[str, Any], label: str) -> None:
    case = _case(rfc9421_vectors, label)
    signature_input = parse_signature_input(case["signature_input"])[label]
    signature = parse_signatures(case["signature"])[label]
    assert base64.b64encode(signature).decode() == case["signature_b64"]
    key = _verifying_key(rfc9421_vectors, case["keyid"])
    verify_signature(
        MESSAGES.get(label, TEST_REQUEST), signature_input, signature, key, algorithm=case["alg"]
    )


@pytest.mark.parametrize("label", CASE_LABELS)
def test_verify_signature__rfc_vectors_tampered(rfc9421_vectors: dict[str, Any], label: str) -> None:
    case = _case(rfc9421_vectors, label)
    signature_input = parse_signature_input(case["signature_input"])[label]
    signature = bytearray(parse_signatures(case["signature"])[label])
    signature[5] ^= 0x01
    key = _verifying_key(rfc9421_vectors, case["keyid"])
    with pytest.raises(SignatureInvalidError, match=label):
        verify_signature(
            MESSAGES.get(label, TEST_REQUEST), signature_input, bytes(signature), key, algorithm=case["alg"]
        )


def test_verify_signature__rfc_vectors_with_altered_message(rfc9421_vectors: dict[str, Any]) -> None:
    case = _case(rfc9421_vectors, "sig-b26")
    signature_input = parse_signature_input(case["signature_input"])["sig-b26"]
    signature = parse_signatures(case["signature"])["sig-b26"]
    key = _verifying_key(rfc9421_vectors, "test-key-ed25519")
    pairs = [(name, value) for name, values in TEST_REQUEST.fields.items() for value in values]
    altered = HttpMessage.for_request("PUT", "https://example.com/foo", pairs)
    with pytest.raises(SignatureInvalidError):
        verify_signature(altered, signature_input, signature, key)


@pytest.mark.parametrize("label", ["sig-b25", "sig-b26", "proxy_sig"])
def test_signature_base__deterministic_resign(rfc9421_vectors: dict[str, Any], label: str) -> None:
    """Signing our base with the RFC's private key gives the RFC's bytes (deterministic algorithms)."""
    case = _case(rfc9421_vectors, label)
    base = signature_base(
        MESSAGES.get(label, TEST_REQUEST), parse_signature_input(case["signature_input"])[label]
    ).encode()
    entry = rfc9421_vectors["keys"][case["keyid"]]
    if label == "sig-b25":
        produced = hmac.new(base64.b64decode(entry["base64"]), base, hashlib.sha256).digest()
    else:
        pem = entry["pem"]
        private_key = load_private_key(pem[pem.index("-----BEGIN", 1) :])
        if isinstance(private_key, rsa.RSAPrivateKey):
            produced = private_key.sign(base, padding.PKCS1v15(), hashes.SHA256())
        else:
            produced = private_key.sign(base)
    assert base64.b64encode(produced).decode() == case["signature_b64"]


def test_signature_base__section_2_5_example(rfc9421_extra: dict[str, Any]) -> None:
    example = rfc9421_extra["section_2_5"]
    message = HttpMessage.for_request(
        example["method"], example["url"], [tuple(h) for h in example["headers"]]
    )
    assert signature_base(message, _input(example["signature_input"])) == example["signature_base"]


def test_verify_signature__b3_tls_terminating_proxy(
    rfc9421_vectors: dict[str, Any], rfc9421_extra: dict[str, Any]
) -> None:
    example = rfc9421_extra["b3_ttrp"]
    message = HttpMessage.for_request(
        example["method"], example["url"], [tuple(h) for h in example["headers"]]
    )
    signature_input = _input(example["signature_input"])
    assert signature_base(message, signature_input) == example["signature_base"]
    key = _verifying_key(rfc9421_vectors, example["keyid"])
    verify_signature(message, signature_input, parse_signatures(example["signature"])["ttrp"], key)


@pytest.mark.parametrize("index", range(6))
def test_verify_signature__b4_transformations(
    rfc9421_vectors: dict[str, Any], rfc9421_extra: dict[str, Any], index: int
) -> None:
    example = rfc9421_extra["b4_transform"]
    case = example["messages"][index]
    message = HttpMessage.for_request(case["method"], case["url"], [tuple(h) for h in case["headers"]])
    signature_input = _input(example["signature_input"])
    signature = parse_signatures(example["signature"])["transform"]
    key = _verifying_key(rfc9421_vectors, example["keyid"])
    if case["valid"]:
        assert signature_base(message, signature_input) == example["signature_base"]
        verify_signature(message, signature_input, signature, key)
    else:
        with pytest.raises(SignatureInvalidError):
            verify_signature(message, signature_input, signature, key)


# --- components -------------------------------------------------------------------------------


def _base_line(message: HttpMessage, component: str) -> str:
    return signature_base(message, _input(f"s=({component})")).split("\n")[0]


@pytest.mark.parametrize(
    ("url", "component", "line"),
    [
        ("https://www.example.com/path?param=value", '"@method"', '"@method": POST'),
        (
            "https://www.example.com/path?param=value",
            '"@target-uri"',
            '"@target-uri": https://www.example.com/path?param=value',
        ),
        ("https://WWW.Example.com:443/path", '"@authority"', '"@authority": www.example.com'),
        ("https://www.example.com:8443/path", '"@authority"', '"@authority": www.example.com:8443'),
        ("http://www.example.com:80/path", '"@authority"', '"@authority": www.example.com'),
        ("https://[2001:db8::1]:443/", '"@authority"', '"@authority": [2001:db8::1]'),
        ("HTTPS://www.example.com/", '"@scheme"', '"@scheme": https'),
        (
            "https://www.example.com/path?param=value",
            '"@request-target"',
            '"@request-target": /path?param=value',
        ),
        ("https://www.example.com/path", '"@request-target"', '"@request-target": /path'),
        ("https://www.example.com", '"@path"', '"@path": /'),
        ("https://www.example.com/a%20b", '"@path"', '"@path": /a%20b'),
        (
            "https://www.example.com/path?param=value&foo=bar&baz=bat%2Dman",
            '"@query"',
            '"@query": ?param=value&foo=bar&baz=bat%2Dman',
        ),
        ("https://www.example.com/path", '"@query"', '"@query": ?'),
        (
            "https://www.example.com/path?param=value&foo=bar&baz=batman&qux=",
            '"@query-param";name="baz"',
            '"@query-param";name="baz": batman',
        ),
        (
            "https://www.example.com/path?param=value&foo=bar&baz=batman&qux=",
            '"@query-param";name="qux"',
            '"@query-param";name="qux": ',
        ),
        (
            "https://www.example.com/p?var=this%20is%20a%20big%0Avalue",
            '"@query-param";name="var"',
            '"@query-param";name="var": this%20is%20a%20big%0Avalue',
        ),
        (
            "https://www.example.com/p?bar=with+plus+whitespace",
            '"@query-param";name="bar"',
            '"@query-param";name="bar": with%20plus%20whitespace',
        ),
        (
            "https://www.example.com/p?fa%C3%A7ade%22%3A%20=something",
            '"@query-param";name="fa%C3%A7ade%22%3A%20"',
            '"@query-param";name="fa%C3%A7ade%22%3A%20": something',
        ),
    ],
)
def test_signature_base__derived_components(url: str, component: str, line: str) -> None:
    assert _base_line(HttpMessage.for_request("POST", url, []), component) == line


def test_signature_base__status_and_req() -> None:
    request = HttpMessage.for_request(
        "POST", "https://example.com/foo", [("Content-Type", "application/json")]
    )
    response = HttpMessage.for_response(503, [("Retry-After", "120")], request=request)
    base = signature_base(
        response, _input('s=("@status" "retry-after" "@method";req "content-type";req);keyid="k"')
    )
    assert base.split("\n") == [
        '"@status": 503',
        '"retry-after": 120',
        '"@method";req: POST',
        '"content-type";req: application/json',
        '"@signature-params": ("@status" "retry-after" "@method";req "content-type";req);keyid="k"',
    ]


def test_signature_base__field_values_and_parameters() -> None:
    message = HttpMessage.for_request(
        "GET",
        "https://example.com/",
        [
            ("Example-Dict", " a=1,    b=2;x=1;y=2,   c=(a   b   c)"),
            ("Example-Dict", "d"),
            ("Example-Header", "value, with, lots"),
            ("Example-Header", "of, commas"),
            ("Cache-Control", "max-age=60"),
            ("Cache-Control", "   must-revalidate"),
            ("X-Empty-Header", ""),
        ],
    )
    assert _base_line(message, '"example-dict"') == '"example-dict": a=1,    b=2;x=1;y=2,   c=(a   b   c), d'
    assert _base_line(message, '"example-dict";sf') == '"example-dict";sf: a=1, b=2;x=1;y=2, c=(a b c), d'
    assert _base_line(message, '"example-dict";key="a"') == '"example-dict";key="a": 1'
    assert _base_line(message, '"example-dict";key="b"') == '"example-dict";key="b": 2;x=1;y=2'
    assert _base_line(message, '"example-dict";key="c"') == '"example-dict";key="c": (a b c)'
    assert _base_line(message, '"example-dict";key="d"') == '"example-dict";key="d": ?1'
    assert _base_line(message, '"cache-control"') == '"cache-control": max-age=60, must-revalidate'
    assert _base_line(message, '"x-empty-header"') == '"x-empty-header": '
    lines = ", ".join(
        ":" + base64.b64encode(v.encode()).decode() + ":" for v in ["value, with, lots", "of, commas"]
    )
    assert _base_line(message, '"example-header";bs') == f'"example-header";bs: {lines}'


@pytest.mark.parametrize(
    ("components", "error", "message"),
    [
        ('"@method" "@method"', SignatureMalformedError, "covered twice"),
        ('"@nonsense"', SignatureMalformedError, "unknown derived component"),
        ('"@signature-params"', SignatureMalformedError, "cannot be a covered component"),
        ('"@status"', SignatureMalformedError, "only defined for responses"),
        ('"@method";name="x"', SignatureMalformedError, "unsupported parameter"),
        ('"@query-param"', SignatureMalformedError, "name parameter"),
        ('"@query-param";name="missing"', SignatureInvalidError, "occurs 0 times"),
        ('"@query-param";name="dup"', SignatureInvalidError, "occurs 2 times"),
        ('"x-missing"', SignatureInvalidError, "absent"),
        ('"host";weird', SignatureMalformedError, "unknown parameters"),
        ('"host";tr', SignatureMalformedError, "trailer"),
        ('"host";bs;sf', SignatureMalformedError, "mixes bs"),
        ('"x-custom";sf', SignatureMalformedError, "not a known structured field"),
        ('"example-dict";key="zz"', SignatureInvalidError, "no member"),
        ('"bad-dict";key="a"', SignatureInvalidError, "not a valid dictionary"),
        ('"@method";req', SignatureMalformedError, "related request"),
        ('"x-latin"', SignatureMalformedError, "non-ASCII"),
    ],
)
def test_signature_base__errors(components: str, error: type[SignatureError], message: str) -> None:
    message_ = HttpMessage.for_request(
        "GET",
        "https://example.com/?dup=1&dup=2",
        [
            ("Host", "example.com"),
            ("X-Custom", "1"),
            ("Example-Dict", "a=1"),
            ("Bad-Dict", "=="),
            ("X-Latin", "café"),
        ],
    )
    with pytest.raises(error, match=message):
        signature_base(message_, _input(f"s=({components})"))


# --- parsing ----------------------------------------------------------------------------------


def test_parse_signature_input__members_in_order() -> None:
    inputs = parse_signature_input('b=("@method");created=1;keyid="k", a=();alg="ed25519"')
    assert list(inputs) == ["b", "a"]
    assert inputs["b"].created == 1
    assert inputs["b"].keyid == "k"
    assert inputs["a"].alg == "ed25519"
    assert inputs["a"].components == ()
    assert inputs["a"].serialized_params() == '();alg="ed25519"'


@pytest.mark.parametrize(
    "value", ["", "not a dict", "sig=:AAAA:", "sig=1", "sig=(1 2)", 'sig=("@method")x', "ŝig=()"]
)
def test_parse_signature_input__refusals(value: str) -> None:
    with pytest.raises(SignatureMalformedError):
        parse_signature_input(value)


@pytest.mark.parametrize(
    ("parameter", "name"),
    [('created="1"', "created"), ("keyid=1", "keyid"), ("expires=?1", "expires"), ("alg=1", "alg")],
)
def test_signature_input__typed_parameters(parameter: str, name: str) -> None:
    signature_input = _input(f"s=();{parameter}")
    with pytest.raises(SignatureMalformedError, match=name):
        getattr(signature_input, name)


@pytest.mark.parametrize("value", ["", "sig=(1)", 'sig="text"', "sig", "sig=:AAAA"])
def test_parse_signatures__refusals(value: str) -> None:
    with pytest.raises(SignatureMalformedError):
        parse_signatures(value)


@given(st.text(max_size=100))
def test_parsers__only_typed_errors(value: str) -> None:
    for parser in (parse_signature_input, parse_signatures):
        try:
            parser(value)
        except SignatureMalformedError:
            pass


# --- algorithms -------------------------------------------------------------------------------


def test_resolve_algorithm__key_type_decides() -> None:
    bare = _input("s=()")
    assert resolve_algorithm(bare, b"secret") == "hmac-sha256"
    assert resolve_algorithm(bare, ed25519.Ed25519PrivateKey.generate().public_key()) == "ed25519"
    assert resolve_algorithm(bare, rsa.generate_private_key(65537, 2048).public_key()) == "rsa-v1_5-sha256"
    assert (
        resolve_algorithm(bare, ec.generate_private_key(ec.SECP256R1()).public_key()) == "ecdsa-p256-sha256"
    )
    assert resolve_algorithm(bare, b"secret", "rsa-pss-sha512") == "rsa-pss-sha512"
    assert resolve_algorithm(_input('s=();alg="ed25519"'), b"secret") == "ed25519"


def test_resolve_algorithm__conflicts_and_unknown() -> None:
    with pytest.raises(UnsupportedAlgorithmError, match="differs"):
        resolve_algorithm(_input('s=();alg="ed25519"'), b"x", "hmac-sha256")
    with pytest.raises(UnsupportedAlgorithmError, match="ecdsa-p384-sha384"):
        resolve_algorithm(_input('s=();alg="ecdsa-p384-sha384"'), b"x")


def test_verify_signature__key_algorithm_mismatch(
    rfc9421_vectors: dict[str, Any], cavage_vectors: dict[str, Any]
) -> None:
    case = _case(rfc9421_vectors, "sig-b26")
    signature_input = parse_signature_input(case["signature_input"])["sig-b26"]
    signature = parse_signatures(case["signature"])["sig-b26"]
    rsa_key = _verifying_key(rfc9421_vectors, "test-key-rsa")
    with pytest.raises(UnsupportedAlgorithmError, match="cannot be used"):
        verify_signature(TEST_REQUEST, signature_input, signature, rsa_key, algorithm="ed25519")
    weak = load_public_key_pem(cavage_vectors["public_key_pem"], min_rsa_bits=1024)
    with pytest.raises(UnsupportedAlgorithmError, match="1024 bits"):
        verify_signature(TEST_REQUEST, signature_input, signature, weak)


def test_verify_signature__ecdsa_wrong_length(rfc9421_vectors: dict[str, Any]) -> None:
    case = _case(rfc9421_vectors, "sig-b24")
    signature_input = parse_signature_input(case["signature_input"])["sig-b24"]
    key = _verifying_key(rfc9421_vectors, "test-key-ecc-p256")
    with pytest.raises(SignatureInvalidError):
        verify_signature(TEST_RESPONSE, signature_input, b"\x01" * 63, key)


# --- policy -----------------------------------------------------------------------------------


def _signed(
    components: str,
    *,
    params: str | None = None,
    url: str = "https://velo-fives.example/inbox",
    body: bytes = b'{"type": "Follow"}',
    headers: list[tuple[str, str]] | None = None,
) -> tuple[HttpMessage, SignatureInput]:
    fields = (
        headers
        if headers is not None
        else [
            ("Host", "velo-fives.example"),
            ("Content-Type", "application/activity+json"),
            ("Content-Digest", make_content_digest(body)),
        ]
    )
    extra = params if params is not None else f'created={STAMP};keyid="https://a.example/u#k"'
    return HttpMessage.for_request("POST", url, fields), _input(f"s=({components});{extra}")


FULL = '"@method" "@target-uri" "content-digest"'


def _check(
    message: HttpMessage, signature_input: SignatureInput, body: bytes = b'{"type": "Follow"}', **kw: Any
) -> None:
    check_policy(message, signature_input, body, now=kw.pop("now", NOW), hosts=HOSTS, **kw)


def test_check_policy__accepts() -> None:
    _check(*_signed(FULL))
    _check(*_signed('"@method" "@authority" "@path" "content-digest"'))
    _check(
        *_signed(
            '"@method" "@authority" "@path" "@query" "content-digest"',
            url="https://velo-fives.example/inbox?x=1",
        )
    )
    _check(*_signed('"@method" "@target-uri" "content-digest";sf'))
    _check(*_signed('"@method" "@target-uri"'), b"")
    _check(*_signed(FULL, url="https://velo-fives.example:443/inbox"))


@pytest.mark.parametrize(
    ("components", "url", "message"),
    [
        ('"@target-uri" "content-digest"', "https://velo-fives.example/inbox", "@method"),
        ('"@method" "content-digest"', "https://velo-fives.example/inbox", "@authority, @path"),
        ('"@method" "@authority" "content-digest"', "https://velo-fives.example/inbox", "@path"),
        ('"@method" "@authority" "@path" "content-digest"', "https://velo-fives.example/inbox?x=1", "@query"),
        ('"@method";req "@target-uri" "content-digest"', "https://velo-fives.example/inbox", "@method"),
    ],
)
def test_check_policy__coverage(components: str, url: str, message: str) -> None:
    with pytest.raises(SignatureInvalidError, match=message):
        _check(*_signed(components, url=url))


def test_check_policy__parameters() -> None:
    with pytest.raises(SignatureMalformedError, match="keyid"):
        _check(*_signed(FULL, params=f"created={STAMP}"))
    with pytest.raises(SignatureMalformedError, match="created"):
        _check(*_signed(FULL, params='keyid="k"'))
    with pytest.raises(SignatureExpiredError, match="created"):
        _check(*_signed(FULL, params=f'created={STAMP - 3601};keyid="k"'))
    with pytest.raises(SignatureExpiredError, match="created"):
        _check(*_signed(FULL, params=f'created={STAMP + 3601};keyid="k"'))
    _check(*_signed(FULL, params=f'created={STAMP - 3600};keyid="k";expires={STAMP}'))
    with pytest.raises(SignatureExpiredError, match="expired"):
        _check(*_signed(FULL, params=f'created={STAMP - 60};keyid="k";expires={STAMP - 1}'))
    with pytest.raises(SignatureExpiredError):
        _check(*_signed(FULL), now=NOW + timedelta(minutes=10), max_skew=timedelta(minutes=5))


@pytest.mark.parametrize("alg", ["rsa-pss-sha512", "hmac-sha256", "ecdsa-p256-sha256", "nonsense"])
def test_check_policy__algorithms_outside_the_accepted_set(alg: str) -> None:
    with pytest.raises(UnsupportedAlgorithmError, match=alg):
        _check(*_signed(FULL, params=f'created={STAMP};keyid="k";alg="{alg}"'))
    _check(*_signed(FULL, params=f'created={STAMP};keyid="k";alg="{alg}"'), accepted_algorithms={alg})


def test_check_policy__host_not_ours() -> None:
    with pytest.raises(SignatureInvalidError, match="not one of our hosts"):
        _check(*_signed(FULL, url="https://mastodon.example/inbox"))
    with pytest.raises(SignatureInvalidError, match="not one of our hosts"):
        _check(*_signed(FULL, url="https://velo-fives.example:8443/inbox"))
    with pytest.raises(SignatureInvalidError, match="not a valid host"):
        _check(*_signed(FULL, url="https://bad_host/inbox"))


def test_check_policy__content_digest() -> None:
    with pytest.raises(DigestMismatchError, match="must cover content-digest"):
        _check(*_signed('"@method" "@target-uri"'))
    with pytest.raises(DigestMismatchError, match="sha-256 mismatch"):
        _check(*_signed(FULL), b"tampered")
    message, signature_input = _signed(FULL, headers=[("Host", "velo-fives.example")])
    with pytest.raises(DigestMismatchError, match="missing"):
        _check(message, signature_input)


def test_check_policy__responses_are_not_inbound_requests() -> None:
    with pytest.raises(SignatureMalformedError, match="requests only"):
        _check(TEST_RESPONSE, _input(f's=("@status");created={STAMP};keyid="k"'))


def test_check_policy__rfc_vector_is_cryptographically_fine_but_refused(
    rfc9421_vectors: dict[str, Any],
) -> None:
    """B.2.6 verifies, yet our policy refuses it: 2021 is outside the window and the host is not ours."""
    case = _case(rfc9421_vectors, "sig-b26")
    signature_input = parse_signature_input(case["signature_input"])["sig-b26"]
    with pytest.raises(SignatureError):
        check_policy(TEST_REQUEST, signature_input, b'{"hello": "world"}', now=NOW, hosts={"example.com"})
    created = datetime.fromtimestamp(1618884473, UTC)
    with pytest.raises(SignatureInvalidError, match="@query"):
        check_policy(TEST_REQUEST, signature_input, b'{"hello": "world"}', now=created, hosts={"example.com"})
