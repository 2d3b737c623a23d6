"""What the browser tests do on a page: load it, find the links the portal's pages must offer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Locator, Page, Response

NAVIGATION_TIMEOUT_MS = 30_000
FOCUSED = """() => {
  const element = document.activeElement;
  const style = getComputedStyle(element);
  const box = element.getBoundingClientRect();
  return {
    tag: element.tagName.toLowerCase(), name: element.getAttribute("name"), id: element.id,
    href: element.getAttribute("href"), text: (element.textContent || "").trim(),
    outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0,
    shadow: style.boxShadow !== "none",
    visible: box.width > 0 && box.height > 0 && box.top >= 0 && box.left >= 0
      && box.bottom <= window.innerHeight && box.right <= window.innerWidth,
  };
}"""


def focused(page: Page) -> dict[str, Any]:
    """What has the keyboard focus: tag, name, id, href, text, whether its focus shows (an outline or a
    shadow) and whether it lies inside the viewport."""
    state: dict[str, Any] = page.evaluate(FOCUSED)
    return state


def load(page: Page, url: str) -> Response:
    """Open ``url`` and check that it answered 200 with an HTML page."""
    response = page.goto(url, wait_until="load", timeout=NAVIGATION_TIMEOUT_MS)
    assert response is not None, f"no response for {url}"
    assert response.status == 200, f"{url} answered {response.status}: {response.text()[:500]}"
    assert response.headers.get("content-type", "").startswith("text/html"), response.headers
    return response


def follow(page: Page, link: Locator) -> Response:
    """Click ``link`` and check that the page it leads to answered 200."""
    with page.expect_navigation(wait_until="load", timeout=NAVIGATION_TIMEOUT_MS) as navigation:
        link.click()
    response = navigation.value
    assert response is not None, f"no response after clicking {link}"
    assert response.status == 200, f"{response.url} answered {response.status}: {response.text()[:500]}"
    return response


def query_of(url: str) -> dict[str, list[str]]:
    """The query parameters of ``url``, blanks dropped (as the portal reads them)."""
    return parse_qs(urlsplit(url).query)


def link_to(page: Page, path: str, wanted: Mapping[str, str], *, absent: tuple[str, ...] = ()) -> Locator:
    """The first link to ``path`` whose query has every ``wanted`` parameter and none of ``absent``.

    A wanted value matches any of the parameter's values (``kind=repair`` matches
    ``kind=offer&kind=repair``). Fails, listing the page's links to ``path``, when there is none.
    """
    links = page.locator("a[href]")
    hrefs: list[str] = links.evaluate_all("(anchors) => anchors.map((anchor) => anchor.href)")
    candidates = []
    for index, href in enumerate(hrefs):
        if urlsplit(href).path != path:
            continue
        candidates.append(href)
        query = query_of(href)
        if all(value in query.get(name, []) for name, value in wanted.items()) and not any(
            name in query for name in absent
        ):
            return links.nth(index)
    raise AssertionError(
        f"no link to {path} with {dict(wanted)} and without {absent} on {page.url}; links to {path}: "
        f"{candidates}"
    )


def links_under(page: Page, prefix: str) -> list[str]:
    """The absolute URLs of the page's links that start with ``prefix``."""
    hrefs: list[str] = page.locator("a[href]").evaluate_all("(anchors) => anchors.map((a) => a.href)")
    return [href for href in hrefs if href.startswith(prefix)]


def text_of(page: Page) -> str:
    """The visible text of the page's main content (the whole body when there is no ``main``)."""
    main = page.locator("main")
    return main.inner_text() if main.count() else page.locator("body").inner_text()
