"""Tests of fedicoop.web.rendering: the HTML pages rendered from the wire-format documents.

The fixtures are the golden examples of wire-format.md (§3.1, §5, §6.1, §6.2, §7) from
``schemas.examples``, loaded afresh for each test. Pages are checked with the standard library's
``html.parser``: structure (doctype, language, landmarks, one ``h1``, skip link, well-formed
nesting), content, and the absence of any active content coming from hostile documents.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from html.parser import HTMLParser
from importlib.resources import files
from typing import Any

import jinja2
import pytest

from fedicoop.web.rendering import PageRenderer
from schemas.examples import load_example

SITE = "Atelier vélo de Fives"
BASE_URL = "https://velo-fives.example"
VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)
NOT_IN_P = frozenset(
    {"p", "div", "ul", "ol", "dl", "section", "article", "header", "footer", "nav", "main", "h1"}
)

# --- fixtures: the golden examples of wire-format.md (schemas/examples) and one cooperative ---------

_PARTAGE_LILLE: dict[str, Any] = {
    "id": "https://partage-lille.example/actors/partage-lille",
    "type": "Organization",
    "preferredUsername": "partage-lille",
    "name": "Partage Lille",
    "summary": (
        "<p>Coopérative d'échange de biens et de services. Nœud de démonstration : données fictives.</p>"
    ),
    "url": "https://partage-lille.example/@partage-lille",
    "inbox": "https://partage-lille.example/actors/partage-lille/inbox",
}


def _example(name: str) -> dict[str, Any]:
    """A golden example of wire-format.md (``schemas/examples``), as the node serves it."""
    return load_example(name)


def organization() -> dict[str, Any]:
    """The workshop actor of wire-format §3.1."""
    return _example("actor-organization")


def partage_lille() -> dict[str, Any]:
    """The cooperative actor the §5 listings are attributed to (not an example of its own in the doc)."""
    return copy.deepcopy(_PARTAGE_LILLE)


def offer() -> dict[str, Any]:
    """The loan offer of wire-format §5."""
    return _example("offer-loan")


def request() -> dict[str, Any]:
    """The request of wire-format §5."""
    return _example("request")


def repair_offer() -> dict[str, Any]:
    """The repair offer of wire-format §6.1."""
    return _example("repair-offer")


def slot_page() -> dict[str, Any]:
    """The first page of the slot collection of wire-format §6.2."""
    return _example("slot-page")


def event() -> dict[str, Any]:
    """The event of wire-format §7."""
    return _example("event")


def tombstone() -> dict[str, Any]:
    """The Tombstone a deleted listing answers with (wire-format §4.4)."""
    return {
        "type": "Tombstone",
        "id": "https://velo-fives.example/listings/0199d2a0-0000-7000-8000-000000000001",
        "formerType": "Note",
        "deleted": "2025-10-20T09:30:00Z",
    }


def node() -> dict[str, Any]:
    """The node summary passed to the home page."""
    return {
        "name": "Vélo Fives",
        "base_url": BASE_URL,
        "description": (
            "Nœud de démonstration : les annonces sont fictives.\n\nAtelier coopératif à Lille-Fives."
        ),
        "counts": {"actors": 2, "listings": 3, "events": 1},
    }


# --- helpers -------------------------------------------------------------------------------------------


class Page(HTMLParser):
    """A parsed page: every start tag with its attributes, the text, and the nesting errors found."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.source = source
        self.doctype: str | None = None
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.errors: list[str] = []
        self.h1_texts: list[str] = []
        self._stack: list[str] = []
        self._text: list[str] = []
        self._h1: list[str] | None = None
        self.feed(source)
        self.close()
        if self._stack:
            self.errors.append(f"unclosed: {self._stack}")

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in NOT_IN_P and "p" in self._stack:
            self.errors.append(f"<{tag}> inside <p>")
        if tag == "h1":
            self._h1 = []
        if tag == "br":
            self._text.append(" ")
        if tag not in VOID_TAGS:
            self._stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.errors.append(f"self-closing <{tag}/>")
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID_TAGS:
            self.errors.append(f"end tag of void element </{tag}>")
        elif not self._stack or self._stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self._stack[-1:] or 'nothing'}")
        else:
            self._stack.pop()
        if tag == "h1" and self._h1 is not None:
            self.h1_texts.append(_squash("".join(self._h1)))
            self._h1 = None

    def handle_data(self, data: str) -> None:
        self._text.append(data)
        if self._h1 is not None:
            self._h1.append(data)

    @property
    def text(self) -> str:
        """The text of the page, whitespace collapsed."""
        return _squash("".join(self._text))

    def all(self, tag: str, **wanted: str) -> list[dict[str, str | None]]:
        """The attributes of every ``tag`` whose attributes include ``wanted``."""
        return [
            attrs
            for name, attrs in self.tags
            if name == tag and all(attrs.get(key) == value for key, value in wanted.items())
        ]

    def hrefs(self) -> list[str | None]:
        """The ``href`` of every link of the page."""
        return [attrs.get("href") for attrs in self.all("a")]


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def assert_valid_page(page: Page) -> None:
    """The structure every page shares: HTML5, French, landmarks, one h1, a skip link, no script."""
    assert page.doctype is not None and page.doctype.lower() == "doctype html"
    assert page.errors == []
    assert page.all("html", lang="fr")
    assert page.all("meta", name="viewport")
    assert page.all("link", rel="stylesheet", href="/static/fedicoop.css")
    for landmark in ("header", "nav", "main", "footer"):
        assert page.all(landmark), landmark
    assert len(page.all("h1")) == 1
    main = page.all("main")
    assert len(main) == 1 and main[0]["id"] == "contenu"
    assert page.hrefs()[0] == "#contenu"
    assert all(attrs.get("aria-label") for attrs in page.all("nav"))
    assert all("alt" in attrs for attrs in page.all("img"))
    ids = [attrs["id"] for _, attrs in page.tags if "id" in attrs]
    assert len(ids) == len(set(ids))
    assert "<script" not in page.source.lower()
    assert "&amp;amp;" not in page.source


