"""HTML sanitising with nh3, following the allow-list of wire-format §13.4.

Every remote HTML string (a Note's ``content``, an actor's ``summary``, a ``PropertyValue`` value) goes
through :func:`sanitize_html` before it is stored or shown, and so does our own output. The allow-list:

- tags ``p br a span strong b em i u del s pre code blockquote ul ol li``; every other tag is removed and
  its text kept, except scripts, styles, frames and the other "raw content" elements of
  :data:`DROPPED_WITH_CONTENT`, which disappear with their content;
- attributes ``a[href rel class]`` and ``span[class]``; ``href`` keeps only absolute ``http``, ``https``
  and ``mailto`` URLs (relative and protocol-relative URLs are removed too);
- ``rel="nofollow noopener noreferrer ugc"`` on every link, whatever the input said;
- ``class`` values limited to the microformat and Mastodon classes of :data:`ALLOWED_CLASSES`, so that
  remote HTML cannot borrow the classes of our own stylesheet.

:func:`html_to_text` turns (sanitised) HTML into plain text for summaries and search, and
:func:`text_to_html` turns plain text into paragraphs that pass the allow-list unchanged.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from html.parser import HTMLParser
from types import MappingProxyType

import nh3

__all__ = [
    "ALLOWED_ATTRIBUTES",
    "ALLOWED_CLASSES",
    "ALLOWED_TAGS",
    "DROPPED_WITH_CONTENT",
    "LINK_REL",
    "URL_SCHEMES",
    "html_to_text",
    "sanitize_html",
    "text_to_html",
]

ALLOWED_TAGS: frozenset[str] = frozenset(
    {"p", "br", "a", "span", "strong", "b", "em", "i", "u", "del", "s", "pre", "code", "blockquote"}
    | {"ul", "ol", "li"}
)
"""The tags kept by :func:`sanitize_html` (wire-format §13.4)."""

DROPPED_WITH_CONTENT: frozenset[str] = frozenset(
    {"script", "style", "iframe", "frame", "frameset", "object", "embed", "noscript", "noembed"}
    | {"noframes", "template", "svg", "math", "textarea", "select", "title", "xmp", "plaintext"}
)
"""Tags removed together with everything inside them."""

ALLOWED_ATTRIBUTES: Mapping[str, frozenset[str]] = MappingProxyType({"a": frozenset({"href"})})
"""Attributes copied from the input; ``rel`` is forced and ``class`` is filtered, see the module doc."""

ALLOWED_CLASSES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "a": frozenset({"mention", "hashtag", "u-url", "h-card", "invisible", "ellipsis"}),
        "span": frozenset({"h-card", "p-nickname", "invisible", "ellipsis"}),
    }
)
"""The ``class`` values kept on ``a`` and ``span``: what Mastodon and our own content emit."""

URL_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto"})
"""The only schemes an ``href`` may use."""

LINK_REL = "nofollow noopener noreferrer ugc"
"""The ``rel`` value set on every link."""

_EMPTY_CLASS = re.compile(r'(<(?:a|span)\b[^<>]*?) class=""')
_BLANK_LINE = re.compile(r"\n[ \t\f\v]*\n\s*")
_SPACES = re.compile(r"[ \t\n\r\f\v]+")
_BLOCKS = frozenset({"p", "blockquote", "pre", "ul", "ol"})
_LINE_BREAKS = frozenset({"br", "li"})


def sanitize_html(html_text: str) -> str:
    """Return ``html_text`` reduced to the allow-list of wire-format §13.4.

    Disallowed tags are unwrapped (their text stays, escaped), dangerous ones are dropped with their
    content, comments vanish, every attribute outside the allow-list is removed, an ``href`` that is not an
    absolute ``http``/``https``/``mailto`` URL is removed (the link text stays) and every link gets
    ``rel="nofollow noopener noreferrer ugc"``. The result is a well-formed fragment that is safe to
    insert into a page as is.

    >>> sanitize_html('<p onclick="x">Hi <a href="javascript:alert(1)">there</a><script>x()</script></p>')
    '<p>Hi <a rel="nofollow noopener noreferrer ugc">there</a></p>'
    """
    clean = nh3.clean(
        html_text,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        allowed_classes={tag: set(names) for tag, names in ALLOWED_CLASSES.items()},
        url_schemes=set(URL_SCHEMES),
        url_relative="deny",
        link_rel=LINK_REL,
        strip_comments=True,
    )
    # nh3 leaves ``class=""`` when it filtered every class out. Quotes inside attribute values are
    # serialised as ``&quot;``, so the pattern can only match a real, empty attribute.
    return _EMPTY_CLASS.sub(r"\1", clean)


class _TextCollector(HTMLParser):
    """Collects the text of a sanitised fragment: paragraphs made of lines made of text chunks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self._lines: list[str] = []
        self._chunks: list[str] = []
        self._in_pre = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _LINE_BREAKS:
            self._end_line()
        elif tag in _BLOCKS:
            self._end_paragraph()
            self._in_pre = tag == "pre"

    def handle_endtag(self, tag: str) -> None:
        if tag in _LINE_BREAKS:
            self._end_line()
        elif tag in _BLOCKS:
            self._end_paragraph()
            self._in_pre = False

    def handle_data(self, data: str) -> None:
        if not self._in_pre:
            self._chunks.append(_SPACES.sub(" ", data))
            return
        first, *others = data.split("\n")
        self._chunks.append(first)
        for line in others:
            self._end_line()
            self._chunks.append(line)

    def close(self) -> None:
        super().close()
        self._end_paragraph()

    def _end_line(self) -> None:
        line = "".join(self._chunks)
        self._chunks = []
        if self._in_pre:
            self._lines.append(line.rstrip())
        elif line := _SPACES.sub(" ", line).strip():
            self._lines.append(line)

    def _end_paragraph(self) -> None:
        self._end_line()
        text = "\n".join(self._lines).strip("\n")
        self._lines = []
        if text.strip():
            self.paragraphs.append(text)


