"""An HTML checker for the portal pages, written on ``html.parser``, and the tests that show it catches
what it claims to catch.

:func:`html_problems` lists what is wrong with a page: tags left open or closed out of order, an end tag
on a void element, a self-closed tag, not exactly one ``h1``, a form field (``input`` other than hidden
or a button, ``select``, ``textarea``) without a ``<label for>`` or an ``aria-label``, an ``img`` without
``alt``, a duplicate ``id``, a missing landmark (``header``, ``nav``, ``main``, ``footer``), a missing
``lang="fr"`` or doctype, a skip link that is not first. :func:`assert_inert` checks that no active
content (script, style, frame, event handler, ``javascript:`` URL) reached a page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest

VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)
FIELDS = frozenset({"input", "select", "textarea"})
UNLABELLED_INPUTS = frozenset({"hidden", "submit", "button", "reset", "image"})
LANDMARKS = ("header", "nav", "main", "footer")


@dataclass
class ParsedPage:
    """What the checker gathered from one page."""

    source: str = ""
    doctype: str | None = None
    tags: list[tuple[str, dict[str, str | None]]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    text: str = ""

    def all(self, tag: str) -> list[dict[str, str | None]]:
        """The attributes of every ``tag``."""
        return [attrs for name, attrs in self.tags if name == tag]

    def hrefs(self) -> list[str]:
        """Every link target, in order."""
        return [attrs["href"] or "" for attrs in self.all("a") if "href" in attrs]


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = ParsedPage()
        self._open: list[str] = []
        self._text: list[str] = []

    def handle_decl(self, decl: str) -> None:
        self.page.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.page.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self._open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.page.tags.append((tag, dict(attrs)))
        self.page.problems.append(f"self-closed <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            self.page.problems.append(f"end tag of the void element </{tag}>")
        elif not self._open or self._open[-1] != tag:
            self.page.problems.append(f"</{tag}> closes {self._open[-1] if self._open else 'nothing'}")
            if tag in self._open:
                del self._open[len(self._open) - 1 - self._open[::-1].index(tag) :]
        else:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        self._text.append(data)

    def finish(self) -> ParsedPage:
        self.close()
        if self._open:
            self.page.problems.append(f"left open: {self._open}")
        self.page.text = re.sub(r"\s+", " ", "".join(self._text)).strip()
        return self.page


def parse_page(source: str) -> ParsedPage:
    """Parse ``source`` and list its problems (see the module docstring)."""
    checker = _Checker()
    checker.feed(source)
    page = checker.finish()
    page.source = source
    problems = page.problems
    if page.doctype is None or page.doctype.lower() != "doctype html":
        problems.append(f"doctype: expected <!DOCTYPE html>, got {page.doctype!r}")
    if not any(attrs.get("lang") == "fr" for attrs in page.all("html")):
        problems.append('no <html lang="fr">')
    headings = len(page.all("h1"))
    if headings != 1:
        problems.append(f"{headings} <h1>, expected exactly one")
    problems.extend(f"no <{landmark}>" for landmark in LANDMARKS if not page.all(landmark))
    hrefs = page.hrefs()
    if not hrefs or hrefs[0] != "#contenu" or not any(a.get("id") == "contenu" for a in page.all("main")):
        problems.append("the first link is not a skip link to <main id=contenu>")
    ids = [attrs["id"] for _, attrs in page.tags if attrs.get("id")]
    problems.extend(f"duplicate id {value!r}" for value in sorted({v for v in ids if ids.count(v) > 1}))
    labelled = {attrs.get("for") for attrs in page.all("label")}
    for tag, attrs in page.tags:
        if tag not in FIELDS or (tag == "input" and attrs.get("type") in UNLABELLED_INPUTS):
            continue
        if attrs.get("aria-label") or (attrs.get("id") and attrs.get("id") in labelled):
            continue
        problems.append(f"<{tag} name={attrs.get('name')!r}> has no label")
    problems.extend(
        f"<img src={attrs.get('src')!r}> has no alt" for attrs in page.all("img") if "alt" not in attrs
    )
    problems.extend(
        "a <nav> has no accessible name"
        for attrs in page.all("nav")
        if not (attrs.get("aria-label") or attrs.get("aria-labelledby"))
    )
    return page


def assert_valid(source: str) -> ParsedPage:
    """Parse ``source`` and fail on any problem; return the parsed page."""
    page = parse_page(source)
    assert page.problems == [], page.problems
    return page


ACTIVE_TAGS = frozenset(
    {"script", "style", "iframe", "frame", "frameset", "object", "embed", "svg", "math", "base"}
)
URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "srcset", "data", "poster", "xlink:href"})


def assert_inert(source: str) -> None:
    """No active content in ``source``: no script, style, frame or plugin element, no event handler or
    ``style`` attribute, no ``javascript:``, ``vbscript:`` or ``data:`` URL (our stylesheet is a
    ``<link>``); text that merely spells such things, escaped, is inert and allowed."""
    assert "<script" not in source.lower()
    for tag, attrs in parse_page(source).tags:
        assert tag not in ACTIVE_TAGS, f"<{tag}>"
        for name, value in attrs.items():
            assert not name.startswith("on") and name != "style", f"<{tag} {name}={value!r}>"
            if name in URL_ATTRIBUTES and value is not None:
                scheme = "".join(value.split()).lower()
                assert not scheme.startswith(("javascript:", "vbscript:", "data:")), (
                    f"<{tag} {name}={value!r}>"
                )


# --- the checker catches what it claims ---------------------------------------------------------------

GOOD = """<!DOCTYPE html>
<html lang="fr"><head><title>t</title><link rel="stylesheet" href="/s.css"></head>
<body><a href="#contenu">Aller au contenu</a>
<header><nav aria-label="Menu"><a href="/">Accueil</a></nav></header>
<main id="contenu"><h1>Titre</h1>
<form><label for="q">Mots</label><input id="q" name="q"><input type="hidden" name="h" value="1">
<select aria-label="Type" name="kind"><option value="">Tous</option></select>
<button type="submit">Chercher</button></form>
<img src="/a.png" alt=""><p>Texte<br>suite</p></main>
<footer><p>Pied</p></footer></body></html>"""


def test_checker__accepts_a_good_page() -> None:
    page = assert_valid(GOOD)
    assert "Titre" in page.text and page.hrefs() == ["#contenu", "/"]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("</body></html>", "</body>"), "left open: ['html']"),
        (("<p>Texte<br>suite</p>", "<p>Texte<br>suite"), "</main> closes p"),
        (("<p>Texte<br>suite</p>", "<p>Texte</br>suite</p>"), "end tag of the void element"),
        (("<p>Texte<br>suite</p>", "<p>Texte<br/>suite</p>"), "self-closed <br/>"),
        (("<p>Texte<br>suite</p>", "<p><em>Texte</p></em>"), "</p> closes em"),
        (("<h1>Titre</h1>", "<h1>Titre</h1><h1>Encore</h1>"), "2 <h1>"),
        (("<h1>Titre</h1>", "<h2>Titre</h2>"), "0 <h1>"),
        (('<label for="q">Mots</label>', "<span>Mots</span>"), "<input name='q'> has no label"),
        (('aria-label="Type" ', ""), "<select name='kind'> has no label"),
        (('alt=""', ""), "has no alt"),
        (("<p>Texte", '<p id="q">Texte'), "duplicate id 'q'"),
        (("<footer><p>Pied</p></footer>", ""), "no <footer>"),
        (('lang="fr"', 'lang="en"'), 'no <html lang="fr">'),
        (("<!DOCTYPE html>\n", ""), "doctype"),
        (('<a href="#contenu">Aller au contenu</a>', ""), "skip link"),
        (('<nav aria-label="Menu">', "<nav>"), "no accessible name"),
    ],
)
def test_checker__reports(change: tuple[str, str], problem: str) -> None:
    old, new = change
    assert old in GOOD
    problems = parse_page(GOOD.replace(old, new, 1)).problems
    assert any(problem in found for found in problems), problems


@pytest.mark.parametrize(
    "bad",
    [
        "<script>alert(1)</script>",
        "<style>p{}</style>",
        '<iframe src="https://x.example/"></iframe>',
        '<img src="x" onerror="alert(1)" alt="">',
        '<a href="javascript:alert(1)">x</a>',
        '<a href=" JaVa\tScript:alert(1)">x</a>',
        '<img src="data:image/svg+xml,x" alt="">',
        '<p style="display:none">x</p>',
        "<svg><circle r=1></circle></svg>",
    ],
)
def test_assert_inert__catches_active_content(bad: str) -> None:
    assert_inert(GOOD)
    assert_inert(GOOD.replace("Texte", "&lt;script&gt;alert(1) onerror= javascript:"))
    with pytest.raises(AssertionError):
        assert_inert(GOOD.replace("<p>Texte", bad + "<p>Texte"))