def assert_alternate(page: Page, href: str) -> None:
    """The page links its ActivityStreams representation."""
    assert page.all("link", rel="alternate", type="application/activity+json") == [
        {"rel": "alternate", "type": "application/activity+json", "href": href}
    ]


def assert_inert(source: str) -> None:
    """No active content at all in a page rendered from hostile documents."""
    lowered = source.lower()
    for needle in ("<script", "onerror", "onload", "<iframe", "javascript:", "<svg", "data:text"):
        assert needle not in lowered, needle


@pytest.fixture
def renderer() -> PageRenderer:
    return PageRenderer(SITE, BASE_URL)


# --- construction --------------------------------------------------------------------------------------


@pytest.mark.parametrize("base_url", ["velo-fives.example", "ftp://velo-fives.example", "https://", ""])
def test_page_renderer__refuses_a_base_url_that_is_not_absolute_http(base_url: str) -> None:
    with pytest.raises(ValueError, match="base_url"):
        PageRenderer(SITE, base_url)


def test_page_renderer__refuses_an_empty_site_name() -> None:
    with pytest.raises(ValueError, match="site_name"):
        PageRenderer("  ", BASE_URL)


def test_page_renderer__renderers_do_not_share_their_environment() -> None:
    first = Page(PageRenderer("Nœud A", "https://a.example/").error(404, "Introuvable", "Rien ici."))
    second = Page(PageRenderer("Nœud B", "https://b.example").error(404, "Introuvable", "Rien ici."))

    assert "Nœud A" in first.text and "Nœud B" not in first.text
    assert "https://b.example/" in second.hrefs()
    assert "https://a.example//" not in first.hrefs()


# --- every page ----------------------------------------------------------------------------------------


PAGES: dict[str, Callable[[PageRenderer], str]] = {
    "home": lambda r: r.home(node(), [organization(), partage_lille()], [offer(), repair_offer()], [event()]),
    "home_empty": lambda r: r.home({"name": "Vélo Fives"}, [], [], []),
    "actor": lambda r: r.actor(organization(), [repair_offer()], [event()]),
    "offer": lambda r: r.listing(offer(), partage_lille()),
    "request": lambda r: r.listing(request(), partage_lille()),
    "repair_offer": lambda r: r.listing(repair_offer(), organization()),
    "event": lambda r: r.event(event(), organization()),
    "slots": lambda r: r.slots(repair_offer(), organization(), slot_page()["orderedItems"], 1, True),
    "gone": lambda r: r.gone(tombstone()),
    "error": lambda r: r.error(404, "Page introuvable", "Cette adresse ne mène nulle part."),
}


