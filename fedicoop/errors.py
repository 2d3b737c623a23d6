"""The error tree of the fedicoop application.

Every error the application raises on purpose derives from :class:`FedicoopError`; the web layer maps
each class to one HTTP status and error code in one table (``fedicoop.web.errors``), the CLI to an exit
code::

    FedicoopError
    ├── SettingsError        a setting is missing or invalid (names the FEDICOOP_* variable)
    ├── ValidationError      input that breaks a rule (names the field and the rule)
    │   ├── BadRequestError  a malformed query or path parameter or body (400 rather than 422)
    │   ├── PayloadTooLargeError   a request body over its cap (413)
    │   └── UnsupportedMediaTypeError  a body of a media type the endpoint does not read (415)
    ├── NotFoundError        the named actor, listing, event or token does not exist
    ├── GoneError            the object existed and was deleted (a Tombstone answers)
    ├── AuthenticationError  no or a bad bearer token
    ├── ForbiddenError       the caller may not do this
    ├── ConflictError        the request clashes with what exists (a taken username…)
    └── InstallationError    the environment is broken (a foreign ``federation`` package…)
"""

from __future__ import annotations


class FedicoopError(Exception):
    """Base class of every error the application raises on purpose."""


class SettingsError(FedicoopError):
    """A setting is missing or invalid; the message names the FEDICOOP_* variable and the value."""


class ValidationError(FedicoopError):
    """Input breaks a rule; ``field`` names the offending field, the message says the rule."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class BadRequestError(ValidationError):
    """A query or path parameter that cannot be read at all (``?page=abc``, a malformed resource)."""


class PayloadTooLargeError(ValidationError):
    """A request body larger than the endpoint accepts."""


class UnsupportedMediaTypeError(ValidationError):
    """A request body whose ``Content-Type`` the endpoint does not read."""


class NotFoundError(FedicoopError):
    """The named object does not exist on this node."""


class GoneError(FedicoopError):
    """The named object existed and was deleted; its Tombstone answers."""


class AuthenticationError(FedicoopError):
    """The request carries no bearer token, or one that is unknown or revoked."""


class ForbiddenError(FedicoopError):
    """The caller is known but may not perform this operation."""


class ConflictError(FedicoopError):
    """The request clashes with existing state, such as a username already taken."""


class InstallationError(FedicoopError):
    """The installation itself is broken, such as a foreign package shadowing ours."""
