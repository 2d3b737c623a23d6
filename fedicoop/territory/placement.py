"""Placing a received location in the territory: our codes from the coordinates, never the sender's.

wire-format §8: a receiving portal recomputes commune, département, région and EPCI from the coordinates
and never trusts the codes sent; a disagreement is reported (``flags``) and our codes win. A blurred
place (with a radius) covers every commune its disc meets, so a search by any of them finds it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from fedicoop.territory.commune import Commune
from fedicoop.territory.territory import Territory, check_point, check_radius

__all__ = ["CLAIMED_KEYS", "Placement", "locate"]

CLAIMED_KEYS = ("communeCode", "departementCode", "regionCode", "epciCode")
"""The wire names of the territory codes a sender may claim for a place."""

_PLAIN = re.compile(r"[0-9A-Za-z]{1,12}")
_SHOWN_MAX = 40


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a location lies: ``commune`` holds the point (``None`` outside the territory loaded or at
    sea); ``communes`` is every commune the location covers, ``commune`` first (just it for an exact
    point, every commune the disc meets for a blurred one); ``flags`` are messages for people about the
    sender's codes that disagree with ours."""

    commune: Commune | None
    communes: tuple[Commune, ...]
    flags: tuple[str, ...]


def _shown(value: object) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if _PLAIN.fullmatch(text) else repr(text[:_SHOWN_MAX])


def locate(
    territory: Territory,
    latitude: float,
    longitude: float,
    radius_m: float | None,
    claimed: Mapping[str, str | None],
) -> Placement:
    """Place the point (and the disc of ``radius_m`` metres around it, when given) in ``territory`` and
    compare the codes in ``claimed`` (wire names, see :data:`CLAIMED_KEYS`; missing or ``None`` means not
    sent) with ours; a commune code naming an arrondissement, commune déléguée or associée of our
    commune agrees with it. Bad coordinates or radius raise :class:`~fedicoop.errors.ValidationError`."""
    check_point(latitude, longitude)
    if radius_m is not None:
        check_radius(radius_m)
    commune = territory.commune_at(latitude, longitude)
    covered = [] if commune is None else [commune]
    if radius_m:
        covered += [
            other
            for other in territory.communes_overlapping(latitude, longitude, radius_m)
            if other != commune
        ]
    return Placement(
        commune=commune, communes=tuple(covered), flags=tuple(_flags(territory, commune, claimed))
    )


def _flags(territory: Territory, commune: Commune | None, claimed: Mapping[str, str | None]) -> list[str]:
    sent = {key: claimed.get(key) for key in CLAIMED_KEYS}
    if commune is None:
        codes = [f"{key} {_shown(value)}" for key, value in sent.items() if value is not None]
        if not codes:
            return []
        return [
            f"{', '.join(codes)} cannot be checked: the coordinates are in no commune of the territory served"
        ]
    flags = []
    commune_code = sent["communeCode"]
    if commune_code is not None:
        if not isinstance(commune_code, str) or territory.commune(commune_code) != commune:
            flags.append(
                f"communeCode {_shown(commune_code)} does not match {commune.code} ({commune.name}) "
                "computed from the coordinates"
            )
    ours = (
        ("departementCode", commune.departement, territory.departement_name(commune.departement)),
        ("regionCode", commune.region, territory.region_name(commune.region)),
        ("epciCode", commune.epci, territory.epci_name(commune.epci) if commune.epci else None),
    )
    for key, code, name in ours:
        value = sent[key]
        if value is None or value == code:
            continue
        if code is None:
            flags.append(f"{key} {_shown(value)} does not match: {commune.name} belongs to no EPCI")
        else:
            flags.append(
                f"{key} {_shown(value)} does not match {code} ({name}) computed from the coordinates"
            )
    return flags