@pytest.mark.parametrize("name", list(PAGES))
def test_pages__share_a_valid_accessible_structure(renderer: PageRenderer, name: str) -> None:
    assert_valid_page(Page(PAGES[name](renderer)))


# --- listings ------------------------------------------------------------------------------------------


def test_listing__renders_the_loan_offer(renderer: PageRenderer) -> None:
    page = Page(renderer.listing(offer(), partage_lille()))

    assert page.h1_texts == ["Prêt : perceuse-visseuse 18 V"]
    assert_alternate(page, offer()["id"])
    for expected in (
        "Offre",
        "Objet",
        "Sans fil, deux batteries et un coffret d'embouts.",
        "Catégorie Travaux & outillage",
        "Nature Prêt",
        "Lieu Lille",
        "Caution 30 €",
        "Durée du prêt 7 jours",
        "Conditions Gratuit",
        "Offre publiée par Partage Lille le jeudi 2 octobre 2025",
        "#Pret",
        "Voir l'annonce d'origine sur ebs-lille.example",
    ):
        assert expected in page.text, expected
    assert "En pause" not in page.text
    assert page.all("img", alt="Perceuse-visseuse bleue posée sur son coffret")
    assert page.all("a", href=offer()["url"])
    assert "https://partage-lille.example/@partage-lille" in page.hrefs()


def test_listing__does_not_repeat_the_title_at_the_top_of_the_description(renderer: PageRenderer) -> None:
    page = Page(renderer.listing(offer(), partage_lille()))

    assert page.text.count("Prêt : perceuse-visseuse 18 V") == 2  # <title> and <h1>
    assert page.all("strong") == []


def test_listing__drops_the_leading_title_even_with_special_characters(renderer: PageRenderer) -> None:
    note = offer()
    note["title"] = 'Vélos & <remorques> "cargo"'
    note["content"] = '<p><strong>Vélos &amp; &lt;remorques&gt; "cargo"</strong></p><p>Deux remorques.</p>'

    page = Page(renderer.listing(note, partage_lille()))

    assert page.h1_texts == ['Vélos & <remorques> "cargo"']
    assert page.all("strong") == []
    assert "Deux remorques." in page.text


def test_listing__renders_the_request_and_its_period(renderer: PageRenderer) -> None:
    page = Page(renderer.listing(request(), partage_lille()))

    assert page.h1_texts == ["Recherche : remorque vélo pour enfant"]
    assert_alternate(page, request()["id"])
    assert "Demande" in page.text
    assert "Catégorie Vélos & accessoires" in page.text
    assert "Période souhaitée du samedi 25 octobre 2025 à 9h au dimanche 26 octobre 2025 à 19h" in page.text
    assert "Voir l'annonce d'origine" not in page.text  # its url is its own id
    assert "Gratuit" not in page.text and "Contrepartie" not in page.text


def test_listing__renders_the_repair_offer_with_its_next_slot(renderer: PageRenderer) -> None:
    page = Page(renderer.listing(repair_offer(), organization()))

    assert page.h1_texts == ["Réparation de vélo sur rendez-vous"]
    assert "Réparation" in page.text
    assert "Prochain créneau libre : mardi 14 octobre à 14h" in page.text
    assert page.all("a", href=f"{repair_offer()['id']}/slots")
    assert "Lieu Atelier vélo de Fives 12 rue de l'Exemple, 59800 Lille" in page.text
    assert "Gratuit" not in page.text


def test_listing__links_the_slots_page_from_the_id_when_slots_is_absent(renderer: PageRenderer) -> None:
    note = repair_offer()
    del note["slots"], note["nextSlot"]

    page = Page(renderer.listing(note, organization()))

    assert page.all("a", href=f"{note['id']}/slots")
    assert "Aucun créneau libre" in page.text


def test_listing__paused_listing_shows_en_pause(renderer: PageRenderer) -> None:
    note = offer()
    note["publishes"]["availableQuantity"]["hasNumericalValue"] = "0"

    page = Page(renderer.listing(note, partage_lille()))

    assert "En pause" in page.text
    assert page.all("li", **{"class": "badge badge-paused"})


