"""Offers and requests (wire-format §5, §6.1): the FEP-0837 ``Note`` and its ValueFlows parts.

A listing is a ``Note`` with ``kind``, ``purpose`` and ``title`` and no ``name`` or ``summary``; its
``publishes`` Intent says what is offered or requested, ``reciprocal`` what is asked in return.
Quantities (``hasNumericalValue``) and money (``value``) are decimal strings.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from schemas.base import (
    IRI,
    ASModel,
    DecimalString,
    OneOrMany,
    Recipients,
    Ref,
    UtcDateTime,
    WallDateTime,
)
from schemas.context import Kind
from schemas.limits import ATTACHMENT_MAX, CODE_MAX, CONTENT_MAX, LOAN_DURATION_MAX, TAG_MAX, TITLE_MAX
from schemas.media import AttachmentItem, TagItem, UrlValue
from schemas.places import Location

Purpose = Literal["offer", "request"]
"""FEP-0837 ``purpose`` of a proposal."""

ACTION_TRANSFER = "transfer"
ACTION_TRANSFER_CUSTODY = "transferCustody"
ACTION_DELIVER_SERVICE = "deliverService"
UNIT_ONE = "one"
UNIT_HOUR = "hour"
EURO_RESOURCE = "https://www.wikidata.org/wiki/Q4916"


class Quantity(ASModel):
    """An OM2 measure: ``hasUnit`` (``one``, ``hour``…) and ``hasNumericalValue`` as a decimal string."""

    has_unit: str = Field(max_length=CODE_MAX)
    has_numerical_value: DecimalString


class MonetaryAmount(ASModel):
    """A schema.org ``MonetaryAmount`` (a loan's deposit): decimal-string ``value``, ISO 4217 ``currency``."""

    type: Literal["MonetaryAmount"] = "MonetaryAmount"
    value: DecimalString
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


class Intent(ASModel):
    """A ValueFlows ``Intent``: the ``publishes`` or ``reciprocal`` part of a listing, or a repair slot.

    ``action`` is any string on input (unknown ones are shown as "autre"); we emit ``transfer``,
    ``transferCustody`` and ``deliverService``. ``hasBeginning``/``hasEnd`` are wall-clock times.
    """

    type: Literal["Intent"] = "Intent"
    id: IRI | None = None
    action: str = Field(max_length=CODE_MAX)
    resource_conforms_to: IRI | None = None
    resource_classified_as: OneOrMany[IRI] | None = None
    resource_quantity: Quantity | None = None
    available_quantity: Quantity | None = None
    minimum_quantity: Quantity | None = None
    has_beginning: WallDateTime | None = None
    has_end: WallDateTime | None = None


class Note(ASModel):
    """An offer, a request or a repair offer: a FEP-0837 ``Note`` (§5, §6.1).

    Required: ``id``, ``kind``, ``purpose``, ``attributed_to``, ``title``, ``content`` and the primary
    Intent in ``publishes``. A listing never has ``name`` nor ``summary`` (see ``schemas.rules``).
    Lending adds ``deposit`` and ``loan_duration``; a repair offer adds ``slots`` and ``next_slot``.
    """

    id: IRI
    type: Literal["Note"] = "Note"
    kind: Kind
    purpose: Purpose
    attributed_to: Ref
    title: str = Field(min_length=1, max_length=TITLE_MAX)
    content: str = Field(max_length=CONTENT_MAX)
    content_map: dict[str, Annotated[str, Field(max_length=CONTENT_MAX)]] | None = None
    media_type: str | None = None
    url: UrlValue | None = None
    published: UtcDateTime | None = None
    updated: UtcDateTime | None = None
    to: Recipients | None = None
    cc: Recipients | None = None
    tag: Annotated[OneOrMany[TagItem], Field(max_length=TAG_MAX)] | None = None
    attachment: Annotated[OneOrMany[AttachmentItem], Field(max_length=ATTACHMENT_MAX)] | None = None
    location: Location | None = None
    publishes: Intent
    reciprocal: Intent | None = None
    unit_based: bool | None = None
    deposit: MonetaryAmount | None = None
    loan_duration: str | None = Field(default=None, max_length=LOAN_DURATION_MAX)
    slots: IRI | None = None
    next_slot: WallDateTime | None = None
