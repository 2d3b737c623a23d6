"""The portal in Chromium: a visitor's way through it, its detail pages, the keyboard, a phone screen.

The portal (role portal, demo data) follows a second real node, the origin (tests/browser/portal.py).
The visitor goes from the home page to a search, a facet, a detail page and the origin's own page; the
detail, author and node pages show what they must; a plain node's ``/portal`` searches its own
publications; a keyboard alone, without JavaScript, reaches the search field and submits it; on a phone
the pages fit the screen. Every page is screenshotted
(tests/browser/artifacts/) and audited with axe-core: no serious or critical violation.
"""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tests.browser.audit import Audit
from tests.browser.chromium import DESKTOP, PHONE
from tests.browser.portal import PortalWorld
from tests.browser.steps import focused, follow, link_to, links_under, load, query_of, text_of

OFFER = "Don : vélo de ville à remettre en état"
REQUEST = "Recherche : scie circulaire pour un week-end"
REPAIR = "Réparation de vélos au Pile"
EVENT = "Bourse aux vélos de Roubaix"
COOPERATIVE = ("La Recyclerie de Roubaix", "recyclerie-roubaix")
WORKSHOP = ("Atelier vélo du Pile", "atelier-pile")
"""An author as a page may name it: by its name, or by its username while the portal lacks its profile."""
DEMO_DRILL = "Prêt : perceuse-visseuse 18 V"
TAB_LIMIT = 40


def test_home_search_facet_detail_and_origin(world: PortalWorld, page: Page, audit: Audit) -> None:
    portal, origin = world.portal, world.origin

    # Home: one h1, the search form, the latest listings and the upcoming events.
    load(page, portal.url("/"))
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("form input[name=q]")).to_have_count(1)
    home = text_of(page)
    assert OFFER in home and EVENT in home, home[:3000]
    audit.check(page, "journey-1-home")

    # Search "velos" (no accent, plural): the origin's bike items match, the saw request does not.
    search = page.locator("form input[name=q]")
    search.fill("velos")
    with page.expect_navigation(wait_until="load"):
        search.press("Enter")
    assert page.url.startswith(portal.url("/catalogue?")) and query_of(page.url)["q"] == ["velos"]
    results = text_of(page)
    assert all(name in results for name in (OFFER, REPAIR, EVENT)), results[:3000]
    assert REQUEST not in results
    audit.check(page, "journey-2-results")

    # The kind facet "repair" keeps the text and narrows to repair offers; a link removes it again.
    follow(page, link_to(page, "/catalogue", {"q": "velos", "kind": "repair"}))
    assert query_of(page.url)["kind"] == ["repair"] and query_of(page.url)["q"] == ["velos"]
    narrowed = text_of(page)
    assert REPAIR in narrowed and OFFER not in narrowed and EVENT not in narrowed, narrowed[:3000]
    link_to(page, "/catalogue", {"q": "velos"}, absent=("kind",))  # the way to remove the filter
    audit.check(page, "journey-3-facet")

    # The result's title leads to the portal's detail page, with the slots and the link to the origin.
    follow(page, page.get_by_role("link", name=REPAIR, exact=True).first)
    assert page.url.startswith(portal.url("/catalogue/items/")), page.url
    expect(page.locator("h1")).to_have_text(REPAIR)
    detail = text_of(page)
    assert "Crevaisons, freins, dérailleurs" in detail and "Local du Pile" in detail, detail[:3000]
    assert any(name in detail for name in WORKSHOP), f"the author: {detail[:3000]}"
    assert page.locator("main time").count() >= 2, "the repair offer's free slots, with their times"
    audit.check(page, "journey-4-detail")

    # The link to the origin leads to the real page on the origin node.
    origin_link = page.locator(f'a[href="{world.repair}"]').first
    response = follow(page, origin_link)
    assert response.url == world.repair and page.url.startswith(origin.base_url)
    expect(page.locator("h1")).to_have_text(REPAIR)
    audit.check(page, "journey-5-origin")

    audit.assert_clean()