def test_listing__shows_the_price_of_a_service(renderer: PageRenderer) -> None:
    note = request()
    note.update(kind="service", purpose="offer", unitBased=True)
    note["reciprocal"] = {
        "type": "Intent",
        "action": "transfer",
        "resourceConformsTo": "https://www.wikidata.org/wiki/Q4916",
        "resourceQuantity": {"hasUnit": "one", "hasNumericalValue": "12.50"},
    }

    page = Page(renderer.listing(note, partage_lille()))

    assert "Conditions 12,50 € de l'heure" in page.text


def test_listing__tolerates_single_values_and_content_map(renderer: PageRenderer) -> None:
    note = offer()
    note["tag"] = note["tag"][0]
    note["attachment"] = note["attachment"][0]
    note["url"] = {"type": "Link", "href": note["url"], "mediaType": "text/html"}
    del note["content"]

    source = renderer.listing(note, partage_lille())
    page = Page(source)

    tag_list = source.split('<ul class="tags"')[1].split("</ul>")[0]
    assert "#Pret" in tag_list and "#Lille" not in tag_list
    assert page.all("img", alt="Perceuse-visseuse bleue posée sur son coffret")
    assert "Sans fil, deux batteries" in page.text
    assert "Voir l'annonce d'origine sur ebs-lille.example" in page.text


# --- events --------------------------------------------------------------------------------------------


def test_event__renders_the_workshop_event(renderer: PageRenderer) -> None:
    page = Page(renderer.event(event(), organization()))

    assert page.h1_texts == ["Atelier d'autoréparation vélo"]
    assert_alternate(page, event()["id"])
    for expected in (
        "Date Samedi 18 octobre 2025, 10h–13h",
        "Lieu Atelier vélo de Fives 12 rue de l'Exemple, 59800 Lille",
        "Capacité 12 places",
        "gratuit, inscription conseillée",
        "Venez réparer votre vélo",
        "Organisé par Atelier vélo de Fives",
    ):
        assert expected in page.text, expected
    assert page.all("a", href=event()["externalParticipationUrl"])
    assert page.all("img", src="https://velo-fives.example/media/atelier-samedi.jpg", alt="")
    assert "Annulé" not in page.text


def test_event__cancelled_event_shows_annule_and_no_registration(renderer: PageRenderer) -> None:
    cancelled = event()
    cancelled.update(status="CANCELLED", eventStatus="EventCancelled")
    cancelled["summary"] = "ANNULÉ – " + cancelled["summary"]

    page = Page(renderer.event(cancelled, organization()))

    assert "Annulé" in page.text
    assert page.all("li", **{"class": "badge badge-cancelled"})
    assert not page.all("a", href=event()["externalParticipationUrl"])


def test_event__accepts_a_mailto_registration_link(renderer: PageRenderer) -> None:
    document = event()
    document["externalParticipationUrl"] = "mailto:atelier@velo-fives.example"

    page = Page(renderer.event(document, organization()))

    assert page.all("a", href="mailto:atelier@velo-fives.example")


def test_event__spanning_two_days_shows_both_days(renderer: PageRenderer) -> None:
    document = event()
    document.update(startTime="2025-11-01T08:30:00Z", endTime="2025-11-02T17:00:00Z")

    page = Page(renderer.event(document, organization()))

    assert "du samedi 1er novembre 2025 à 9h30 au dimanche 2 novembre 2025 à 18h" in page.text


# --- actors --------------------------------------------------------------------------------------------


