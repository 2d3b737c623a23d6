"""The signing child's loop, on in-memory streams, and its exit statuses as a real process."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives import serialization

from federation.errors import SigningProtocolError
from federation.keys import sign_bytes
from federation.signing_child import Child
from federation.signing_wire import (
    FAILED,
    HEADER,
    OK,
    forget_frame,
    frame,
    key_frame,
    parse_results,
    sign_frame,
    split_frame,
)
from tests.federation.loopback import rsa_key

RSA = rsa_key("signing-child")
DER = RSA.private_bytes(
    serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
)


def _answers(requests: bytes) -> list[tuple[int, list[tuple[int, bytes]]]]:
    out = io.BytesIO()
    Child(io.BytesIO(requests), out).run()
    data, answers = out.getvalue(), []
    while data:
        _, length = HEADER.unpack_from(data)
        _, body = split_frame(data[: HEADER.size + length])
        answers.append(parse_results(body))
        data = data[HEADER.size + length :]
    return answers


def test_keys_are_kept_used_and_forgotten() -> None:
    requests = (
        key_frame(5, DER)
        + sign_frame(0, [(5, b"one"), (6, b"two")])
        + forget_frame(5)
        + sign_frame(1, [(5, b"three")])
    )
    (batch0, results0), (batch1, results1) = _answers(requests)
    assert (batch0, batch1) == (0, 1)
    assert results0 == [(OK, sign_bytes(RSA, b"one")[0]), (FAILED, b"no key under handle 6")]
    assert results1 == [(FAILED, b"no key under handle 5")]


@pytest.mark.parametrize(
    ("requests", "message"),
    [
        (frame(b"X", b""), "unknown frame kind"),
        (key_frame(1, b"not a key"), "key 1 does not load"),
        (HEADER.pack(b"S", 100) + b"short", "stdin closed after 5 of 100 bytes"),
        (HEADER.pack(b"S", 2**31), "over"),
        (b"S\x01", "stdin closed after 2 of 5 bytes"),
        (sign_frame(0, [(1, b"x")])[:-1] + b"", "stdin closed"),
    ],
)
def test_malformed_input_stops_the_loop(requests: bytes, message: str) -> None:
    with pytest.raises(SigningProtocolError, match=message):
        Child(io.BytesIO(requests), io.BytesIO()).run()


def test_a_key_that_cannot_sign_is_refused() -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    der = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(SigningProtocolError, match="is a ECPrivateKey, which cannot sign"):
        Child(io.BytesIO(key_frame(1, der)), io.BytesIO()).run()


def _run(stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "federation.signing_child"], input=stdin, capture_output=True, timeout=60
    )


def test_as_a_process_it_answers_and_exits_0_when_stdin_closes() -> None:
    done = _run(key_frame(0, DER) + sign_frame(0, [(0, b"data")]))
    assert done.returncode == 0, done.stderr
    _, body = split_frame(done.stdout)
    assert parse_results(body) == (0, [(OK, sign_bytes(RSA, b"data")[0])])
    assert _run(b"").returncode == 0


def test_as_a_process_garbage_exits_2_with_a_message() -> None:
    done = _run(b"hello, world")
    assert done.returncode == 2
    assert b"fedicoop signing process: a b'h' frame announces 1869376613 bytes" in done.stderr
    assert done.stdout == b""
