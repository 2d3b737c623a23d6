"""What the portal pages show, built from search results: cards, the search form, facets, active filters.

Everything here is pure: the handlers of :mod:`fedicoop.web.portal` load the rows, the territory and the
authors' names, and these builders turn them into the plain values the templates read. Every link points
into the portal (:class:`PortalLinks`): the detail page of an item, the page of an actor or a node, and
searches that keep the current filters (a facet adds one, an active filter can be removed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from federation.sanitize import html_to_text
from fedicoop.territory import Territory
from fedicoop.web.formatting import duration, money, price, when
from schemas.api import CatalogueFacetsOut, CatalogueItemOut
from schemas.context import CATEGORIES

__all__ = [
    "ActiveFilter",
    "Card",
    "FacetGroup",
    "FacetLink",
    "FormView",
    "Option",
    "PortalLinks",
    "active_filters",
    "card",
    "cards_of",
    "category_label",
    "departements",
    "facet_groups",
    "form_view",
    "item_facts",
    "place_label",
]

KIND_LABELS = {"offer": "Offres", "request": "Demandes", "repair": "Réparations", "event": "Événements"}
"""The kinds of the catalogue, as the form and the facets name them."""

PURPOSE_LABELS = {"offer": "Offres", "request": "Demandes"}

SORT_LABELS = {
    "": "Par défaut (les plus récents, ou les plus proches autour d'un lieu)",
    "date": "Les plus récents",
    "distance": "Les plus proches",
    "start": "Les plus tôt (événements, créneaux)",
}

EVENT_CATEGORIES = {
    "ARTS": "Arts",
    "COMMUNITY": "Vie locale",
    "CRAFTS": "Artisanat",
    "FAMILY_EDUCATION": "Famille et éducation",
    "FOOD_DRINK": "Cuisine et boissons",
    "LEARNING": "Apprentissage",
    "MEETING": "Réunion",
    "MUSIC": "Musique",
    "OUTDOORS_ADVENTURE": "Plein air",
    "PARTY": "Fête",
    "SPORTS": "Sport",
    "WORKSHOPS_SKILL_SHARING": "Ateliers et partage de savoirs",
}
"""French labels of the commonest event categories (those of Mobilizon, FEP-8a8e)."""

EXCERPT_CHARACTERS = 180
"""Characters of plain text a card shows of an item's description."""

PAGING = ("cursor", "limit", "sort")
"""Parameters that change the page, not the set: never shown as filters."""


