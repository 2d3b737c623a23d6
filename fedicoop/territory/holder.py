"""The territory of one node: loaded on first use, in a worker thread, once however many ask at once."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Collection
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING

from fedicoop.territory.territory import Territory

if TYPE_CHECKING:
    from fedicoop.settings import Settings

__all__ = ["TerritoryHolder"]


class TerritoryHolder:
    """Holds the :class:`Territory` of ``region_codes``, cached under ``cache_dir``; nothing is read until
    :meth:`get` (or :meth:`get_sync`) is first called. The load runs off the event loop; callers that ask
    meanwhile wait for the same load, from any event loop or thread. A failed load raises to every caller
    waiting for it, and the next call tries again."""

    def __init__(self, region_codes: Collection[str], *, cache_dir: Path | None = None) -> None:
        self.region_codes = tuple(region_codes)
        self.cache_dir = cache_dir
        self._lock = threading.Lock()
        self._pending: Future[Territory] | None = None
        self._territory: Territory | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> TerritoryHolder:
        """The holder of a node: its ``region_codes``, cached in ``cache_dir`` (``data_dir/cache``)."""
        return cls(settings.region_codes, cache_dir=settings.cache_dir or settings.data_dir / "cache")

    @property
    def loaded(self) -> Territory | None:
        """The territory if it has been loaded, without loading it."""
        return self._territory

    async def get(self) -> Territory:
        """The territory, loaded in a worker thread by the first caller; the others await that load."""
        territory = self._territory
        if territory is not None:
            return territory
        future, owner = self._claim()
        if owner:
            await asyncio.to_thread(self._run, future)
        return await asyncio.wrap_future(future)

    def get_sync(self) -> Territory:
        """The territory, loaded in the calling thread if nobody is loading it yet (blocking)."""
        territory = self._territory
        if territory is not None:
            return territory
        future, owner = self._claim()
        if owner:
            self._run(future)
        return future.result()

    def _claim(self) -> tuple[Future[Territory], bool]:
        with self._lock:
            if self._pending is not None:
                return self._pending, False
            future: Future[Territory] = Future()
            future.set_running_or_notify_cancel()  # a waiter's cancellation cannot cancel the shared load
            self._pending = future
            return future, True

    def _run(self, future: Future[Territory]) -> None:
        try:
            territory = Territory.load(self.region_codes, cache_dir=self.cache_dir)
        except Exception as exc:
            with self._lock:
                self._pending = None
            future.set_exception(exc)
            return
        self._territory = territory
        future.set_result(territory)