def test_detail_author_and_node_pages(world: PortalWorld, page: Page, audit: Audit) -> None:
    portal, origin = world.portal, world.origin

    # The offer: its text, its place (commune and département) and its author.
    load(page, portal.url("/catalogue?q=ville"))
    follow(page, page.get_by_role("link", name=OFFER, exact=True).first)
    assert page.url.startswith(portal.url("/catalogue/items/")), page.url
    offer = text_of(page)
    assert "Cadre acier" in offer and "Roubaix" in offer and "Nord" in offer, offer[:3000]
    assert page.locator(f'a[href="{world.offer}"]').count() >= 1, "a link to the origin"
    audit.check(page, "detail-offer")

    # Its author's page on the portal: the cooperative and what it publishes.
    cooperative = links_under(page, portal.url("/catalogue/actors/"))
    assert cooperative, "a link to the author's page on the portal"
    load(page, cooperative[0])
    author = text_of(page)
    assert any(name in author for name in COOPERATIVE), author[:3000]
    assert EVENT in author and REQUEST in author and OFFER in author, author[:3000]
    audit.check(page, "actor-cooperative")

    # The event: its dates, its place.
    load(page, portal.url("/catalogue?kind=event&q=bourse"))
    follow(page, page.get_by_role("link", name=EVENT, exact=True).first)
    event = text_of(page)
    assert "Roubaix" in event and page.locator("main time").count() >= 1, event[:3000]
    audit.check(page, "detail-event")

    # The workshop's page shows its next free slots.
    load(page, portal.url("/catalogue?kind=repair&q=pile"))
    follow(page, page.get_by_role("link", name=REPAIR, exact=True).first)
    workshop = links_under(page, portal.url("/catalogue/actors/"))
    assert workshop, "a link to the workshop's page on the portal"
    load(page, workshop[0])
    assert any(name in text_of(page) for name in WORKSHOP), text_of(page)[:3000]
    assert page.locator("main time").count() >= 2, "the workshop's next free slots"
    audit.check(page, "actor-workshop")

    # The origin node's page: everything it publishes.
    nodes = links_under(page, portal.url("/catalogue/nodes/"))
    load(page, nodes[0] if nodes else portal.url(f"/catalogue/nodes/{origin.host}"))
    published = text_of(page)
    assert all(name in published for name in (OFFER, REQUEST, REPAIR, EVENT)), published[:3000]
    audit.check(page, "node-origin")

    # The département facet on the full catalogue: Pas-de-Calais holds only the Arras request.
    load(page, portal.url("/catalogue"))
    audit.check(page, "catalogue-all")
    follow(page, link_to(page, "/catalogue", {"departement": "62"}))
    only = text_of(page)
    assert REQUEST in only and OFFER not in only and re.search(r"Pas-de-Calais", only), only[:3000]
    audit.check(page, "catalogue-departement-62")

    audit.assert_clean()


def test_the_portal_page_of_a_plain_node_searches_its_own_publications(
    world: PortalWorld, page: Page, audit: Audit
) -> None:
    origin = world.origin
    load(page, origin.url("/portal"))
    expect(page.locator("h1")).to_have_count(1)
    assert OFFER in text_of(page) and EVENT in text_of(page), text_of(page)[:3000]
    audit.check(page, "origin-portal")
    search = page.locator("form input[name=q]")
    search.fill("scie")
    with page.expect_navigation(wait_until="load"):
        search.press("Enter")
    assert page.url.startswith(origin.url("/catalogue?")), page.url
    found = text_of(page)
    assert REQUEST in found and OFFER not in found, found[:3000]
    audit.check(page, "origin-results")
    audit.assert_clean()


def test_keyboard_alone_without_javascript_reaches_the_search_and_submits_it(
    world: PortalWorld, browser: Browser, audit: Audit
) -> None:
    context = browser.new_context(viewport=DESKTOP, locale="fr-FR", java_script_enabled=False)
    try:
        page = context.new_page()
        load(page, world.portal.url("/"))

        # The first Tab reaches the skip link, visibly; Enter on it moves the focus to the main content.
        page.keyboard.press("Tab")
        skip = focused(page)
        assert skip["tag"] == "a" and (skip["href"] or "").startswith("#"), skip
        assert skip["visible"] and (skip["outline"] or skip["shadow"]), f"the skip link's focus shows: {skip}"
        page.keyboard.press("Enter")
        assert focused(page)["id"] == skip["href"][1:], focused(page)

        # Tab on to the search field (its focus visible), type, Enter: the results.
        load(page, world.portal.url("/"))
        for _ in range(TAB_LIMIT):
            page.keyboard.press("Tab")
            if focused(page)["name"] == "q":
                break
        field = focused(page)
        assert field["name"] == "q", f"the search field not reached in {TAB_LIMIT} Tabs (last: {field})"
        assert field["outline"] or field["shadow"], f"the search field's focus shows: {field}"
        page.keyboard.type("perceuse")
        with page.expect_navigation(wait_until="load"):
            page.keyboard.press("Enter")
        assert query_of(page.url)["q"] == ["perceuse"], page.url
        assert DEMO_DRILL in text_of(page) and OFFER not in text_of(page)
        audit.shoot(page, "keyboard-results")
    finally:
        context.close()


def test_pages_fit_a_phone_screen(world: PortalWorld, browser: Browser, audit: Audit) -> None:
    context = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, locale="fr-FR", bypass_csp=True
    )
    try:
        page = context.new_page()
        for name, path in (("phone-home", "/"), ("phone-results", "/catalogue?q=velos")):
            load(page, world.portal.url(path))
            overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{path} is {overflow} px wider than a {PHONE['width']} px screen"
            audit.check(page, name)
    finally:
        context.close()
    audit.assert_clean()
