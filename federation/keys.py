"""Key material: RSA generation, PEM and Multikey parsing, keyId parsing.

Actors sign with RSA-2048 keys published as SubjectPublicKeyInfo PEM (wire-format §3.1); peers may
also publish Ed25519 keys, either as PEM or as FEP-521a ``Multikey`` objects whose
``publicKeyMultibase`` is a base58btc multibase string of a multicodec-prefixed key. Everything here is
pure: no I/O, no clock. Loading a public key refuses RSA keys below ``min_rsa_bits`` (2048 unless a
test lowers it explicitly for the 1024-bit draft-cavage vectors).
"""

from __future__ import annotations

from typing import NamedTuple, TypeAlias
from urllib.parse import urlsplit

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from federation.errors import KeyFormatError, SigningFailedError

__all__ = [
    "DEFAULT_MIN_RSA_BITS",
    "PemKeyPair",
    "PrivateKey",
    "PublicKey",
    "check_key_strength",
    "ed25519_to_multibase",
    "generate_rsa_keypair",
    "load_private_key",
    "load_public_key_multibase",
    "load_public_key_pem",
    "parse_key_id",
    "private_key_to_pem",
    "public_key_to_pem",
    "sign_bytes",
    "signature_algorithm",
]

PublicKey: TypeAlias = rsa.RSAPublicKey | ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey
"""A public key we can verify with (EC keys only for RFC 9421 ``ecdsa-p256-sha256``)."""

PrivateKey: TypeAlias = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
"""A private key we can sign with."""

DEFAULT_MIN_RSA_BITS = 2048
"""The smallest RSA modulus accepted unless a caller lowers it explicitly."""

_RSA_PUBLIC_EXPONENT = 65537
_BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_INDEX = {char: index for index, char in enumerate(_BASE58_ALPHABET)}
_MULTICODEC_ED25519_PUB = b"\xed\x01"
_MULTICODEC_RSA_PUB = b"\x85\x24"
_ED25519_KEY_LENGTH = 32


class PemKeyPair(NamedTuple):
    """A freshly generated key pair as PEM text: PKCS#8 private half, SubjectPublicKeyInfo public half."""

    private_pem: str
    public_pem: str


def generate_rsa_keypair(bits: int = DEFAULT_MIN_RSA_BITS) -> PemKeyPair:
    """Generate an RSA key pair (public exponent 65537) and return it as unencrypted PEM strings.

    The private half is PKCS#8 (``BEGIN PRIVATE KEY``) and the public half SubjectPublicKeyInfo
    (``BEGIN PUBLIC KEY``), the form ActivityPub actors publish in ``publicKeyPem``. Sizes below
    :data:`DEFAULT_MIN_RSA_BITS` are refused with :class:`KeyFormatError`.
    """
    if bits < DEFAULT_MIN_RSA_BITS:
        raise KeyFormatError(f"refusing to generate an RSA key of {bits} bits; at least 2048 required")
    private_key = rsa.generate_private_key(public_exponent=_RSA_PUBLIC_EXPONENT, key_size=bits)
    return PemKeyPair(private_key_to_pem(private_key), public_key_to_pem(private_key.public_key()))


def private_key_to_pem(key: PrivateKey) -> str:
    """Serialise a private key as unencrypted PKCS#8 PEM text."""
    return key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    ).decode("ascii")


def public_key_to_pem(key: PublicKey) -> str:
    """Serialise a public key as SubjectPublicKeyInfo PEM text (``BEGIN PUBLIC KEY``)."""
    return key.public_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PublicFormat.SubjectPublicKeyInfo,
    ).decode("ascii")


def load_private_key(pem: str | bytes) -> PrivateKey:
    """Load an unencrypted RSA or Ed25519 private key from PEM (PKCS#8 or traditional PKCS#1).

    Raises :class:`KeyFormatError` when the text is not a PEM private key, is encrypted, or holds
    another key type.
    """
    data = pem.encode("ascii", "replace") if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyFormatError(f"private key does not parse as an unencrypted PEM key: {exc}") from exc
    if isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        return key
    raise KeyFormatError(f"private key type {type(key).__name__} is not supported; expected RSA or Ed25519")


def check_key_strength(key: PublicKey, min_rsa_bits: int = DEFAULT_MIN_RSA_BITS) -> None:
    """Raise :class:`KeyFormatError` if ``key`` is an RSA key shorter than ``min_rsa_bits`` bits.

    Ed25519 and P-256 keys have a fixed strength and always pass.
    """
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < min_rsa_bits:
        raise KeyFormatError(f"RSA key has {key.key_size} bits; at least {min_rsa_bits} required")


def load_public_key_pem(pem: str | bytes, *, min_rsa_bits: int = DEFAULT_MIN_RSA_BITS) -> PublicKey:
    """Load an RSA, Ed25519 or P-256 public key from PEM (SubjectPublicKeyInfo or PKCS#1 RSA).

    Raises :class:`KeyFormatError` when the text does not parse, holds an unsupported key type
    or curve, or is an RSA key shorter than ``min_rsa_bits``.
    """
    data = pem.encode("ascii", "replace") if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyFormatError(f"public key does not parse as PEM: {exc}") from exc
    checked = _supported_public_key(key)
    check_key_strength(checked, min_rsa_bits)
    return checked


