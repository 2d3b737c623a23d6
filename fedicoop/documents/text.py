"""The human text of our documents: hashtags, the lines of a listing's content, money and places."""

from __future__ import annotations

import html
import unicodedata
from decimal import Decimal

from fedicoop.domain.french import format_euros
from fedicoop.models.places import Place


def hashtag_name(text: str) -> str:
    """A hashtag from free text: accents folded, words joined in CamelCase (``prêt vélo`` → ``PretVelo``).

    >>> hashtag_name("prêt vélo")
    'PretVelo'
    >>> hashtag_name("ReparationVelo")
    'ReparationVelo'
    """
    folded = unicodedata.normalize("NFKD", text)
    ascii_text = "".join(char for char in folded if not unicodedata.combining(char))
    words = [
        "".join(char for char in word if char.isalnum()) for word in ascii_text.replace("-", " ").split()
    ]
    return "".join(word[:1].upper() + word[1:] for word in words if word)


def euros(amount: str) -> str:
    """A decimal euro amount in French (``"30.00"`` → ``30 €``, ``"12.5"`` → ``12,50 €``)."""
    cents = int((Decimal(amount) * 100).to_integral_value())
    return format_euros(cents)


def place_label(place: Place | None) -> str:
    """``Lille (59)``: the locality or place name, with the département when it is known."""
    if place is None:
        return ""
    name = place.locality or place.name
    return f"{name} ({place.departement_code})" if place.departement_code else name


def paragraph(text: str) -> str:
    """One escaped paragraph of plain text."""
    return f"<p>{html.escape(text, quote=False)}</p>"


def link_paragraph(href: str, text: str) -> str:
    """A paragraph holding one link."""
    return f'<p><a href="{html.escape(href)}">{html.escape(text, quote=False)}</a></p>'


def hashtag_links(tags: list[tuple[str, str]]) -> str:
    """The hashtag paragraph Mastodon recognises: ``<a … class="mention hashtag" rel="tag">#<span>…``."""
    if not tags:
        return ""
    links = " ".join(
        f'<a href="{html.escape(href)}" class="mention hashtag" rel="tag">'
        f"#<span>{html.escape(name)}</span></a>"
        for name, href in tags
    )
    return f"<p>{links}</p>"
