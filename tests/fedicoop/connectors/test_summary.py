"""The run summary: each skipped record listed while there are few, counted by reason past that."""

from __future__ import annotations

from fedicoop.connectors.specs import Skip, SourceKey
from fedicoop.connectors.summary import SKIPS_LISTED, RunSummary


def _summary(skips: int) -> RunSummary:
    summary = RunSummary("ebs reader@db.example:5432/ebs")
    summary.skipped.extend(
        Skip(SourceKey("product", str(number)), "deleted" if number % 3 else "not public (restricted)")
        for number in range(skips)
    )
    return summary


def test_lines__a_few_skips_are_listed_one_by_one() -> None:
    lines = _summary(SKIPS_LISTED).lines()
    assert lines[0].endswith(f"{SKIPS_LISTED} skipped, 0 failed")
    assert "  skipped product 1: deleted" in lines and "  skipped product 0: not public (restricted)" in lines
    assert sum(line.startswith("  skipped ") for line in lines) == SKIPS_LISTED


def test_lines__many_skips_are_counted_by_reason_most_common_first() -> None:
    lines = _summary(300).lines()
    assert lines[0].endswith("300 skipped, 0 failed")
    assert [line for line in lines if line.startswith("  skipped ")] == [
        "  skipped 200 × deleted",
        "  skipped 100 × not public (restricted)",
    ]
