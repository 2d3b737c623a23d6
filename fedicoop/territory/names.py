"""Folding place names for matching: accents, case, hyphens, apostrophes and "St" do not matter.

>>> fold_name("Villeneuve-d'Ascq")
'villeneuve d ascq'
>>> fold_name("  ST-ÉTIENNE-au-Mont ") == fold_name("saint etienne au mont")
True
>>> fold_name("Bœuf"), fold_name("L’Haÿ-les-Roses")
('boeuf', 'l hay les roses')
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["fold_name"]

_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss"})
_SEPARATORS = re.compile(r"[^0-9a-z]+")
_ABBREVIATIONS = {"st": "saint", "ste": "sainte"}


def fold_name(text: str) -> str:
    """Lowercase ``text``, strip its accents, turn every run of other characters into one space and spell
    out the abbreviations ``st`` and ``ste``."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_LIGATURES))
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    words = _SEPARATORS.sub(" ", bare).split()
    return " ".join(_ABBREVIATIONS.get(word, word) for word in words)
