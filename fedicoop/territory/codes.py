"""The shapes of French territory codes (domain.md §6.1) and the list of régions.

Codes are strings, never integers: ``"02"`` keeps its zero and ``"2A"`` stays valid.

>>> is_commune_code("2A004"), is_commune_code("59000 "), is_commune_code("5935")
(True, False, False)
>>> is_region_code("32"), is_region_code("05")
(True, False)
"""

from __future__ import annotations

import re

__all__ = ["REGION_CODES", "is_commune_code", "is_region_code"]

REGION_CODES: tuple[str, ...] = (
    "01", "02", "03", "04", "06",
    "11", "24", "27", "28", "32", "44", "52", "53", "75", "76", "84", "93", "94",
)  # fmt: skip
"""INSEE codes of the 18 régions: the five overseas ones (there is no ``05``), then mainland and Corsica."""

_COMMUNE = re.compile(r"(?:[0-9]{2}|2A|2B)[0-9]{3}")


def is_commune_code(text: str) -> bool:
    """Whether ``text`` has the shape of an INSEE commune code: five characters, ``2A``/``2B`` for Corsica."""
    return _COMMUNE.fullmatch(text) is not None


def is_region_code(text: str) -> bool:
    """Whether ``text`` is the code of one of the 18 régions."""
    return text in REGION_CODES
