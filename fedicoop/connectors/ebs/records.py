"""The EBS rows the connector keeps, typed, each checked as it is read: a value of the wrong type raises
:class:`SourceFormatError` naming the table, the column and the row.

Persons' rows carry their type, flags and coordinates only: their name, description and street are
never selected (the query leaves them NULL), so they cannot leak into anything built from these records.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from fedicoop.connectors.errors import SourceFormatError

_T = TypeVar("_T")

PRODUCT_TYPES = ("object", "service")
PRODUCT_STATUSES = ("active", "paused", "deleted")
PRODUCT_VISIBILITIES = ("public", "restricted")
USER_TYPES = ("admin", "user", "place")


@dataclass(frozen=True, slots=True)
class EbsCategory:
    """A category: its ``type`` (``object``/``service``), name, slug and parent (two levels)."""

    id: uuid.UUID
    parent_id: uuid.UUID | None
    type: str
    name: str
    slug: str


@dataclass(frozen=True, slots=True)
class EbsOwner:
    """The owner of products. ``type`` is ``user``, ``admin``, ``place`` or None (an unfinished sign-up);
    ``latitude``/``longitude`` are those of their address. The other fields are read for places only."""

    id: uuid.UUID
    type: str | None
    enabled: bool
    vacation: bool
    latitude: float | None
    longitude: float | None
    name: str | None = None
    description: str | None = None
    schedule: str | None = None
    street: str | None = None
    postal_code: str | None = None
    locality: str | None = None
    country: str | None = None

    @property
    def is_place(self) -> bool:
        """Whether the owner is a partner place (``lieu``), which gets an actor of its own."""
        return self.type == "place"


@dataclass(frozen=True, slots=True)
class EbsProduct:
    """A product (object to lend or service). ``grouped``: tied to at least one group; ``unavailable``:
    an unavailability period covers today; ``deposit`` in cents of ``currency``."""

    id: uuid.UUID
    type: str
    status: str
    visibility: str
    owner_id: uuid.UUID
    category_id: uuid.UUID
    name: str
    slug: str
    description: str
    images: tuple[str, ...]
    age: str | None
    deposit: int | None
    currency: str | None
    loan_duration: str | None
    duration: str | None
    grouped: bool
    unavailable: bool


@dataclass(slots=True)
class EbsData:
    """Everything read from one EBS database in one consistent snapshot."""

    categories: dict[uuid.UUID, EbsCategory] = field(default_factory=dict)
    owners: dict[uuid.UUID, EbsOwner] = field(default_factory=dict)
    products: list[EbsProduct] = field(default_factory=list)


class RowReader:
    """Typed access to the columns of the rows of one table, for one source."""

    def __init__(self, source: str, table: str) -> None:
        self.source = source
        self.table = table

    def fail(self, row: Mapping[str, Any], column: str, problem: str) -> SourceFormatError:
        """The error for a bad value in ``column`` of ``row`` (identified by its ``id``, when it has one)."""
        where = f"{self.table}.{column}"
        if "id" in row:
            where += f" of row {row['id']}"
        return SourceFormatError(self.source, f"{where}: {problem}")

    def value(self, row: Mapping[str, Any], column: str, kind: type[_T]) -> _T:
        """The non-NULL value of ``column``, of type ``kind``."""
        value = row[column]
        if value is None:
            raise self.fail(row, column, "is NULL")
        if not isinstance(value, kind):
            raise self.fail(row, column, f"expected {kind.__name__}, got {type(value).__name__}")
        return value

    def optional(self, row: Mapping[str, Any], column: str, kind: type[_T]) -> _T | None:
        """The value of ``column`` of type ``kind``, or None."""
        return None if row[column] is None else self.value(row, column, kind)

    def text(self, row: Mapping[str, Any], column: str) -> str | None:
        """A text column, None when NULL or blank."""
        value = self.optional(row, column, str)
        return (value.strip() or None) if value is not None else None

    def choice(self, row: Mapping[str, Any], column: str, allowed: tuple[str, ...]) -> str:
        """A string column restricted to ``allowed`` (an EBS enum)."""
        value = self.value(row, column, str)
        if value not in allowed:
            raise self.fail(row, column, f"unknown value {value!r} (expected one of: {', '.join(allowed)})")
        return value

    def coordinate(self, row: Mapping[str, Any], column: str) -> float | None:
        """A NUMERIC coordinate as a float, or None."""
        value = row[column]
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, Decimal | float | int):
            raise self.fail(row, column, f"expected a number, got {type(value).__name__}")
        return float(value)

    def file_names(self, row: Mapping[str, Any], column: str) -> tuple[str, ...]:
        """A JSON list of file names (the ``images`` column), empty when NULL."""
        raw = self.optional(row, column, str)
        if raw is None:
            return ()
        try:
            names = json.loads(raw)
        except ValueError:
            raise self.fail(row, column, "is not valid JSON") from None
        if names is None:
            return ()
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            raise self.fail(row, column, "expected a JSON list of file names")
        return tuple(name for name in names if name.strip())


def category_from_row(row: Mapping[str, Any], source: str) -> EbsCategory:
    """One ``category`` row."""
    read = RowReader(source, "category")
    return EbsCategory(
        id=read.value(row, "id", uuid.UUID),
        parent_id=read.optional(row, "parent_id", uuid.UUID),
        type=read.value(row, "type", str),
        name=read.value(row, "name", str),
        slug=read.value(row, "slug", str),
    )


def owner_from_row(row: Mapping[str, Any], source: str) -> EbsOwner:
    """One ``"user"`` row joined with its address (place fields NULL for anyone but a place)."""
    read = RowReader(source, "user")
    kind = read.optional(row, "type", str)
    if kind is not None and kind not in USER_TYPES:
        raise read.fail(row, "type", f"unknown value {kind!r} (expected one of: {', '.join(USER_TYPES)})")
    address = RowReader(source, "address")
    number, street = read.text(row, "street_number"), read.text(row, "street_name")
    return EbsOwner(
        id=read.value(row, "id", uuid.UUID),
        type=kind,
        enabled=read.value(row, "enabled", bool),
        vacation=read.value(row, "vacation_mode", bool),
        latitude=address.coordinate(row, "latitude"),
        longitude=address.coordinate(row, "longitude"),
        name=read.text(row, "name"),
        description=read.text(row, "description"),
        schedule=read.text(row, "schedule"),
        street=" ".join(part for part in (number, street) if part) or None,
        postal_code=address.text(row, "postal_code"),
        locality=address.text(row, "locality"),
        country=address.text(row, "country"),
    )


def product_from_row(row: Mapping[str, Any], source: str) -> EbsProduct:
    """One ``product`` row with its ``grouped`` and ``unavailable`` flags."""
    read = RowReader(source, "product")
    return EbsProduct(
        id=read.value(row, "id", uuid.UUID),
        type=read.choice(row, "type", PRODUCT_TYPES),
        status=read.choice(row, "status", PRODUCT_STATUSES),
        visibility=read.choice(row, "visibility", PRODUCT_VISIBILITIES),
        owner_id=read.value(row, "owner_id", uuid.UUID),
        category_id=read.value(row, "category_id", uuid.UUID),
        name=read.value(row, "name", str).strip(),
        slug=read.value(row, "slug", str),
        description=read.optional(row, "description", str) or "",
        images=read.file_names(row, "images"),
        age=read.text(row, "age"),
        deposit=read.optional(row, "deposit", int),
        currency=read.text(row, "currency"),
        loan_duration=read.text(row, "preferred_loan_duration"),
        duration=read.text(row, "duration"),
        grouped=read.value(row, "grouped", bool),
        unavailable=read.value(row, "unavailable", bool),
    )
