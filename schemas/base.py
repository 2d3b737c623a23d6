"""The vocabulary every wire model is built from: the base models and the reusable field types.

``WireModel`` is the base of every JSON document we serve or read (camelCase on the wire, snake_case in
Python, unknown fields kept for tolerant reading); ``ASModel`` adds the ``@context`` of ActivityStreams
documents. The annotated types encode the conventions of wire-format §1: http(s) IRIs of bounded length,
references that may arrive as embedded objects, one-or-many values read as lists, addressing that spells
Public in full, UTC timestamps with ``Z`` and second precision, wall-clock times with their own offset,
and decimal strings for quantities and money.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeAlias, TypeVar
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    AliasChoices,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    JsonValue,
    PlainSerializer,
    StringConstraints,
    model_validator,
)
from pydantic.alias_generators import to_camel

from schemas.context import PUBLIC, PUBLIC_ALIASES
from schemas.limits import IRI_MAX, NUMERICAL_VALUE_MAX, RECIPIENTS_MAX

T = TypeVar("T")

JSON = JsonValue
"""Any JSON value (pydantic's ``JsonValue``)."""

JsonObject = dict[str, JsonValue]
"""A JSON object."""

_WHITESPACE = re.compile(r"\s")
"""Any Unicode whitespace character (as ``str.isspace`` says), found without a Python loop per character."""


def _check_iri(value: str) -> str:
    if _WHITESPACE.search(value):
        raise ValueError(f"an IRI contains no whitespace, got {value!r}")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or not parts.hostname:
        raise ValueError(f"expected an absolute http(s) URL, got {value!r}")
    return value


IRI = Annotated[str, StringConstraints(min_length=1, max_length=IRI_MAX), AfterValidator(_check_iri)]
"""An absolute http or https URL of at most ``IRI_MAX`` characters."""


def _reference(value: Any) -> Any:
    if isinstance(value, Mapping) and isinstance(value.get("id"), str):
        return value["id"]
    return value


Ref = Annotated[IRI, BeforeValidator(_reference)]
"""An IRI naming another object; an embedded object is read as its ``id`` (tolerant reading)."""


def _recipient(value: Any) -> Any:
    value = _reference(value)
    if isinstance(value, str) and value in PUBLIC_ALIASES:
        return PUBLIC
    return value


Recipient = Annotated[IRI, BeforeValidator(_recipient)]
"""One address of ``to``/``cc``: an IRI; ``as:Public`` and ``Public`` are read as the full Public IRI."""


def _as_list(value: Any) -> Any:
    if isinstance(value, list):
        return value
    if isinstance(value, tuple):
        return list(value)
    return [value]


OneOrMany = Annotated[list[T], BeforeValidator(_as_list)]
"""A value that may arrive alone or as an array; always held, and served, as a list."""

Recipients = Annotated[OneOrMany[Recipient], Field(max_length=RECIPIENTS_MAX)]
"""An addressing field (``to``, ``cc``, ``bto``, ``bcc``): always an array on the wire."""

IdOrObject: TypeAlias = IRI | T
"""Either the IRI of an object or the object embedded."""


def _utc_text(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _wall_text(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


UtcDateTime = Annotated[
    AwareDatetime,
    PlainSerializer(_utc_text, return_type=str, when_used="json"),
]
"""An instant (``published``, ``updated``, ``deleted``): served in UTC, ``Z``, second precision."""

WallDateTime = Annotated[
    AwareDatetime,
    PlainSerializer(_wall_text, return_type=str, when_used="json"),
]
"""A wall-clock time (``startTime``, ``hasBeginning``, ``nextSlot``…): served with its own offset."""

_DECIMAL_PATTERN = r"^[0-9]+(\.[0-9]+)?$"
_DECIMAL = re.compile(_DECIMAL_PATTERN)


def _decimal_text(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


DecimalString = Annotated[
    str,
    BeforeValidator(_decimal_text),
    StringConstraints(max_length=NUMERICAL_VALUE_MAX, pattern=_DECIMAL_PATTERN),
]
"""A non-negative decimal written as a string (``"1"``, ``"30.00"``); ints and Decimals are converted."""


def is_decimal_string(value: object) -> bool:
    """Tell whether ``value`` is a decimal string as the wire format writes quantities and money."""
    return isinstance(value, str) and len(value) <= NUMERICAL_VALUE_MAX and _DECIMAL.match(value) is not None


def _plain_json(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(key): _plain_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain_json(item) for item in value]
    return value


class WireModel(BaseModel):
    """Base of every JSON document model: snake_case attributes, camelCase JSON, unknown fields kept.

    Attributes are built by name (``attributed_to=...``) and read by their JSON spelling
    (``attributedTo``) or by name. Fields the model does not declare are kept (``extra="allow"``) so that
    inbound documents are read tolerantly and served back unchanged. :meth:`to_wire` produces the JSON
    object to serve, in declaration order, without ``None`` values.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="allow",
        allow_inf_nan=False,
    )

    def to_wire(self) -> dict[str, Any]:
        """Return the JSON object of this document: aliases, JSON types, ``None`` values left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class ASModel(WireModel):
    """Base of every ActivityStreams model: a :class:`WireModel` with an optional ``@context``.

    ``context`` is read from ``@context`` and served as ``@context``; a value passed in (for instance
    ``FEDICOOP_CONTEXT``) is copied into plain lists and dicts, so the shared constant is never aliased.
    The total of ``to``, ``cc``, ``bto`` and ``bcc`` entries is bounded by ``RECIPIENTS_MAX``.
    """

    context: Annotated[Any, BeforeValidator(_plain_json)] = Field(
        default=None,
        validation_alias=AliasChoices("@context", "context"),
        serialization_alias="@context",
    )

    @model_validator(mode="after")
    def _check_recipient_total(self) -> ASModel:
        total = 0
        for name in ("to", "cc", "bto", "bcc"):
            value = getattr(self, name, None)
            if isinstance(value, list):
                total += len(value)
        if total > RECIPIENTS_MAX:
            raise ValueError(f"to + cc + bto + bcc hold {total} entries, more than {RECIPIENTS_MAX}")
        return self


class ASObject(ASModel):
    """Any ActivityStreams object we do not model more precisely: ``id`` and ``type``, the rest kept as is.

    Used as the fallback member of the unions read from inbound documents (an embedded ``Like``, a
    Mastodon ``Note``, an ``Emoji`` tag…); its ``id`` is any string, not only an http(s) IRI.
    """

    id: str | None = None
    type: str | list[str] | None = None


REF_TAG: Literal["@ref"] = "@ref"
"""Discriminator tag of a bare IRI in the unions built with :func:`tag_by_type`."""

OTHER_TAG: Literal["@other"] = "@other"
"""Discriminator tag of the :class:`ASObject` fallback in the unions built with :func:`tag_by_type`."""


def type_of(value: Any) -> object:
    """Return the ``type`` of a JSON object or a model instance (``None`` when there is none)."""
    if isinstance(value, Mapping):
        return value.get("type")
    if isinstance(value, BaseModel):
        return getattr(value, "type", None)
    return None


def type_names(value: Any) -> frozenset[str]:
    """The ``type`` names of a JSON object, whether ``type`` is one string or a list of them.

    >>> sorted(type_names({"type": ["Note", "fc:Listing"]})), type_names({"type": "Note"}), type_names(3)
    (['Note', 'fc:Listing'], frozenset({'Note'}), frozenset())
    """
    kind = type_of(value)
    if isinstance(kind, str):
        return frozenset({kind})
    if isinstance(kind, list):
        return frozenset(item for item in kind if isinstance(item, str))
    return frozenset()


def tag_by_type(known: Mapping[str, str]) -> Callable[[Any], str]:
    """Build the function of a ``Discriminator`` that routes a value by its ``type``.

    A string gets :data:`REF_TAG`, an object whose ``type`` is a key of ``known`` gets the matching tag,
    and anything else (including an :class:`ASObject` instance) gets :data:`OTHER_TAG`.
    """

    def pick(value: Any) -> str:
        if isinstance(value, str):
            return REF_TAG
        if type(value) is ASObject:
            return OTHER_TAG
        kind = type_of(value)
        if isinstance(kind, str) and kind in known:
            return known[kind]
        return OTHER_TAG

    return pick


def discriminator(known: Mapping[str, str]) -> Discriminator:
    """Return a pydantic ``Discriminator`` routing by ``type`` as :func:`tag_by_type` describes."""
    return Discriminator(tag_by_type(known))
