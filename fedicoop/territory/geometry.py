"""Plane and sphere geometry on commune outlines: great-circle distance, point in rings, disc overlap.

Outlines are flat arrays ``x0, y0, x1, y1, …`` (longitude, latitude in degrees) and a ring is the slice
``[start, end)`` of such an array, first point repeated last. A point is inside a set of rings when it
crosses an odd number of them (even-odd rule), which handles holes and multipolygons alike. Distances
to edges are measured in a local equirectangular projection around the point, accurate to well under
1 % over the few kilometres of a commune; the great-circle distance uses the haversine formula.

>>> round(distance_m(50.630888, 3.07086, 50.690, 3.181))
10172
>>> from array import array
>>> square = array("d", [0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0])
>>> in_ring(square, 0, 10, 0.5, 0.5), in_ring(square, 0, 10, 1.5, 0.5)
(True, False)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = [
    "EARTH_RADIUS_M",
    "METRES_PER_DEGREE",
    "disc_touches_ring",
    "distance_m",
    "farthest_m",
    "in_ring",
    "interior_point",
]

EARTH_RADIUS_M = 6_371_008.8
"""Mean radius of the Earth (IUGG), in metres."""

METRES_PER_DEGREE = math.pi * EARTH_RADIUS_M / 180.0
"""Length of one degree of latitude (and of longitude at the equator), in metres."""


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two WGS 84 points given in degrees (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2.0
    half_dlambda = math.radians(lon2 - lon1) / 2.0
    a = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    return 2.0 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def in_ring(coords: Sequence[float], start: int, end: int, x: float, y: float) -> bool:
    """Whether a horizontal ray from ``(x, y)`` crosses the ring ``coords[start:end]`` an odd number of
    times (the point is inside that ring)."""
    inside = False
    x1, y1 = coords[end - 2], coords[end - 1]
    for index in range(start, end, 2):
        x2, y2 = coords[index], coords[index + 1]
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
        x1, y1 = x2, y2
    return inside


def disc_touches_ring(
    coords: Sequence[float], start: int, end: int, lat: float, lon: float, radius_m: float
) -> bool:
    """Whether some edge of the ring passes within ``radius_m`` metres of the point ``(lat, lon)``."""
    kx = math.cos(math.radians(lat)) * METRES_PER_DEGREE
    ky = METRES_PER_DEGREE
    limit = radius_m * radius_m
    ax, ay = (coords[end - 2] - lon) * kx, (coords[end - 1] - lat) * ky
    for index in range(start, end, 2):
        bx, by = (coords[index] - lon) * kx, (coords[index + 1] - lat) * ky
        dx, dy = bx - ax, by - ay
        length = dx * dx + dy * dy
        t = 0.0 if length == 0.0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / length))
        px, py = ax + t * dx, ay + t * dy
        if px * px + py * py <= limit:
            return True
        ax, ay = bx, by
    return False


def farthest_m(coords: Sequence[float], start: int, end: int, lat: float, lon: float) -> float:
    """Great-circle distance in metres from ``(lat, lon)`` to the farthest vertex of ``coords[start:end]``."""
    farthest = 0.0
    for index in range(start, end, 2):
        farthest = max(farthest, distance_m(lat, lon, coords[index + 1], coords[index]))
    return farthest


def interior_point(coords: Sequence[float], rings: Sequence[tuple[int, int]]) -> tuple[float, float]:
    """A point ``(x, y)`` inside the rings: the middle of the widest inside stretch of the horizontal line
    through the middle of the largest ring's bounding box (the first vertex for a degenerate outline)."""
    best_start, best_end = max(rings, key=lambda ring: _box_area(coords, *ring))
    ys = coords[best_start + 1 : best_end : 2]
    y = (min(ys) + max(ys)) / 2.0
    crossings: list[float] = []
    for start, end in rings:
        x1, y1 = coords[end - 2], coords[end - 1]
        for index in range(start, end, 2):
            x2, y2 = coords[index], coords[index + 1]
            if (y1 > y) != (y2 > y):
                crossings.append(x1 + (y - y1) * (x2 - x1) / (y2 - y1))
            x1, y1 = x2, y2
    crossings.sort()
    stretches = [(crossings[i], crossings[i + 1]) for i in range(0, len(crossings) - 1, 2)]
    if not stretches:
        return coords[best_start], coords[best_start + 1]
    left, right = max(stretches, key=lambda stretch: stretch[1] - stretch[0])
    return (left + right) / 2.0, y


def _box_area(coords: Sequence[float], start: int, end: int) -> float:
    xs, ys = coords[start:end:2], coords[start + 1 : end : 2]
    return (max(xs) - min(xs)) * (max(ys) - min(ys))