def test_actor__renders_the_workshop_profile(renderer: PageRenderer) -> None:
    page = Page(renderer.actor(organization(), [repair_offer()], [event()]))

    assert page.h1_texts == ["Atelier vélo de Fives"]
    assert_alternate(page, organization()["id"])
    for expected in (
        "Suivre depuis Mastodon : @atelier-fives@velo-fives.example",
        "Atelier coopératif de réparation de vélos à Lille-Fives",
        "Adresse Atelier vélo de Fives 12 rue de l'Exemple, 59800 Lille",
        "Du mardi au vendredi : 14h–19h",
        "Samedi : 10h–13h",
        "Fermé du mercredi 24 décembre 2025 au vendredi 2 janvier 2026",
        "Horaires mar.–ven. 14h–19h · sam. 10h–13h · fermé du 24/12 au 02/01",
        "Rendez-vous prendre rendez-vous",
        "Réparation de vélo sur rendez-vous",
        "Atelier d'autoréparation vélo",
        "Samedi 18 octobre 2025, 10h–13h",
    ):
        assert expected in page.text, expected
    appointment = page.all("a", href=repair_offer()["id"])
    assert {"rel": "nofollow noopener noreferrer ugc", "href": repair_offer()["id"]} in appointment
    assert page.all("img", src="https://velo-fives.example/media/atelier-fives-logo.png", alt="")


def test_actor__minimal_actor_without_optional_keys(renderer: PageRenderer) -> None:
    minimal = {
        "id": "https://partage-lille.example/actors/mini",
        "type": "Organization",
        "preferredUsername": "mini",
        "inbox": "https://partage-lille.example/actors/mini/inbox",
    }

    page = Page(renderer.actor(minimal, [], []))

    assert_valid_page(page)
    assert page.h1_texts == ["mini"]
    assert "Suivre depuis Mastodon : @mini@partage-lille.example" in page.text
    assert "Aucune annonce en cours." in page.text
    assert "Aucun événement à venir." in page.text
    assert page.all("img") == []


def test_actor__demo_label_of_the_summary_is_shown(renderer: PageRenderer) -> None:
    page = Page(renderer.actor(partage_lille(), [offer(), request()], []))

    assert "Nœud de démonstration : données fictives." in page.text
    assert "Prêt : perceuse-visseuse 18 V" in page.text
    assert "Recherche : remorque vélo pour enfant" in page.text


# --- slots ---------------------------------------------------------------------------------------------


def test_slots__lists_the_slot_times_in_paris_time(renderer: PageRenderer) -> None:
    page = Page(renderer.slots(repair_offer(), organization(), slot_page()["orderedItems"], 1, True))

    assert page.h1_texts == ["Créneaux libres : Réparation de vélo sur rendez-vous"]
    assert_alternate(page, slot_page()["id"])
    assert "mardi 14 octobre 2025 14h–15h · 2 places libres 15h–16h · 1 place libre" in page.text
    assert page.all("a", href=slot_page()["next"], rel="next")
    assert not page.all("a", rel="prev")


def test_slots__converts_utc_instants_to_paris_wall_clock(renderer: PageRenderer) -> None:
    slots = [
        {
            "type": "Intent",
            "id": "s1",
            "hasBeginning": "2025-10-14T12:00:00Z",
            "hasEnd": "2025-10-14T13:30:00Z",
        },
        {
            "type": "Intent",
            "id": "s2",
            "hasBeginning": "2025-12-02T13:00:00Z",
            "hasEnd": "2025-12-02T14:00:00Z",
        },
    ]

    page = Page(renderer.slots(repair_offer(), organization(), slots, 2, False))

    assert "mardi 14 octobre 2025 14h–15h30" in page.text
    assert "mardi 2 décembre 2025 14h–15h" in page.text
    assert not page.all("span", **{"class": "slot-free"})  # availableQuantity unknown
    assert page.all("a", href=f"{repair_offer()['slots']}?page=1", rel="prev")
    assert not page.all("a", rel="next")


def test_slots__empty_page_says_so(renderer: PageRenderer) -> None:
    page = Page(renderer.slots(repair_offer(), organization(), [], 1, False))

    assert_valid_page(page)
    assert "Aucun créneau libre sur cette page." in page.text
    assert not page.all("nav", **{"class": "pager"})


def test_slots__refuses_page_zero(renderer: PageRenderer) -> None:
    with pytest.raises(ValueError, match="page"):
        renderer.slots(repair_offer(), organization(), [], 0, False)


# --- home, gone, error ---------------------------------------------------------------------------------


