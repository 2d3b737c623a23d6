"""Bookings (wire-format §6.3): the FEP-0837 ``Agreement`` and the ``Commitment`` it stipulates.

The requester sends ``Offer{Agreement}`` whose Commitment ``satisfies`` a slot Intent; the workshop
answers ``Accept`` with the finalised Agreement (``id``, ``attributedTo``, ``url``) as ``result``.
"""

from __future__ import annotations

from typing import Literal

from schemas.base import IRI, ASModel, Ref, WallDateTime
from schemas.listings import Quantity
from schemas.media import Link


class Commitment(ASModel):
    """A ValueFlows ``Commitment``: it ``satisfies`` a slot Intent, for ``resourceQuantity`` one/``"1"``."""

    id: IRI | None = None
    type: Literal["Commitment"] = "Commitment"
    satisfies: Ref
    resource_quantity: Quantity
    has_beginning: WallDateTime | None = None
    has_end: WallDateTime | None = None


class Agreement(ASModel):
    """A ValueFlows ``Agreement``: proposed without id in an ``Offer``, finalised with one in ``Accept``."""

    type: Literal["Agreement"] = "Agreement"
    id: IRI | None = None
    attributed_to: Ref | None = None
    stipulates: Commitment
    stipulates_reciprocal: Commitment | None = None
    url: IRI | Link | None = None
