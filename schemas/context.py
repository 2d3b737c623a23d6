"""JSON-LD context, namespace, addressing constants and the category taxonomy (wire-format §2, domain.md §4).

``FEDICOOP_CONTEXT`` is the one context every object we serve carries. It is a plain list holding plain
dicts at runtime (so ``json.dumps`` and equality just work) but is typed as read-only ``Sequence`` and
``Mapping``, so that ``mypy`` refuses code that would mutate the shared constant; use
:func:`fedicoop_context` for a private, mutable copy.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Final, Literal, NamedTuple

from schemas.errors import UnknownCategoryError

FEDICOOP_NS: Final = "https://w3id.org/fedicoop/ns#"
AS_CONTEXT: Final = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT: Final = "https://w3id.org/security/v1"
AS_NS: Final = "https://www.w3.org/ns/activitystreams#"
PUBLIC: Final = "https://www.w3.org/ns/activitystreams#Public"
PUBLIC_ALIASES: Final = frozenset({PUBLIC, "as:Public", "Public"})

ContextTerm = str | Mapping[str, str]
"""A term definition of the inline context: an IRI string or an expanded definition."""

FEDICOOP_CONTEXT: Final[Sequence[str | Mapping[str, ContextTerm]]] = [
    AS_CONTEXT,
    SECURITY_CONTEXT,
    {
        "fc": FEDICOOP_NS,
        "vf": "https://w3id.org/valueflows/ont/vf#",
        "om2": "http://www.ontology-of-units-of-measure.org/resource/om-2/",
        "schema": "http://schema.org#",
        "toot": "http://joinmastodon.org/ns#",
        "mz": "https://joinmobilizon.org/ns#",
        "ical": "http://www.w3.org/2002/12/cal/ical#",
        "ev": "https://w3id.org/fep/8a8e/",
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "Hashtag": "as:Hashtag",
        "discoverable": "toot:discoverable",
        "indexable": "toot:indexable",
        "PropertyValue": "schema:PropertyValue",
        "value": "schema:value",
        "MonetaryAmount": "schema:MonetaryAmount",
        "currency": "schema:currency",
        "PostalAddress": "schema:PostalAddress",
        "address": "schema:address",
        "streetAddress": "schema:streetAddress",
        "postalCode": "schema:postalCode",
        "addressLocality": "schema:addressLocality",
        "addressRegion": "schema:addressRegion",
        "addressCountry": "schema:addressCountry",
        "OpeningHoursSpecification": "schema:OpeningHoursSpecification",
        "openingHoursSpecification": "schema:openingHoursSpecification",
        "dayOfWeek": {"@id": "schema:dayOfWeek", "@type": "@id"},
        "opens": "schema:opens",
        "closes": "schema:closes",
        "validFrom": "schema:validFrom",
        "validThrough": "schema:validThrough",
        "maximumAttendeeCapacity": "schema:maximumAttendeeCapacity",
        "remainingAttendeeCapacity": "schema:remainingAttendeeCapacity",
        "inLanguage": "schema:inLanguage",
        "Proposal": "vf:Proposal",
        "Intent": "vf:Intent",
        "Agreement": "vf:Agreement",
        "Commitment": "vf:Commitment",
        "purpose": "vf:purpose",
        "publishes": "vf:publishes",
        "reciprocal": "vf:reciprocal",
        "unitBased": "vf:unitBased",
        "action": "vf:action",
        "resourceConformsTo": "vf:resourceConformsTo",
        "resourceClassifiedAs": "vf:resourceClassifiedAs",
        "resourceQuantity": "vf:resourceQuantity",
        "availableQuantity": "vf:availableQuantity",
        "minimumQuantity": "vf:minimumQuantity",
        "hasBeginning": "vf:hasBeginning",
        "hasEnd": "vf:hasEnd",
        "stipulates": "vf:stipulates",
        "stipulatesReciprocal": "vf:stipulatesReciprocal",
        "satisfies": "vf:satisfies",
        "hasUnit": "om2:hasUnit",
        "hasNumericalValue": "om2:hasNumericalValue",
        "category": "ev:category",
        "eventStatus": "ev:eventStatus",
        "timezone": "ev:timezone",
        "joinMode": "ev:joinMode",
        "externalParticipationUrl": "ev:externalParticipationUrl",
        "organizers": "ev:organizers",
        "isOnline": "mz:isOnline",
        "anonymousParticipationEnabled": "mz:anonymousParticipationEnabled",
        "status": "ical:status",
        "kind": "fc:kind",
        "title": "fc:title",
        "deposit": "fc:deposit",
        "loanDuration": "fc:loanDuration",
        "slots": {"@id": "fc:slots", "@type": "@id"},
        "nextSlot": {"@id": "fc:nextSlot", "@type": "xsd:dateTime"},
        "communeCode": "fc:communeCode",
        "departementCode": "fc:departementCode",
        "regionCode": "fc:regionCode",
        "epciCode": "fc:epciCode",
        "cogYear": "fc:cogYear",
    },
]


def fedicoop_context() -> list[Any]:
    """Return a fresh deep copy of ``FEDICOOP_CONTEXT`` as plain lists and dicts, safe to mutate or embed."""
    return copy.deepcopy(list(FEDICOOP_CONTEXT))


Kind = Literal["object", "service", "repair"]
"""What a listing or a category is about: an object, a service or a repair appointment."""


class Category(NamedTuple):
    """One entry of the starter taxonomy: its slug, the listing kind it belongs to and its French label."""

    slug: str
    kind: Kind
    label: str

    @property
    def iri(self) -> str:
        """The category IRI carried in ``resourceConformsTo``."""
        return category_iri(self.slug)


def _taxonomy(*entries: Category) -> Mapping[str, Category]:
    return MappingProxyType({entry.slug: entry for entry in entries})


CATEGORIES: Final[Mapping[str, Category]] = _taxonomy(
    Category("velos-accessoires", "object", "Vélos & accessoires"),
    Category("travaux-outillage", "object", "Travaux & outillage"),
    Category("jardinage", "object", "Jardinage"),
    Category("maison-cuisine", "object", "Maison & cuisine"),
    Category("enfance-puericulture", "object", "Enfance & puériculture"),
    Category("sport-loisirs", "object", "Sport & loisirs"),
    Category("multimedia-informatique", "object", "Multimédia & informatique"),
    Category("autres-objets", "object", "Autres objets"),
    Category("cours", "service", "Cours"),
    Category("soutien-scolaire", "service", "Soutien scolaire"),
    Category("bricolage-depannage", "service", "Bricolage & dépannage"),
    Category("transport-demenagement", "service", "Transport & déménagement"),
    Category("aide-numerique", "service", "Aide numérique"),
    Category("autres-services", "service", "Autres services"),
    Category("reparation-velo", "repair", "Réparation de vélo"),
)

_CATEGORY_BASE: Final = FEDICOOP_NS.removesuffix("#") + "/categories/"


def category_iri(slug: str) -> str:
    """Return the IRI of a starter category, ``{FEDICOOP_NS without #}/categories/{slug}``.

    Raises :class:`~schemas.errors.UnknownCategoryError` for a slug outside the taxonomy, so that a typo
    never reaches the wire.
    """
    if slug not in CATEGORIES:
        known = ", ".join(CATEGORIES)
        raise UnknownCategoryError(f"unknown category slug {slug!r}; expected one of: {known}")
    return _CATEGORY_BASE + slug


def category_slug(iri: str) -> str | None:
    """Return the slug of a fedicoop category IRI read from ``resourceConformsTo``, or ``None`` if unknown."""
    if not iri.startswith(_CATEGORY_BASE):
        return None
    slug = iri.removeprefix(_CATEGORY_BASE)
    return slug if slug in CATEGORIES else None


def is_public(addresses: str | Iterable[str] | None) -> bool:
    """Tell whether an addressing value (``to``, ``cc``…) names Public, in any spelling we accept.

    Accepts one address or several, and the three spellings of Public met in the wild: the full IRI,
    ``as:Public`` and ``Public``.
    """
    if addresses is None:
        return False
    if isinstance(addresses, str):
        return addresses in PUBLIC_ALIASES
    return any(isinstance(address, str) and address in PUBLIC_ALIASES for address in addresses)