def test_home__renders_the_node_and_its_content(renderer: PageRenderer) -> None:
    page = Page(PAGES["home"](renderer))

    assert page.h1_texts == ["Vélo Fives"]
    for expected in (
        "Nœud de démonstration : les annonces sont fictives.",
        "2 coopératives et lieux",
        "3 annonces",
        "1 événement",
        "Prêt : perceuse-visseuse 18 V",
        "Travaux & outillage · Lille · par Partage Lille",
        "Réparation de vélo sur rendez-vous",
        "Atelier d'autoréparation vélo",
        "@partage-lille@partage-lille.example",
    ):
        assert expected in page.text, expected
    assert len(page.all("p")) >= 2  # description paragraphs
    assert page.all("section", **{"aria-labelledby": "annonces"})


def test_gone__renders_the_deleted_page(renderer: PageRenderer) -> None:
    page = Page(renderer.gone(tombstone()))

    assert page.h1_texts == ["Contenu supprimé"]
    assert_alternate(page, tombstone()["id"])
    assert "Cette annonce a été supprimée le lundi 20 octobre 2025." in page.text


def test_gone__tombstone_without_former_type_or_date(renderer: PageRenderer) -> None:
    page = Page(renderer.gone({"type": "Tombstone", "id": "https://velo-fives.example/events/x"}))

    assert "Ce contenu a été supprimé." in page.text


def test_error__renders_status_title_and_detail(renderer: PageRenderer) -> None:
    page = Page(renderer.error(410, "Contenu <disparu>", "Plus rien & personne."))

    assert page.h1_texts == ["Contenu <disparu>"]
    assert "Plus rien & personne." in page.text
    assert "Erreur 410" in page.text
    assert not page.all("link", rel="alternate")


# --- hostile documents ---------------------------------------------------------------------------------


def _hostile_note() -> dict[str, Any]:
    note = offer()
    note["title"] = "<script>alert(1)</script>"
    note["content"] = (
        "<p>Texte<img src=x onerror=alert(1)></p><iframe src='https://evil.example'></iframe>"
        '<a href="javascript:alert(1)">clic</a><a href="JAVASCRIPT:alert(2)">clic</a>'
        "<svg onload=alert(1)></svg><scr<script>ipt>alert(1)</script>"
    )
    note["url"] = "javascript:alert(1)"
    note["attachment"] = [{"type": "Image", "url": "javascript:alert(1)", "name": "photo"}]
    note["tag"] = [{"type": "Hashtag", "name": "#<script>", "href": "javascript:alert(1)"}]
    note["location"]["name"] = "<iframe src=x>"
    note["loanDuration"] = "<img src=x>"
    return note


def _hostile_actor() -> dict[str, Any]:
    actor = organization()
    actor["name"] = "<script>alert('nom')</script> & Co"
    actor["summary"] = "<p>Bonjour</p><iframe src=https://evil.example></iframe><script>alert(1)</script>"
    actor["url"] = "javascript:alert(1)"
    actor["icon"] = {"type": "Image", "url": "data:text/html,<script>alert(1)</script>"}
    actor["attachment"] = [
        {"type": "PropertyValue", "name": "Site<script>", "value": "<script>alert(1)</script><b>ok</b>"},
        {
            "type": "PropertyValue",
            "name": "Lien",
            "value": '<a href="javascript:alert(1)" onclick="x()">x</a>',
        },
        {"type": "Link", "name": "piège", "href": "javascript:alert(1)"},
    ]
    return actor


def _hostile_event() -> dict[str, Any]:
    document = event()
    document["name"] = "<iframe src=x></iframe>Fête"
    document["content"] = "<p onmouseover=alert(1)>Venez</p><img src=x onerror=alert(1)><style>*{}</style>"
    document["summary"] = "<script>alert(1)</script>"
    document["externalParticipationUrl"] = "javascript:alert(1)"
    document["attachment"] = [{"type": "Document", "mediaType": "image/jpeg", "url": "javascript:alert(1)"}]
    return document


