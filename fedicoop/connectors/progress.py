"""How a connector run reports its progress: a callback the CLI turns into a progress display.

A connector calls it while it reads its source, the engine (:mod:`fedicoop.connectors.sync`) while it
applies the snapshot: ``progress(phase, done, total)``, with ``total`` None when unknown (a paged API
whose size is not known yet). Phases are short human labels (``actors``, ``listings``, ``rustine:
repairers``…); ``done`` counts up from 0 within a phase.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["Progress", "report"]

Progress = Callable[[str, int, int | None], None]
"""``progress(phase, done, total)``: ``done`` items of ``total`` (None when unknown) in ``phase``."""


def report(progress: Progress | None, phase: str, done: int, total: int | None) -> None:
    """Call ``progress`` when there is one (connectors and the engine accept ``None``: no display)."""
    if progress is not None:
        progress(phase, done, total)
