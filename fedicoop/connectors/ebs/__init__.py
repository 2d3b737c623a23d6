"""The EBS connector: a read-only SQL reader of an EBS database (domain.md §1.2), mapped to a snapshot.

EBS has no listing API, so the connector reads its PostgreSQL database with a role that may only
``SELECT``, inside one READ ONLY transaction at REPEATABLE READ. Modules:

    options.py     EbsOptions, their checks, the source name (``ebs user@host:port/db``, no password)
    schema.py      the tables and columns read, checked in information_schema before any query
    reader.py      connection, the consistent read, errors → SourceUnreachable/Schema/Format/SourceError
    records.py     the typed rows (products, owners, categories), each value checked
    categories.py  EBS categories → fedicoop slugs (node mapping, then folded names, then "autres")
    mapping.py     records → Snapshot: place actors, offers, blurred persons' listings, skips

:func:`read_ebs` is the entry point the CLI calls before :func:`fedicoop.connectors.sync.synchronise`.
"""

from __future__ import annotations

from fedicoop.connectors.ebs.mapping import EbsMapper
from fedicoop.connectors.ebs.options import EbsOptions, check_options, source_name
from fedicoop.connectors.ebs.reader import read_database
from fedicoop.connectors.progress import Progress, report
from fedicoop.connectors.specs import Snapshot
from fedicoop.domain.french import to_paris
from fedicoop.node import Node

__all__ = ["EbsOptions", "read_ebs", "source_name"]


async def read_ebs(options: EbsOptions, node: Node, progress: Progress | None) -> Snapshot:
    """Read the whole EBS database of ``options`` and return what the node should publish from it.

    Nothing is written anywhere. Raises :class:`~fedicoop.connectors.errors.ConnectorError` for bad
    options, and a :class:`~fedicoop.connectors.errors.SourceError` subclass when the database cannot be
    reached, lacks a table or column, or holds a value of the wrong type: the run then publishes nothing.
    """
    options = check_options(options)
    source = source_name(options.database_url)
    today = to_paris(node.clock()).date()
    report(progress, "ebs: database", 0, None)
    data = await read_database(options.database_url, source, today, progress)
    territory = await node.territory.get()
    snapshot = EbsMapper(options, source, territory).snapshot(data)
    total = len(snapshot.actors) + len(snapshot.listings) + len(snapshot.skipped)
    report(progress, "ebs: mapping", total, total)
    return snapshot