def html_to_text(html_text: str) -> str:
    """Return the plain text of an HTML fragment, for summaries, previews and search.

    The fragment is sanitised first, so the content of scripts, styles and frames never leaks into the
    text. Block elements (paragraphs, list items, quotes) become paragraphs separated by a blank line,
    ``<br>`` becomes a line break, other whitespace collapses to single spaces and entities are decoded.
    The result is plain text: escape it before putting it back into HTML.

    >>> html_to_text("<p>Bonjour&nbsp;!</p><p>Ligne 1<br>Ligne 2</p><script>x()</script>")
    'Bonjour\\xa0!\\n\\nLigne 1\\nLigne 2'
    """
    collector = _TextCollector()
    collector.feed(sanitize_html(html_text))
    collector.close()
    return "\n\n".join(collector.paragraphs)


def text_to_html(text: str) -> str:
    """Return plain ``text`` as HTML paragraphs: escaped, ``<p>`` per blank-line block, ``<br>`` per line.

    Windows and old Mac line endings are normalised; leading and trailing whitespace of the text and of
    each paragraph is dropped, and an empty text gives an empty string. The output only uses ``p`` and
    ``br``, so it passes :func:`sanitize_html` unchanged.

    >>> text_to_html("Bonjour <toi>\\nça va ?\\n\\nÀ bientôt & merci")
    '<p>Bonjour &lt;toi&gt;<br>ça va ?</p><p>À bientôt &amp; merci</p>'
    """
    normalised = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not normalised:
        return ""
    paragraphs = []
    for block in _BLANK_LINE.split(normalised):
        lines = [html.escape(line.strip(), quote=False) for line in block.strip().split("\n")]
        paragraphs.append("<p>" + "<br>".join(lines) + "</p>")
    return "".join(paragraphs)
