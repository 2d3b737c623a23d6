"""Read an EBS database: one connection, one READ ONLY transaction at REPEATABLE READ (every query sees
the same snapshot), the schema checked first, then the categories, the owners and the products.

The session is opened with ``default_transaction_read_only`` as well, so that nothing this connector
runs could ever write. Errors name the source, never the URL (which may hold a password).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import asyncpg

from fedicoop.connectors.ebs.records import EbsData, category_from_row, owner_from_row, product_from_row
from fedicoop.connectors.ebs.schema import check_schema
from fedicoop.connectors.errors import ConnectorError, SourceError, SourceUnreachableError
from fedicoop.connectors.progress import Progress, report

CONNECT_TIMEOUT_S = 15.0
QUERY_TIMEOUT_S = 120.0

_CATEGORIES = "SELECT id, parent_id, type, name, slug FROM category ORDER BY id"

# Persons' name, description and street are never selected: the CASEs leave them NULL.
_OWNERS = """
SELECT u.id, u.type, u.enabled, u.vacation_mode,
       CASE WHEN u.type = 'place' THEN u.name END AS name,
       CASE WHEN u.type = 'place' THEN u.description END AS description,
       CASE WHEN u.type = 'place' THEN u.schedule END AS schedule,
       a.latitude, a.longitude,
       CASE WHEN u.type = 'place' THEN a.street_number END AS street_number,
       CASE WHEN u.type = 'place' THEN a.street_name END AS street_name,
       CASE WHEN u.type = 'place' THEN a.postal_code END AS postal_code,
       CASE WHEN u.type = 'place' THEN a.locality END AS locality,
       CASE WHEN u.type = 'place' THEN a.country END AS country
FROM "user" AS u
LEFT JOIN address AS a ON a.id = u.address_id
WHERE u.type = 'place' OR u.id IN (SELECT owner_id FROM product)
ORDER BY u.id
"""

# product_availability stores the availability mode in its column "type" (domain.md §1.1); a period
# covers whole days, from the day of start_at to the day of end_at included.
_PRODUCTS = """
SELECT p.id, p.type, p.status, p.visibility, p.owner_id, p.category_id, p.name, p.slug, p.description,
       p.images::text AS images, p.age, p.deposit, p.currency, p.preferred_loan_duration, p.duration,
       EXISTS (SELECT 1 FROM product_group AS pg WHERE pg.product_id = p.id) AS grouped,
       EXISTS (
           SELECT 1 FROM product_availability AS pa
           WHERE pa.product_id = p.id AND pa.type = 'unavailable' AND pa.start_at < $2 AND pa.end_at >= $1
       ) AS unavailable
FROM product AS p
ORDER BY p.id
"""


async def _connect(database_url: str, source: str) -> Any:
    try:
        return await asyncpg.connect(
            dsn=database_url,
            timeout=CONNECT_TIMEOUT_S,
            command_timeout=QUERY_TIMEOUT_S,
            server_settings={"default_transaction_read_only": "on", "application_name": "fedicoop import"},
        )
    except asyncpg.ClientConfigurationError as exc:
        raise ConnectorError(f"{source}: the EBS database URL is invalid: {exc}") from None
    except (OSError, TimeoutError) as exc:
        raise SourceUnreachableError(
            source, f"cannot connect to the EBS database: {_describe(exc)}"
        ) from None
    except asyncpg.PostgresError as exc:
        raise SourceUnreachableError(source, f"the EBS database refused the connection: {exc}") from None
    except asyncpg.InterfaceError as exc:
        raise SourceUnreachableError(source, f"cannot connect to the EBS database: {exc}") from None


def _describe(exc: BaseException, limit_s: float = CONNECT_TIMEOUT_S) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {limit_s:g} s"
    return str(exc) or type(exc).__name__


async def read_database(
    database_url: str, source: str, today: date, progress: Progress | None = None
) -> EbsData:
    """Read the categories, the owners and every product of the EBS database at ``database_url``.

    ``today`` (Europe/Paris) decides which unavailability periods are current. Raises
    :class:`SourceUnreachableError` when the database cannot be reached or the connection drops,
    :class:`SourceSchemaError` when a table or column is missing, :class:`SourceFormatError` for a value of
    the wrong type, and :class:`SourceError` for any other refusal of the server (a permission, say).
    """
    day_start = datetime.combine(today, time.min)
    connection = await _connect(database_url, source)
    data = EbsData()
    try:
        async with connection.transaction(isolation="repeatable_read", readonly=True):
            await check_schema(connection, source)
            for row in await connection.fetch(_CATEGORIES):
                category = category_from_row(row, source)
                data.categories[category.id] = category
            for row in await connection.fetch(_OWNERS):
                owner = owner_from_row(row, source)
                data.owners[owner.id] = owner
            rows = await connection.fetch(_PRODUCTS, day_start, day_start + timedelta(days=1))
            for done, row in enumerate(rows, start=1):
                data.products.append(product_from_row(row, source))
                if done % 500 == 0 or done == len(rows):
                    report(progress, "ebs: products", done, len(rows))
    except (OSError, TimeoutError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError) as exc:
        raise SourceUnreachableError(
            source, f"lost the EBS database while reading: {_describe(exc, QUERY_TIMEOUT_S)}"
        ) from None
    except asyncpg.PostgresError as exc:
        raise SourceError(source, f"the EBS database refused a query: {exc}") from None
    finally:
        await _close(connection)
    return data


async def _close(connection: Any) -> None:
    try:
        await connection.close(timeout=5)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
        connection.terminate()
