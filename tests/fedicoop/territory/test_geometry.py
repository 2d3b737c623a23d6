"""Tests of ``fedicoop.territory.geometry`` on shapes whose answers are known by hand."""

from __future__ import annotations

import math
from array import array

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fedicoop.territory.geometry import (
    METRES_PER_DEGREE,
    disc_touches_ring,
    distance_m,
    farthest_m,
    in_ring,
    interior_point,
)

# A 0.02° square (about 2.2 km north-south at 50°N) with a 0.01° square hole in the middle.
OUTER = [3.0, 50.0, 3.02, 50.0, 3.02, 50.02, 3.0, 50.02, 3.0, 50.0]
INNER = [3.005, 50.005, 3.005, 50.015, 3.015, 50.015, 3.015, 50.005, 3.005, 50.005]
COORDS = array("d", OUTER + INNER)
RINGS = [(0, 10), (10, 20)]


def _inside(x: float, y: float) -> bool:
    return in_ring(COORDS, 0, 10, x, y) != in_ring(COORDS, 10, 20, x, y)


@pytest.mark.parametrize(
    ("x", "y", "expected"),
    [
        (3.002, 50.002, True),
        (3.01, 50.01, False),
        (3.018, 50.01, True),
        (3.03, 50.01, False),
        (2.99, 50.0, False),
    ],
)
def test_in_ring__even_odd_with_hole(x: float, y: float, expected: bool) -> None:
    assert _inside(x, y) is expected


def test_disc_touches_ring__edges_within_reach() -> None:
    # From the centre of the hole, the nearest edges are the west and east ones, 0.005° of longitude away.
    edge = 0.005 * METRES_PER_DEGREE * math.cos(math.radians(50.01))
    assert not disc_touches_ring(COORDS, 10, 20, 50.01, 3.01, edge * 0.99)
    assert disc_touches_ring(COORDS, 10, 20, 50.01, 3.01, edge * 1.01)
    assert not disc_touches_ring(COORDS, 0, 10, 50.01, 3.01, edge * 1.01)
    # West of the square, 0.01° of longitude at 50.01°N away.
    west = 0.01 * METRES_PER_DEGREE * math.cos(math.radians(50.01))
    assert disc_touches_ring(COORDS, 0, 10, 50.01, 2.99, west * 1.01)
    assert not disc_touches_ring(COORDS, 0, 10, 50.01, 2.99, west * 0.99)


def test_farthest_m__corner() -> None:
    assert farthest_m(COORDS, 0, 10, 50.0, 3.0) == pytest.approx(distance_m(50.0, 3.0, 50.02, 3.02))


def test_interior_point__avoids_the_hole() -> None:
    x, y = interior_point(COORDS, RINGS)
    assert _inside(x, y)
    assert not (3.005 < x < 3.015)


def test_interior_point__concave_shape() -> None:
    u_shape = array("d", [0, 0, 3, 0, 3, 3, 2, 3, 2, 1, 1, 1, 1, 3, 0, 3, 0, 0])
    x, y = interior_point(u_shape, [(0, 18)])
    assert in_ring(u_shape, 0, 18, x, y)


@given(
    st.floats(-89.9, 89.9),
    st.floats(-179.9, 179.9),
    st.floats(-89.9, 89.9),
    st.floats(-179.9, 179.9),
)
def test_distance_m__symmetric_and_bounded(lat1: float, lon1: float, lat2: float, lon2: float) -> None:
    there = distance_m(lat1, lon1, lat2, lon2)
    assert there == pytest.approx(distance_m(lat2, lon2, lat1, lon1), abs=1e-6)
    assert 0.0 <= there <= METRES_PER_DEGREE * 180.0 + 1.0