class PortalLinks:
    """The absolute URLs of the portal pages of one node (``base`` is its bare origin)."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")

    def search(self, parameters: Mapping[str, str]) -> str:
        """The results page for ``parameters`` (blank ones left out)."""
        kept = {key: value for key, value in parameters.items() if value}
        return f"{self.base}/catalogue?{urlencode(kept)}" if kept else f"{self.base}/catalogue"

    def item(self, item_id: int) -> str:
        """The detail page of the catalogue row ``item_id``."""
        return f"{self.base}/catalogue/items/{item_id}"

    def actor(self, actor_iri: str) -> str:
        """The page of an actor, its id percent-encoded whole into the path."""
        return f"{self.base}/catalogue/actors/{quote(actor_iri, safe='')}"

    def node(self, host: str) -> str:
        """The page of an origin node."""
        return f"{self.base}/catalogue/nodes/{quote(host, safe='')}"


@dataclass(frozen=True, slots=True)
class Card:
    """One catalogue item as a page shows it: the item (``CatalogueItemOut`` as JSON), where it is, who
    published it, and the portal links of the item, its author and its node."""

    item: dict[str, Any]
    url: str
    category: str
    place: str
    excerpt: str
    author: str
    author_url: str
    node_url: str


@dataclass(frozen=True, slots=True)
class Option:
    """One ``<option>`` of a select."""

    value: str
    label: str
    selected: bool


@dataclass(frozen=True, slots=True)
class FormView:
    """The search form: the values to refill (parameter → text) and the options of its selects."""

    values: dict[str, str]
    kinds: list[Option]
    categories: list[Option]
    departements: list[Option]
    sorts: list[Option]


@dataclass(frozen=True, slots=True)
class FacetLink:
    """One facet value: its label, how many items have it, the search adding it, whether it is on."""

    label: str
    count: int
    href: str
    active: bool


@dataclass(frozen=True, slots=True)
class FacetGroup:
    """The facet values of one parameter (kind, category or département)."""

    title: str
    links: list[FacetLink] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ActiveFilter:
    """A filter of the current search, and the search without it."""

    label: str
    remove_href: str


def place_label(territory: Territory | None, commune_code: str | None, fallback: str | None) -> str:
    """ "Roubaix (Nord)" from our territory codes, else the place name the origin gave, else ""."""
    commune = territory.commune(commune_code) if territory is not None and commune_code else None
    if commune is None:
        return fallback or ""
    departement = territory.departement_name(commune.departement) if territory is not None else None
    return f"{commune.name} ({departement})" if departement else commune.name


def category_label(slug: str | None) -> str:
    """The French label of a listing category slug or an event category; "" for none."""
    if not slug:
        return ""
    if slug in CATEGORIES:
        return CATEGORIES[slug].label
    return EVENT_CATEGORIES.get(slug) or slug.replace("_", " ").capitalize()


def _plain_excerpt(text: str, title: str) -> str:
    """The start of ``text`` as plain text, without the title it may open with (wire-format §5)."""
    plain = " ".join(html_to_text(text).split())
    plain = plain.removeprefix(" ".join(title.split())).lstrip(" :·-")
    if len(plain) <= EXCERPT_CHARACTERS:
        return plain
    return plain[:EXCERPT_CHARACTERS].rsplit(" ", 1)[0].rstrip(".,;:·- ") + "…"


def card(
    item_id: int,
    view: CatalogueItemOut,
    *,
    links: PortalLinks,
    territory: Territory | None,
    authors: Mapping[str, str],
) -> Card:
    """The card of the catalogue row ``item_id`` (``view`` is its API view); ``authors`` maps actor ids to
    display names (the end of the id when missing)."""
    author = authors.get(view.actor) or view.actor.rstrip("/").rsplit("/", 1)[-1]
    return Card(
        item=view.model_dump(mode="json"),
        url=links.item(item_id),
        place=place_label(territory, view.commune_code, view.location_name),
        category=category_label(view.category),
        excerpt=_plain_excerpt(view.content or view.summary, view.name),
        author=author,
        author_url=links.actor(view.actor),
        node_url=links.node(view.host),
    )


def _options(choices: Iterable[tuple[str, str]], current: str, *, blank: str | None) -> list[Option]:
    """Options for ``choices``; ``current`` is selected, added first when it is none of them."""
    pairs = list(choices)
    if blank is not None:
        pairs.insert(0, ("", blank))
    if current and current not in {value for value, _ in pairs}:
        pairs.insert(1 if blank is not None else 0, (current, current))
    return [Option(value, label, value == current) for value, label in pairs]


def departements(territory: Territory | None) -> list[tuple[str, str]]:
    """Every département of the territory as ``(code, "59 — Nord")``, by code."""
    if territory is None:
        return []
    codes = sorted({commune.departement for commune in territory})
    return [(code, f"{code} — {territory.departement_name(code) or code}") for code in codes]


def form_view(values: Mapping[str, str], territory: Territory | None) -> FormView:
    """The search form refilled with ``values`` (commune codes shown as "Roubaix (59512)")."""
    shown = dict(values)
    for name in ("commune", "near"):
        code = shown.get(name, "")
        commune = territory.commune(code) if territory is not None and code[:1].isdigit() else None
        if commune is not None and "," not in code:
            shown[name] = f"{commune.name} ({commune.code})"
    kind = shown.get("kind", "")
    kinds = [(value, label) for value, label in KIND_LABELS.items()]
    if kind and kind not in KIND_LABELS:
        labels = [KIND_LABELS.get(part, part) for part in kind.split(",")]
        kinds.insert(0, (kind, ", ".join(labels)))
    categories = [(slug, category.label) for slug, category in CATEGORIES.items()]
    return FormView(
        values=shown,
        kinds=_options(kinds, kind, blank="Tous les types"),
        categories=_options(categories, shown.get("category", ""), blank="Toutes les catégories"),
        departements=_options(
            departements(territory), shown.get("departement", ""), blank="Tous les départements"
        ),
        sorts=_options(list(SORT_LABELS.items())[1:], shown.get("sort", ""), blank=SORT_LABELS[""]),
    )


def facet_groups(
    facets: CatalogueFacetsOut,
    parameters: Mapping[str, str],
    links: PortalLinks,
    territory: Territory | None,
) -> list[FacetGroup]:
    """The kind, category and département facets: each value links to the search with that filter set
    (from the first page); the value already filtered on is marked active."""

    def group(title: str, name: str, counts: Mapping[str, int], label: Any) -> FacetGroup:
        current = parameters.get(name, "")
        found = [
            FacetLink(
                label=label(value),
                count=count,
                href=links.search({**parameters, name: value, "cursor": ""}),
                active=value == current,
            )
            for value, count in counts.items()
        ]
        return FacetGroup(title, found)

    def departement(code: str) -> str:
        name = territory.departement_name(code) if territory is not None else None
        return f"{name} ({code})" if name else code

    return [
        group("Type", "kind", facets.kind, lambda value: KIND_LABELS.get(value, value)),
        group("Catégorie", "category", facets.category, category_label),
        group("Département", "departement", facets.departement, departement),
    ]


def _commune_name(territory: Territory | None, code: str) -> str:
    commune = territory.commune(code) if territory is not None else None
    return f"{commune.name} ({commune.code})" if commune is not None else code


def _filter_label(name: str, value: str, territory: Territory | None, authors: Mapping[str, str]) -> str:
    """The French label of one active filter."""
    if name == "kind":
        return "Type : " + ", ".join(KIND_LABELS.get(part, part) for part in value.split(","))
    if name == "category":
        return "Catégorie : " + ", ".join(category_label(part) for part in value.split(","))
    if name == "commune":
        return "Commune : " + _commune_name(territory, value)
    if name == "near":
        shown = _commune_name(territory, value) if "," not in value else value
        return "Autour de : " + shown
    named = {
        "epci": territory.epci_name(value) if territory is not None else None,
        "departement": territory.departement_name(value) if territory is not None else None,
        "region": territory.region_name(value) if territory is not None else None,
    }
    titles = {
        "q": "Mots",
        "epci": "Intercommunalité",
        "departement": "Département",
        "region": "Région",
        "radius": "Rayon",
        "from": "À partir du",
        "to": "Jusqu'au",
        "node": "Nœud",
        "purpose": "Offre ou demande",
        "actor": "Publié par",
    }
    if name == "radius":
        value = f"{value} km"
    elif name == "purpose":
        value = PURPOSE_LABELS.get(value, value)
    elif name == "actor":
        value = authors.get(value, value)
    elif named.get(name):
        value = f"{named[name]} ({value})"
    return f"{titles.get(name, name)} : {value}"


def active_filters(
    parameters: Mapping[str, str],
    links: PortalLinks,
    territory: Territory | None,
    authors: Mapping[str, str] | None = None,
) -> list[ActiveFilter]:
    """The filters of the search, each with the link that removes it (removing ``near`` removes its
    radius and the distance order too, which would be refused without it)."""
    found = []
    for name, value in parameters.items():
        if name in PAGING or not value:
            continue
        without = {**parameters, name: "", "cursor": ""}
        if name == "near":
            without["radius"] = ""
            if parameters.get("sort") == "distance":
                without["sort"] = ""
        found.append(
            ActiveFilter(_filter_label(name, value, territory, authors or {}), links.search(without))
        )
    return found


def cards_of(
    rows: Sequence[tuple[int, CatalogueItemOut]],
    links: PortalLinks,
    territory: Territory | None,
    authors: Mapping[str, str],
) -> list[Card]:
    """The cards of ``(row id, view)`` pairs, in order."""
    return [card(pk, view, links=links, territory=territory, authors=authors) for pk, view in rows]


def item_facts(
    view: CatalogueItemOut, document: Mapping[str, Any], territory: Territory | None
) -> list[tuple[str, str]]:
    """The "En bref" lines of an item's page, as ``(label, text)``: category, place and territory (our
    codes, named), dates, and for an offer or a request what it asks in return, its deposit and loan
    period."""
    facts: list[tuple[str, str]] = []
    if view.category:
        facts.append(("Catégorie", category_label(view.category)))
    if view.location_name:
        facts.append(("Lieu", view.location_name))
    commune = territory.commune(view.commune_code) if territory is not None and view.commune_code else None
    if commune is not None and territory is not None:
        facts.append(("Commune", f"{commune.name} ({commune.code})"))
        epci = territory.epci_name(commune.epci) if commune.epci else None
        if epci:
            facts.append(("Intercommunalité", epci))
        facts.append(
            ("Département", f"{territory.departement_name(commune.departement)} ({commune.departement})")
        )
    if view.radius:
        facts.append(
            (
                "Précision",
                f"position approximative, à {round(view.radius / 100) / 10:g} km près".replace(".", ","),
            )
        )
    if view.starts_at is not None:
        label = "Quand" if view.kind == "event" else "Période"
        facts.append(
            (label, when(view.starts_at.isoformat(), view.ends_at.isoformat() if view.ends_at else None))
        )
    if document.get("type") == "Note" and document.get("kind") in ("object", "service"):
        if view.kind == "offer" or document.get("reciprocal") is not None:
            facts.append(
                ("Contrepartie proposée" if view.kind == "request" else "Conditions", price(document))
            )
        deposit = money(document.get("deposit"))
        if deposit:
            facts.append(("Caution", deposit))
        loan = duration(document.get("loanDuration"))
        if loan:
            facts.append(("Durée du prêt", loan))
    return facts
