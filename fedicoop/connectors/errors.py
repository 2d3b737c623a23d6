"""The errors of the connectors, every one naming the source it came from.

Tree (rooted at :class:`fedicoop.errors.FedicoopError`)::

    ConnectorError            a connector cannot run: bad options or settings (the message says which)
    └── SourceError           the source failed; ``source`` names it (``rustine https://…``, ``ebs db@host``)
        ├── SourceUnreachableError   connection refused, DNS failure, timeout, TLS failure
        ├── SourceResponseError      an HTTP status other than 200 (the status is in the message)
        ├── SourceFormatError        malformed JSON, a missing or ill-typed field (the field is named)
        └── SourceSchemaError        a database without a table or column we read (both are named)

A run that raises any of them has published nothing: connectors read the whole source first, and only a
complete snapshot is applied.
"""

from __future__ import annotations

from fedicoop.errors import FedicoopError


class ConnectorError(FedicoopError):
    """A connector cannot run: an option or a setting is missing or invalid."""


class SourceError(ConnectorError):
    """The source failed; the message starts with the source's name."""

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


class SourceUnreachableError(SourceError):
    """The source could not be reached (connection, DNS, TLS or timeout)."""


class SourceResponseError(SourceError):
    """The source answered with an HTTP status we cannot use."""


class SourceFormatError(SourceError):
    """The source's data is malformed: bad JSON, or a missing or ill-typed field (named)."""


class SourceSchemaError(SourceError):
    """The source database lacks a table or a column the connector reads (both named)."""
