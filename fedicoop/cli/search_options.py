"""The search filters shared by ``catalogue list`` and ``feed create``: one declaration of each option.

The names, meanings and checks are those of the API's query parameters (``GET /api/v1/catalogue``);
the commands hand the values to the API's parser under the API's names.
"""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = [
    "ActorOption",
    "CategoryOption",
    "CommuneOption",
    "DepartementOption",
    "EpciOption",
    "FromOption",
    "KindOption",
    "NearOption",
    "NodeOption",
    "RadiusOption",
    "RegionOption",
    "TextOption",
    "ToOption",
]

KindOption = Annotated[
    list[str] | None,
    typer.Option("--kind", help="offer, request, repair or event (repeat, or separate by commas)."),
]
CategoryOption = Annotated[
    list[str] | None, typer.Option("--category", help="A category slug (repeat, or separate by commas).")
]
TextOption = Annotated[
    str | None, typer.Option("--q", "--text", help="Words to find; accents, case and plurals ignored.")
]
CommuneOption = Annotated[str | None, typer.Option("--commune", help="INSEE commune code (59350).")]
EpciOption = Annotated[str | None, typer.Option("--epci", help="SIREN of an EPCI (200093201).")]
DepartementOption = Annotated[str | None, typer.Option("--departement", help="Département code (59).")]
RegionOption = Annotated[str | None, typer.Option("--region", help="Région code (32).")]
NearOption = Annotated[
    str | None, typer.Option("--near", help="latitude,longitude or a commune code (its town hall).")
]
RadiusOption = Annotated[str | None, typer.Option("--radius", help="Kilometres around --near (10).")]
FromOption = Annotated[
    str | None, typer.Option("--from", help="From this date (2025-10-14) or date and time, Paris time.")
]
ToOption = Annotated[str | None, typer.Option("--to", help="Until this date (included) or date and time.")]
NodeOption = Annotated[str | None, typer.Option("--node", help="Only what this origin host publishes.")]
ActorOption = Annotated[str | None, typer.Option("--actor", help="Only this author (actor URL).")]
