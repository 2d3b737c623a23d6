"""Content negotiation between ActivityStreams JSON and HTML on the same URL (wire-format §4.4)."""

from __future__ import annotations

AS_MEDIA_TYPE = "application/activity+json"
LD_MEDIA_TYPE = "application/ld+json"
AS_PROFILE = "https://www.w3.org/ns/activitystreams"


def _parse_accept(header: str) -> list[tuple[str, dict[str, str], float]]:
    entries = []
    for raw in header.split(","):
        parts = [part.strip() for part in raw.split(";")]
        media = parts[0].lower()
        if not media:
            continue
        params: dict[str, str] = {}
        quality = 1.0
        for param in parts[1:]:
            key, _, value = param.partition("=")
            key = key.strip().lower()
            value = value.strip().strip('"')
            if key == "q":
                try:
                    quality = max(0.0, min(1.0, float(value)))
                except ValueError:
                    quality = 0.0
            else:
                params[key] = value
        entries.append((media, params, quality))
    return entries


def _quality(entries: list[tuple[str, dict[str, str], float]], wanted: tuple[str, ...]) -> float:
    best = -1.0
    for media, _params, quality in entries:
        if media in wanted:
            best = max(best, quality)
    return best


def wants_activity_json(accept: str | None) -> bool:
    """Whether ``accept`` ranks ActivityStreams JSON at least as high as HTML.

    >>> wants_activity_json("application/activity+json")
    True
    >>> wants_activity_json('application/ld+json; profile="https://www.w3.org/ns/activitystreams"')
    True
    >>> wants_activity_json("text/html,application/xhtml+xml,*/*;q=0.8")
    False
    >>> wants_activity_json(None)
    False
    """
    if not accept:
        return False
    entries = _parse_accept(accept)
    json_q = _quality(entries, (AS_MEDIA_TYPE, LD_MEDIA_TYPE))
    if json_q <= 0:
        return False
    html_q = _quality(entries, ("text/html", "application/xhtml+xml"))
    return json_q >= html_q


def is_activity_content_type(content_type: str | None, *, allow_plain_json: bool = False) -> bool:
    """Whether a request body's Content-Type is one the inbox accepts (wire-format §1)."""
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    if media in (AS_MEDIA_TYPE, LD_MEDIA_TYPE):
        return True
    return allow_plain_json and media == "application/json"