def _supported_public_key(key: object) -> PublicKey:
    if isinstance(key, rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
        return key
    if isinstance(key, ec.EllipticCurvePublicKey):
        if isinstance(key.curve, ec.SECP256R1):
            return key
        raise KeyFormatError(f"EC public key on curve {key.curve.name} is not supported; expected P-256")
    raise KeyFormatError(f"public key type {type(key).__name__} is not supported")


def _base58_decode(text: str) -> bytes:
    number = 0
    for char in text:
        digit = _BASE58_INDEX.get(char)
        if digit is None:
            raise KeyFormatError(f"character {char!r} is not base58btc")
        number = number * 58 + digit
    leading_zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\x00" * leading_zeros + body


def _base58_encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    chars: list[str] = []
    while number:
        number, digit = divmod(number, 58)
        chars.append(_BASE58_ALPHABET[digit])
    leading_zeros = len(data) - len(data.lstrip(b"\x00"))
    return "1" * leading_zeros + "".join(reversed(chars))


def load_public_key_multibase(
    value: str, *, min_rsa_bits: int = DEFAULT_MIN_RSA_BITS
) -> ed25519.Ed25519PublicKey | rsa.RSAPublicKey:
    """Load a FEP-521a ``publicKeyMultibase`` value: ``z`` + base58btc(multicodec prefix + key).

    The ``ed25519-pub`` multicodec (``0xed``) carries the 32 raw key bytes; ``rsa-pub`` (``0x1205``)
    carries a DER PKCS#1 RSA key, which must have at least ``min_rsa_bits`` bits. Any other multibase
    or multicodec raises :class:`KeyFormatError`.
    """
    if not value.startswith("z"):
        raise KeyFormatError(f"publicKeyMultibase must be base58btc ('z' prefix), got {value[:1]!r}")
    data = _base58_decode(value[1:])
    if data.startswith(_MULTICODEC_ED25519_PUB):
        raw = data[len(_MULTICODEC_ED25519_PUB) :]
        if len(raw) != _ED25519_KEY_LENGTH:
            raise KeyFormatError(f"ed25519-pub multikey holds {len(raw)} bytes, expected 32")
        return ed25519.Ed25519PublicKey.from_public_bytes(raw)
    if data.startswith(_MULTICODEC_RSA_PUB):
        try:
            key = serialization.load_der_public_key(data[len(_MULTICODEC_RSA_PUB) :])
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise KeyFormatError(f"rsa-pub multikey does not parse as DER: {exc}") from exc
        if not isinstance(key, rsa.RSAPublicKey):
            raise KeyFormatError("rsa-pub multikey does not hold an RSA key")
        check_key_strength(key, min_rsa_bits)
        return key
    raise KeyFormatError(f"unsupported multicodec prefix {data[:2].hex()!r}; expected ed25519-pub")


def ed25519_to_multibase(key: ed25519.Ed25519PublicKey) -> str:
    """Encode an Ed25519 public key as a FEP-521a ``publicKeyMultibase`` value (``z6Mk…``)."""
    raw = key.public_bytes(encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw)
    return "z" + _base58_encode(_MULTICODEC_ED25519_PUB + raw)


def parse_key_id(key_id: str) -> tuple[str, str | None]:
    """Split a keyId into the URL of the document to fetch and its fragment (``None`` when absent).

    ``https://a.example/actors/x#main-key`` gives ``("https://a.example/actors/x", "main-key")``;
    GoToSocial's path style ``https://a.example/users/x/main-key`` gives the URL itself and ``None``.
    Only absolute http(s) URLs are keyIds; anything else raises :class:`KeyFormatError`.

    >>> parse_key_id("https://a.example/actors/x#main-key")
    ('https://a.example/actors/x', 'main-key')
    >>> parse_key_id("https://a.example/users/x/main-key")
    ('https://a.example/users/x/main-key', None)
    """
    parts = urlsplit(key_id)
    if parts.scheme.lower() not in ("https", "http") or not parts.netloc or any(c.isspace() for c in key_id):
        raise KeyFormatError(f"keyId must be an absolute http(s) URL, got {key_id!r}")
    document, hash_mark, fragment = key_id.partition("#")
    if not hash_mark:
        return document, None
    if not fragment:
        raise KeyFormatError(f"keyId {key_id!r} has an empty fragment")
    return document, fragment


def signature_algorithm(private_key: PrivateKey) -> str:
    """The draft-cavage algorithm name announced for ``private_key``'s signatures.

    Raises SigningFailedError for a key type we do not sign with.
    """
    if isinstance(private_key, rsa.RSAPrivateKey):
        return "rsa-sha256"
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        return "hs2019"
    raise SigningFailedError(f"a {type(private_key).__name__} cannot sign HTTP requests here")


def sign_bytes(private_key: PrivateKey, data: bytes) -> tuple[bytes, str]:
    """Sign ``data``; return the signature and the algorithm name announced for it.

    RSA keys sign with RSASSA-PKCS1-v1_5/SHA-256 (``rsa-sha256``), Ed25519 keys announce ``hs2019``.
    """
    algorithm = signature_algorithm(private_key)
    if isinstance(private_key, rsa.RSAPrivateKey):
        return private_key.sign(data, padding.PKCS1v15(), hashes.SHA256()), algorithm
    return private_key.sign(data), algorithm
