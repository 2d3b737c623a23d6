"""Saying in French what a saved search looks for: the title of a feed and the name of a feed actor.

:func:`describe` turns the parsed parameters of a catalogue search into one line, such as "Réparations ·
à 10 km de Roubaix" or "Événements · Métropole Européenne de Lille": kinds, categories, words, territory
(names from the territory when it is loaded, codes otherwise), distance, dates and origin node.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from fedicoop.domain.french import to_paris
from fedicoop.models.states import CatalogueKind
from fedicoop.services.search import DEFAULT_RADIUS_KM
from fedicoop.territory import Territory
from fedicoop.web.catalogue import CatalogueQuery
from schemas.context import CATEGORIES

__all__ = ["KIND_LABELS", "describe", "names_places"]

KIND_LABELS = {
    CatalogueKind.OFFER: "Offres",
    CatalogueKind.REQUEST: "Demandes",
    CatalogueKind.REPAIR: "Réparations",
    CatalogueKind.EVENT: "Événements",
}
"""The French plural of each kind, as a title starts."""


def _day(moment: datetime) -> str:
    local = to_paris(moment)
    return f"{local.day:02d}/{local.month:02d}/{local.year}"


def _places(query: CatalogueQuery, territory: Territory | None) -> list[str]:
    search = query.search
    parts: list[str] = []
    if search.commune is not None:
        commune = territory.commune(search.commune) if territory is not None else None
        parts.append(f"à {commune.name}" if commune is not None else f"commune {search.commune}")
    if search.epci is not None:
        name = territory.epci_name(search.epci) if territory is not None else None
        parts.append(name or f"EPCI {search.epci}")
    if search.departement is not None:
        name = territory.departement_name(search.departement) if territory is not None else None
        parts.append(f"{name} ({search.departement})" if name else f"département {search.departement}")
    if search.region is not None:
        name = territory.region_name(search.region) if territory is not None else None
        parts.append(name or f"région {search.region}")
    radius = search.radius_km or DEFAULT_RADIUS_KM
    if query.near_commune is not None:
        commune = territory.commune(query.near_commune) if territory is not None else None
        parts.append(f"à {radius:g} km de {commune.name if commune else query.near_commune}")
    elif search.near is not None:
        latitude, longitude = search.near
        parts.append(f"à {radius:g} km de {latitude:.4f},{longitude:.4f}")
    return parts


def names_places(query: CatalogueQuery) -> bool:
    """Whether ``query`` has a territorial filter, whose names (or commune resolution) need the territory."""
    search = query.search
    return query.needs_territory or any(
        code is not None for code in (search.epci, search.departement, search.region)
    )


def describe(query: CatalogueQuery, territory: Territory | None = None) -> str:
    """One French line saying what ``query`` looks for (see the module docstring).

    >>> from fedicoop.web.catalogue import parse_catalogue_query
    >>> describe(parse_catalogue_query({"kind": "repair", "near": "50.69,3.18", "radius": "5", "q": "vélo"}))
    'Réparations · « vélo » · à 5 km de 50.6900,3.1800'
    >>> describe(parse_catalogue_query({}))
    'Tout le catalogue'
    """
    search = query.search
    kinds = [KIND_LABELS[kind] for kind in search.kinds]
    if search.purpose is not None and not kinds:
        kinds = [KIND_LABELS[CatalogueKind(search.purpose.value)]]
    parts = [" et ".join(kinds)] if kinds else []
    labels = [CATEGORIES[slug].label if slug in CATEGORIES else slug for slug in search.categories]
    if labels:
        parts.append(", ".join(labels))
    if search.text:
        parts.append(f"« {search.text.strip()} »")
    parts += _places(query, territory)
    last = search.date_to - timedelta(seconds=1) if search.date_to is not None else None  # "to" excluded
    if search.date_from is not None and last is not None:
        parts.append(f"du {_day(search.date_from)} au {_day(last)}")
    elif search.date_from is not None:
        parts.append(f"à partir du {_day(search.date_from)}")
    elif last is not None:
        parts.append(f"jusqu'au {_day(last)}")
    if search.host is not None:
        parts.append(f"publiés sur {search.host}")
    if search.actor is not None:
        parts.append(f"par {search.actor}")
    return " · ".join(parts) if parts else "Tout le catalogue"