def test_hostile__listing_renders_no_active_content(renderer: PageRenderer) -> None:
    source = renderer.listing(_hostile_note(), _hostile_actor())
    page = Page(source)

    assert_inert(source)
    assert_valid_page(page)
    assert page.h1_texts == ["<script>alert(1)</script>"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in source
    assert "<img" not in source


def test_hostile__actor_renders_no_active_content(renderer: PageRenderer) -> None:
    source = renderer.actor(_hostile_actor(), [_hostile_note()], [_hostile_event()])
    page = Page(source)

    assert_inert(source)
    assert_valid_page(page)
    assert page.h1_texts == ["<script>alert('nom')</script> & Co"]
    assert "Site<script> ok" in page.text
    assert "piège" not in page.text


def test_hostile__event_renders_no_active_content(renderer: PageRenderer) -> None:
    source = renderer.event(_hostile_event(), _hostile_actor())
    page = Page(source)

    assert_inert(source)
    assert_valid_page(page)
    assert "S'inscrire" not in page.text
    assert "Venez" in page.text


def test_hostile__home_slots_gone_and_error_render_no_active_content(renderer: PageRenderer) -> None:
    hostile_node = {"name": "<script>x</script>", "description": "<iframe src=x></iframe>\n\n<b>démo</b>"}
    hostile_slot = {"type": "Intent", "id": "javascript:alert(1)", "hasBeginning": "2025-10-14T12:00:00Z"}
    sources = [
        renderer.home(hostile_node, [_hostile_actor()], [_hostile_note()], [_hostile_event()]),
        renderer.slots(
            _hostile_note() | {"slots": "javascript:alert(1)"}, _hostile_actor(), [hostile_slot], 2, True
        ),
        renderer.gone({"type": "Tombstone", "id": "javascript:alert(1)", "formerType": "<script>"}),
        renderer.error(500, "<script>alert(1)</script>", "<iframe src=x></iframe>"),
    ]

    for source in sources:
        assert_inert(source)
        assert_valid_page(Page(source))


# --- strictness ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "missing"),
    [
        ("listing", "id"),
        ("listing", "title"),
        ("listing", "purpose"),
        ("listing", "kind"),
        ("event", "id"),
        ("event", "name"),
        ("event", "startTime"),
        ("actor", "id"),
        ("actor", "preferredUsername"),
        ("gone", "id"),
    ],
)
def test_strict_undefined__a_missing_required_key_is_an_error(
    renderer: PageRenderer, page: str, missing: str
) -> None:
    renders: dict[str, tuple[dict[str, Any], Callable[[dict[str, Any]], str]]] = {
        "listing": (offer(), lambda note: renderer.listing(note, partage_lille())),
        "event": (event(), lambda document: renderer.event(document, organization())),
        "actor": (organization(), lambda actor: renderer.actor(actor, [], [])),
        "gone": (tombstone(), renderer.gone),
    }
    document, render = renders[page]
    del document[missing]

    with pytest.raises(jinja2.UndefinedError, match=missing):
        render(document)


def test_strict_undefined__a_missing_key_in_a_nested_document_is_an_error(renderer: PageRenderer) -> None:
    anonymous = partage_lille()
    del anonymous["name"], anonymous["preferredUsername"]
    untitled = offer()
    del untitled["title"]
    no_id_actor = organization()
    del no_id_actor["id"]
    no_id_offer = repair_offer()
    del no_id_offer["id"]
    cases: list[tuple[Callable[[], str], str]] = [
        (lambda: renderer.listing(offer(), anonymous), "preferredUsername"),
        (lambda: renderer.home({"name": "n"}, [no_id_actor], [], []), "id"),
        (lambda: renderer.actor(organization(), [untitled], []), "title"),
        (lambda: renderer.slots(no_id_offer, organization(), [], 1, False), "id"),
    ]

    for render, missing in cases:
        with pytest.raises(jinja2.UndefinedError, match=missing):
            render()


def test_strict_undefined__a_slot_without_start_is_an_error(renderer: PageRenderer) -> None:
    slot = slot_page()["orderedItems"][0]
    del slot["hasBeginning"]

    with pytest.raises(jinja2.UndefinedError, match="hasBeginning"):
        renderer.slots(repair_offer(), organization(), [slot], 1, False)


def test_strict_undefined__a_missing_node_name_is_an_error(renderer: PageRenderer) -> None:
    with pytest.raises(jinja2.UndefinedError):
        renderer.home({"description": "sans nom"}, [], [], [])


# --- stylesheet ----------------------------------------------------------------------------------------


def test_stylesheet__is_small_and_self_contained() -> None:
    css = files("fedicoop").joinpath("static/fedicoop.css").read_text(encoding="utf-8")

    assert len(css.encode("utf-8")) < 8 * 1024
    assert "@import" not in css
    assert "url(" not in css
    assert "@font-face" not in css
