"""Activities (wire-format §9): what we send and accept, and a union on ``type`` to read them.

Each activity is a model with a literal ``type``; :data:`Activity` is their discriminated union and
:func:`parse_activity` reads an inbound activity with it. Embedded objects are routed by their ``type``
(a ``Note`` with ``purpose`` is a listing); anything we do not model is kept as an
:class:`~schemas.base.ASObject`, and a bare IRI stays a string. Activities carry no ``@context`` unless
given one: §2 says which context each activity carries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Discriminator, Field, RootModel, Tag

from schemas.actors import ACTOR_TYPES, Actor
from schemas.base import (
    IRI,
    OTHER_TAG,
    REF_TAG,
    ASModel,
    ASObject,
    Recipient,
    Recipients,
    Ref,
    UtcDateTime,
    discriminator,
    type_of,
)
from schemas.bookings import Agreement
from schemas.events import Event
from schemas.limits import CONTENT_MAX
from schemas.listings import Note


class Tombstone(ASModel):
    """What a deleted object becomes (§4.4, §9.3): ``id``, ``formerType`` and ``deleted``."""

    type: Literal["Tombstone"] = "Tombstone"
    id: IRI
    former_type: str | None = None
    deleted: UtcDateTime | None = None


_LISTING_TAG = "listing"
_ACTOR_TAG = "actor"
_MODEL_TAGS: tuple[tuple[type[BaseModel], str], ...] = (
    (Note, _LISTING_TAG),
    (Event, "Event"),
    (Actor, _ACTOR_TAG),
    (Tombstone, "Tombstone"),
)


def _object_tag(value: Any) -> str:
    if isinstance(value, str):
        return REF_TAG
    if isinstance(value, BaseModel):
        return next((tag for model, tag in _MODEL_TAGS if isinstance(value, model)), OTHER_TAG)
    kind = type_of(value)
    if kind == "Note":
        return _LISTING_TAG if isinstance(value, Mapping) and "purpose" in value else OTHER_TAG
    if kind == "Event" or kind == "Tombstone":
        return kind
    if isinstance(kind, str) and kind in ACTOR_TYPES:
        return _ACTOR_TAG
    return OTHER_TAG


ActivityObject = Annotated[
    Annotated[IRI, Tag(REF_TAG)]
    | Annotated[Note, Tag(_LISTING_TAG)]
    | Annotated[Event, Tag("Event")]
    | Annotated[Actor, Tag(_ACTOR_TAG)]
    | Annotated[Tombstone, Tag("Tombstone")]
    | Annotated[ASObject, Tag(OTHER_TAG)],
    Discriminator(_object_tag),
]
"""The ``object`` of a Create or Update: a listing ``Note``, an ``Event``, an actor, or anything else."""

DeletedObject = Annotated[
    Annotated[IRI, Tag(REF_TAG)]
    | Annotated[Tombstone, Tag("Tombstone")]
    | Annotated[ASObject, Tag(OTHER_TAG)],
    discriminator({"Tombstone": "Tombstone"}),
]
"""The ``object`` of a Delete: an id or a ``Tombstone`` (or an embedded object, read as is)."""


class BaseActivity(ASModel):
    """Fields shared by every activity: ``id``, ``type``, ``actor``, ``object``, time and addressing.

    ``to``/``cc``/``bto``/``bcc`` are read one-or-many and served as arrays; ``bto``/``bcc`` are removed
    before sending (§9.1). ``content`` is the human reason of a booking ``Offer`` or ``Reject``.
    """

    id: IRI
    type: str
    actor: Ref
    object: Any = None
    published: UtcDateTime | None = None
    to: Recipients | None = None
    cc: Recipients | None = None
    bto: Recipients | None = None
    bcc: Recipients | None = None
    content: str | None = Field(default=None, max_length=CONTENT_MAX)


class Create(BaseActivity):
    """``Create`` with the object embedded; ``actor`` = ``attributedTo``, time and addressing copied."""

    type: Literal["Create"] = "Create"
    object: ActivityObject


class Update(BaseActivity):
    """``Update`` with the full object and a newer ``updated`` (or an actor's new profile)."""

    type: Literal["Update"] = "Update"
    object: ActivityObject


class Delete(BaseActivity):
    """``Delete`` whose ``object`` is a ``Tombstone`` ``{id, formerType, deleted}`` (or an id on input)."""

    type: Literal["Delete"] = "Delete"
    object: DeletedObject


class Announce(BaseActivity):
    """``Announce`` by the application actor; ``object`` is an id (an embedded object is read as its id)."""

    type: Literal["Announce"] = "Announce"
    object: Ref


class Follow(BaseActivity):
    """``Follow`` of an actor, or of Public for the application actor (Mastodon relays)."""

    type: Literal["Follow"] = "Follow"
    object: Recipient


class Offer(BaseActivity):
    """A booking ``Offer{Agreement}`` addressed only to the workshop actor (§6.3)."""

    type: Literal["Offer"] = "Offer"
    object: Annotated[
        Annotated[IRI, Tag(REF_TAG)]
        | Annotated[Agreement, Tag("Agreement")]
        | Annotated[ASObject, Tag(OTHER_TAG)],
        discriminator({"Agreement": "Agreement"}),
    ]


AnsweredObject = Annotated[
    Annotated[IRI, Tag(REF_TAG)]
    | Annotated[Follow, Tag("Follow")]
    | Annotated[Offer, Tag("Offer")]
    | Annotated[ASObject, Tag(OTHER_TAG)],
    discriminator({"Follow": "Follow", "Offer": "Offer"}),
]
"""The ``object`` of an Accept, Reject or Undo: an activity id, an embedded Follow or Offer, or else."""


class Accept(BaseActivity):
    """``Accept`` of a Follow (embedded) or of a booking Offer (by id, with the Agreement as ``result``)."""

    type: Literal["Accept"] = "Accept"
    object: AnsweredObject
    result: Agreement | None = None


class Reject(BaseActivity):
    """``Reject`` of a Follow or of a booking Offer; ``content`` says why."""

    type: Literal["Reject"] = "Reject"
    object: AnsweredObject


class Undo(BaseActivity):
    """``Undo`` of a Follow or of a booking Offer, sent by the follower or the requester."""

    type: Literal["Undo"] = "Undo"
    object: AnsweredObject


class Ignore(BaseActivity):
    """``Ignore`` whose ``object`` is the id of a ``Join`` we do not manage (FEP-8a8e, §7)."""

    type: Literal["Ignore"] = "Ignore"
    object: Ref


class Join(BaseActivity):
    """An incoming ``Join`` of an event, read only to answer it with :class:`Ignore`."""

    type: Literal["Join"] = "Join"
    object: Ref


Activity = Annotated[
    Create | Update | Delete | Announce | Follow | Accept | Reject | Undo | Offer | Ignore | Join,
    Field(discriminator="type"),
]
"""Every activity we send or accept, discriminated on ``type``."""

ACTIVITY_TYPES: frozenset[str] = frozenset(
    {
        "Create",
        "Update",
        "Delete",
        "Announce",
        "Follow",
        "Accept",
        "Reject",
        "Undo",
        "Offer",
        "Ignore",
        "Join",
    }
)
"""The ``type`` values :data:`Activity` knows; anything else is stored and marked ignored (§9.1)."""


class ActivityDocument(RootModel[Activity]):
    """A JSON document holding one activity; ``ActivityDocument.model_validate(data).root`` reads it."""

    def to_wire(self) -> dict[str, Any]:
        """Return the JSON object of the activity held (see :meth:`~schemas.base.WireModel.to_wire`)."""
        return self.root.to_wire()


def parse_activity(data: Mapping[str, Any]) -> Activity:
    """Read an inbound activity into its model; raises pydantic's ``ValidationError`` when it does not fit.

    Check ``data["type"]`` against :data:`ACTIVITY_TYPES` first: an unknown type is not an error, it is
    an activity we ignore.
    """
    return ActivityDocument.model_validate(data).root
