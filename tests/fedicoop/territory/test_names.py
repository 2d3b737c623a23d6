"""Tests of ``fedicoop.territory.names``."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fedicoop.territory.names import fold_name


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Villeneuve-d'Ascq", "villeneuve d ascq"),
        ("VILLENEUVE D’ASCQ", "villeneuve d ascq"),
        ("Marcq-en-Barœul", "marcq en baroeul"),
        ("St-Omer", "saint omer"),
        ("Ste Geneviève-des-Bois", "sainte genevieve des bois"),
        ("Saint-Stéphane", "saint stephane"),
        ("  --  ", ""),
        ("Île-de-Bréhat", "ile de brehat"),
    ],
)
def test_fold_name(text: str, folded: str) -> None:
    assert fold_name(text) == folded


@given(st.text(max_size=60))
def test_fold_name__idempotent_and_plain(text: str) -> None:
    folded = fold_name(text)
    assert fold_name(folded) == folded
    assert all(char.isascii() and (char.isalnum() or char == " ") for char in folded)
