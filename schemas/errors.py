"""The error tree of the schemas package.

Every error raised by ``schemas`` (outside pydantic's own ``ValidationError``) derives from
:class:`SchemaError`, itself an ``Exception``::

    SchemaError
    ├── BoundsError              a document exceeds one of the bounds of ``schemas.limits``
    ├── UnknownCategoryError     a category slug outside the starter taxonomy
    ├── UnknownContextError      a JSON-LD context URL that is not bundled
    └── UnknownExampleError      a golden example name that does not exist
"""

from __future__ import annotations


class SchemaError(Exception):
    """Base class of every error raised by the schemas package."""


class BoundsError(SchemaError):
    """A document exceeds a bound of ``schemas.limits``; ``path`` names where, ``limit`` the bound crossed."""

    def __init__(self, message: str, *, path: str, limit: int) -> None:
        super().__init__(message)
        self.path = path
        self.limit = limit


class UnknownCategoryError(SchemaError, LookupError):
    """A category slug that is not part of the starter taxonomy of domain.md §4."""


class UnknownContextError(SchemaError, LookupError):
    """A JSON-LD context URL for which no bundled copy exists."""


class UnknownExampleError(SchemaError, LookupError):
    """A golden example name with no file under ``schemas/examples``."""
