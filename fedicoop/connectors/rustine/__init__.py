"""The Rustine Libre connector: publish a bike-repair instance's workshops through the node.

``await read_rustine(RustineOptions(url=…), node, progress)`` reads the instance's public API
(:mod:`~fedicoop.connectors.rustine.client`), parses it strictly
(:mod:`~fedicoop.connectors.rustine.records`) and maps it to specs
(:mod:`~fedicoop.connectors.rustine.mapping`); :mod:`~fedicoop.connectors.rustine.reader` ties them
together. ``fedicoop import rustine`` hands the snapshot to :func:`fedicoop.connectors.sync.synchronise`.
"""

from __future__ import annotations

from fedicoop.connectors.rustine.reader import RustineOptions, read_rustine, source_name

__all__ = ["RustineOptions", "read_rustine", "source_name"]
