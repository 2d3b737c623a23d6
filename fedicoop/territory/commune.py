"""A commune as the territory module hands it out: codes, name and town-hall point."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Commune"]


@dataclass(frozen=True, slots=True)
class Commune:
    """One commune (INSEE type ``COM``) of the COG: ``code`` such as ``"59350"``, ``departement`` such as
    ``"59"`` or ``"2A"``, ``region`` such as ``"32"``, ``epci`` the SIREN of its intercommunality (``None``
    for the four island communes that have none), ``townhall`` its town-hall point as ``(latitude,
    longitude)`` when the data knows it."""

    code: str
    name: str
    departement: str
    region: str
    epci: str | None
    townhall: tuple[float, float] | None
