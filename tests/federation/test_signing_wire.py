"""The frames between the signing pool and its child: round trips, and every malformed shape refused."""

from __future__ import annotations

import pytest

from federation.errors import SigningProtocolError
from federation.signing_wire import (
    FAILED,
    FORGET,
    KEY,
    MAX_FRAME,
    OK,
    RESULTS,
    SIGN,
    forget_frame,
    frame,
    key_frame,
    parse_forget,
    parse_key,
    parse_results,
    parse_sign,
    results_frame,
    sign_frame,
    split_frame,
)


def test_round_trips() -> None:
    assert split_frame(key_frame(4, b"der")) == (KEY, b"\x04\x00\x00\x00der")
    assert parse_key(split_frame(key_frame(4, b"der"))[1]) == (4, b"der")
    assert parse_forget(split_frame(forget_frame(70000))[1]) == 70000
    items = [(1, b""), (2, b"x" * 300), (0xFFFFFFFF, b"\x00\n")]
    kind, body = split_frame(sign_frame(0xFFFFFFFF, items))
    assert (kind, parse_sign(body)) == (SIGN, (0xFFFFFFFF, items))
    results = [(OK, b"s" * 256), (FAILED, "pas de clé".encode())]
    kind, body = split_frame(results_frame(3, results))
    assert (kind, parse_results(body)) == (RESULTS, (3, results))
    assert parse_sign(split_frame(sign_frame(0, []))[1]) == (0, [])
    assert split_frame(forget_frame(1))[0] == FORGET


@pytest.mark.parametrize(
    ("parse", "body", "message"),
    [
        (parse_sign, b"\x00\x00\x00", "truncated"),
        (parse_sign, b"\x00\x00\x00\x00\x01\x00\x00\x00", "truncated"),
        (parse_sign, b"\x00\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x09\x00\x00\x00abc", "truncated"),
        (parse_sign, b"\x00\x00\x00\x00\x00\x00\x00\x00extra", "5 bytes after its last item"),
        (parse_results, b"\x00\x00\x00\x00\x01\x00\x00\x00\x07\x00\x00\x00\x00", "unknown status 7"),
        (parse_results, b"\x00\x00\x00\x00\x01\x00\x00\x00\x00\xff\x00\x00\x00", "truncated"),
        (parse_results, b"\x00\x00\x00\x00\x00\x00\x00\x00!", "1 bytes after its last item"),
        (parse_key, b"\x01\x00", "truncated"),
        (parse_forget, b"\x01\x00\x00\x00\x00", "holds 5 bytes"),
    ],
)
def test_malformed_bodies_are_refused(parse: object, body: bytes, message: str) -> None:
    with pytest.raises(SigningProtocolError, match=message):
        parse(body)  # type: ignore[operator]


def test_frames_are_bounded_and_checked_whole() -> None:
    with pytest.raises(SigningProtocolError, match="exceeds"):
        frame(SIGN, b"x" * (MAX_FRAME + 1))
    with pytest.raises(SigningProtocolError, match="no header"):
        split_frame(b"S\x00")
    with pytest.raises(SigningProtocolError, match="announces 9 bytes and holds 1"):
        split_frame(b"S\x09\x00\x00\x00x")
