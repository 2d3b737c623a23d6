"""Tests of ``fedicoop.territory.wkb``: both byte orders, polygons and multipolygons, broken input."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fedicoop.territory.wkb import WkbError, read_point, read_rings

SQUARE = [0.0, 0.0, 4.0, 0.0, 4.0, 4.0, 0.0, 4.0, 0.0, 0.0]
HOLE = [1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0]


def _polygon(order: str, rings: list[list[float]], *, header: bool = True) -> bytes:
    mark = b"\x01" if order == "<" else b"\x00"
    body = struct.pack(f"{order}I", len(rings))
    for ring in rings:
        body += struct.pack(f"{order}I{len(ring)}d", len(ring) // 2, *ring)
    return (mark + struct.pack(f"{order}I", 3) if header else b"") + body


def _multipolygon(order: str, polygons: list[list[list[float]]]) -> bytes:
    mark = b"\x01" if order == "<" else b"\x00"
    return mark + struct.pack(f"{order}II", 6, len(polygons)) + b"".join(_polygon(order, p) for p in polygons)


@pytest.mark.parametrize("order", ["<", ">"])
def test_read_rings__polygon_with_hole(order: str) -> None:
    rings = read_rings(_polygon(order, [SQUARE, HOLE]).hex())
    assert [list(ring) for ring in rings] == [SQUARE, HOLE]


@pytest.mark.parametrize("order", ["<", ">"])
def test_read_rings__multipolygon(order: str) -> None:
    far = [value + 10.0 for value in SQUARE]
    rings = read_rings(_multipolygon(order, [[SQUARE, HOLE], [far]]).hex().upper())
    assert [list(ring) for ring in rings] == [SQUARE, HOLE, far]


@pytest.mark.parametrize("order", ["<", ">"])
def test_read_point(order: str) -> None:
    mark = b"\x01" if order == "<" else b"\x00"
    assert read_point((mark + struct.pack(f"{order}Idd", 1, 3.07086, 50.630888)).hex()) == (
        3.07086,
        50.630888,
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("zz", "not hexadecimal"),
        ("", "truncated at byte 0"),
        ("02", "byte-order mark must be 0 or 1"),
        ("0101000000", "geometry type 1 is not one of"),
        (_polygon("<", [SQUARE])[:-8].hex(), "truncated: 10 doubles"),
        (_polygon("<", [SQUARE[:6]]).hex(), "has 3 points, a closed ring needs 4"),
        (_polygon("<", [SQUARE])[:7].hex(), "truncated at byte 5"),
    ],
)
def test_read_rings__broken(text: str, message: str) -> None:
    with pytest.raises(WkbError, match=message):
        read_rings(text)


def test_read_point__polygon_is_refused() -> None:
    with pytest.raises(WkbError, match="geometry type 3 is not one of"):
        read_point(_polygon("<", [SQUARE]).hex())


@given(st.binary(max_size=200))
def test_read_rings__never_crashes_otherwise(data: bytes) -> None:
    try:
        rings = read_rings(data.hex())
    except WkbError:
        return
    assert all(len(ring) % 2 == 0 and len(ring) >= 8 for ring in rings)
