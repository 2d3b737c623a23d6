"""Which of some catalogue items a saved search matches, decided by the search engine's own SQL.

:func:`matching_ids` runs the WHERE clause :mod:`fedicoop.services.search` builds for a query (every
filter, full text on each database's engine, distance, dates and slots, discoverable authors only) on
the given item ids alone, so a feed matches exactly what the same search would list.
"""

from __future__ import annotations

from collections.abc import Collection

from fedicoop.models.catalogue import CatalogueItem
from fedicoop.services.search import SearchQuery, SqlParameters, query_words, search_conditions

__all__ = ["MATCH_BATCH", "matching_ids"]

MATCH_BATCH = 500
"""The most item ids checked in one statement."""


async def matching_ids(query: SearchQuery, item_ids: Collection[int]) -> set[int]:
    """Return those of ``item_ids`` that ``query`` finds (its filters only; order, page and cursor do not
    matter). A text of stop words only matches nothing, as in :func:`~fedicoop.services.search.search`."""
    found = query_words(query.text) if query.text is not None else []
    if not item_ids or (query.text is not None and not found):
        return set()
    database = CatalogueItem._meta.db
    postgres = database.capabilities.dialect == "postgres"
    ids = sorted(item_ids)
    matched: set[int] = set()
    for start in range(0, len(ids), MATCH_BATCH):
        sql = SqlParameters(postgres)
        where = search_conditions(sql, query, found)
        chunk = sql.bind_all(ids[start : start + MATCH_BATCH])
        rows = await database.execute_query_dict(
            f"SELECT i.id AS id FROM catalogue_item i WHERE i.id IN ({chunk}) AND {where}",  # noqa: S608 - our SQL, values bound
            sql.values,
        )
        matched.update(int(row["id"]) for row in rows)
    return matched
