"""The portal's search form read as a query: its parameters, and commune names turned into codes.

The parameters are those of ``GET /api/v1/catalogue`` (:func:`fedicoop.web.catalogue.parse_catalogue_query`
reads them); on the pages, the ``commune`` and ``near`` fields also take a commune's name ("Roubaix",
"Villeneuve d'Ascq", accents and case ignored) or the form's own "Roubaix (59512)", resolved here on the
node's territory. A name matching no commune, or several equally, is refused with the candidates.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from starlette.requests import Request

from fedicoop.errors import BadRequestError
from fedicoop.territory import Territory
from fedicoop.territory.names import fold_name

__all__ = ["PARAMETERS", "flat", "query_values", "resolve_commune", "resolved"]

PARAMETERS = (
    "q",
    "kind",
    "category",
    "commune",
    "epci",
    "departement",
    "region",
    "near",
    "radius",
    "from",
    "to",
    "node",
    "purpose",
    "actor",
    "sort",
    "limit",
    "cursor",
)
"""The query parameters of the catalogue pages (those of ``GET /api/v1/catalogue``); others are ignored."""

_CODE = re.compile(r"(?:[0-9]{2}|2[AB])[0-9]{3}", re.IGNORECASE)
_CODE_AT_END = re.compile(r".*\(\s*((?:[0-9]{2}|2[AB])[0-9]{3})\s*\)", re.IGNORECASE | re.DOTALL)
_POINT = re.compile(r"[\s0-9.,+-]*")
_NAME_MAX = 100


def query_values(request: Request) -> dict[str, str | list[str]]:
    """The catalogue parameters of a request: every value of ``kind`` and ``category``, the last of the
    others."""
    found: dict[str, str | list[str]] = {}
    for name in PARAMETERS:
        values = request.query_params.getlist(name)
        if values:
            found[name] = values if name in ("kind", "category") else values[-1]
    return found


def resolve_commune(name: str, value: str, territory: Territory) -> str:
    """The commune code meant by the form field ``name``: a code, "Roubaix (59512)", or a name matching
    one commune of the territory (exactly, or as the only candidate); anything else is returned as given
    for the parser to judge. Raises BadRequestError for a name matching no commune or several."""
    text = value.strip()
    if not text or len(text) > _NAME_MAX or "\x00" in text or _CODE.fullmatch(text):
        return value
    with_code = _CODE_AT_END.fullmatch(text)
    if with_code:
        return with_code.group(1).upper()
    if name == "near" and _POINT.fullmatch(text):
        return value
    found = territory.find(text, limit=6)
    exact = [commune for commune in found if fold_name(commune.name) == fold_name(text)]
    candidates = exact or found
    if len(candidates) == 1:
        return candidates[0].code
    if not candidates:
        regions = ", ".join(filter(None, (territory.region_name(code) for code in territory.region_codes)))
        raise BadRequestError(
            f"{name}: aucune commune « {text} » dans {regions or 'le territoire'}", field=name
        )
    named = ", ".join(f"{commune.name} ({commune.code})" for commune in candidates[:5])
    raise BadRequestError(f"{name}: « {text} » peut désigner {named} ; précisez le code", field=name)


def resolved(values: Mapping[str, str | list[str]], territory: Territory) -> dict[str, str | list[str]]:
    """``values`` with the ``commune`` and ``near`` fields resolved by :func:`resolve_commune`."""
    found = dict(values)
    for name in ("commune", "near"):
        value = found.get(name)
        if isinstance(value, str):
            found[name] = resolve_commune(name, value, territory)
    return found


def flat(values: Mapping[str, str | list[str]]) -> dict[str, str]:
    """``values`` with one string per parameter, several values joined by commas (to refill a form)."""
    return {key: value if isinstance(value, str) else ",".join(value) for key, value in values.items()}
