"""The one table that maps every error class to an HTTP status and a stable error code."""

from __future__ import annotations

from federation import errors as fed_errors
from fedicoop import errors as app_errors

# Most specific first: the first class an exception is an instance of decides.
ERROR_TABLE: tuple[tuple[type[Exception], int, str], ...] = (
    (app_errors.BadRequestError, 400, "bad_request"),
    (app_errors.PayloadTooLargeError, 413, "too_large"),
    (app_errors.UnsupportedMediaTypeError, 415, "unsupported_media_type"),
    (app_errors.ValidationError, 422, "invalid"),
    (app_errors.NotFoundError, 404, "not_found"),
    (app_errors.GoneError, 410, "gone"),
    (app_errors.AuthenticationError, 401, "unauthenticated"),
    (app_errors.ForbiddenError, 403, "forbidden"),
    (app_errors.ConflictError, 409, "conflict"),
    (app_errors.SettingsError, 500, "settings"),
    (app_errors.InstallationError, 500, "installation"),
    (fed_errors.SignatureMalformedError, 400, "signature_malformed"),
    (fed_errors.SignatureError, 401, "signature"),
    (fed_errors.JsonLdError, 400, "jsonld"),
    (fed_errors.AddressBlockedError, 403, "blocked"),
    (fed_errors.FetchError, 502, "fetch"),
    (fed_errors.FederationError, 400, "federation"),
)


def classify(exc: Exception) -> tuple[int, str]:
    """Return the HTTP status and error code for ``exc`` (500/``internal`` when it is not ours)."""
    for cls, status, code in ERROR_TABLE:
        if isinstance(exc, cls):
            return status, code
    return 500, "internal"
