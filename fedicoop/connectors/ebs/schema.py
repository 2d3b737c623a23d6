"""The EBS tables and columns the connector reads (domain.md §1.2), checked before any query runs.

Column names follow Doctrine's snake_case naming of the EBS entities. ``product_availability`` keeps
the entity's swap: the availability *mode* (``available``/``unavailable``) is stored in column ``type``,
and the *type* (``owner``/``service_request``) in column ``mode``. Nothing else is read: no e-mail, name,
phone number or avatar of a person, no service request, message, group or payment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fedicoop.connectors.errors import SourceSchemaError

READ_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "product": (
        "id",
        "type",
        "category_id",
        "status",
        "visibility",
        "owner_id",
        "name",
        "slug",
        "description",
        "images",
        "age",
        "deposit",
        "currency",
        "preferred_loan_duration",
        "duration",
    ),
    "user": ("id", "type", "enabled", "vacation_mode", "name", "description", "schedule", "address_id"),
    "address": (
        "id",
        "street_number",
        "street_name",
        "locality",
        "postal_code",
        "country",
        "latitude",
        "longitude",
    ),
    "category": ("id", "parent_id", "type", "name", "slug"),
    "product_availability": ("product_id", "type", "start_at", "end_at"),
    "product_group": ("product_id",),
}
"""Every column read, per table (``user`` is the quoted ``"user"`` table)."""

_COLUMNS_QUERY = """
SELECT table_name, column_name
FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = ANY($1::text[])
"""


async def check_schema(connection: Any, source: str) -> None:
    """Raise :class:`SourceSchemaError` naming the first table, or the columns of a table, that the
    database lacks (or that the connector's role may not read: information_schema shows only those)."""
    rows = await connection.fetch(_COLUMNS_QUERY, list(READ_COLUMNS))
    present: dict[str, set[str]] = {}
    for row in rows:
        present.setdefault(row["table_name"], set()).add(row["column_name"])
    for table, columns in READ_COLUMNS.items():
        found = present.get(table)
        if found is None:
            raise SourceSchemaError(
                source, f"table {table!r} is missing (or not readable by this role) in the EBS database"
            )
        missing = [column for column in columns if column not in found]
        if missing:
            names = ", ".join(f"{table}.{column}" for column in missing)
            plural = "s" if len(missing) > 1 else ""
            raise SourceSchemaError(
                source, f"column{plural} {names} missing (or not readable by this role) in the EBS database"
            )
