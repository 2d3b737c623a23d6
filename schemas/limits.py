"""Every bound of the wire format (§12, §13) and of our own API inputs, in one table.

Inbound bounds protect us from remote documents; outbound bounds are promises about what we emit; API
bounds validate what admins and the JSON API submit. Each constant carries a short comment; the wire
models of ``schemas`` read them, so a bound changes in one place only. :func:`check_json_depth` enforces
the nesting bound on a parsed JSON value before any model sees it.
"""

from __future__ import annotations

import json
import re
from typing import Final

from schemas.errors import BoundsError

# --- wire-format §12: inbound documents ---------------------------------------------------------------
JSON_DEPTH_MAX: Final = 32  # nested arrays/objects in any JSON document we parse
IRI_MAX: Final = 2048  # characters in any IRI
PREFERRED_USERNAME_MAX: Final = 64  # characters in a local actor's preferredUsername
REMOTE_PREFERRED_USERNAME_MAX: Final = 255  # characters in a remote actor's preferredUsername
NAME_MAX: Final = 500  # characters in `name`
SUMMARY_MAX: Final = 5000  # characters in `summary`
CONTENT_MAX: Final = 100_000  # characters in `content` (and each `contentMap` value)
RECIPIENTS_MAX: Final = 500  # entries in to + cc + bto + bcc together
TAG_MAX: Final = 50  # entries in `tag`
ATTACHMENT_MAX: Final = 20  # entries in `attachment` (objects other than actors)
ORDERED_ITEMS_MAX: Final = 500  # entries in `orderedItems` of one fetched page
NUMERICAL_VALUE_MAX: Final = 20  # characters in a decimal string (hasNumericalValue, money value)
FIELD_VALUE_MAX: Final = 2048  # characters in a PropertyValue `value` (HTML)
PUBLIC_KEY_PEM_MAX: Final = 16_384  # characters in a `publicKeyPem`
CODE_MAX: Final = 64  # characters in a code-like string (action, hasUnit, category, timezone, postal code…)
LOAN_DURATION_MAX: Final = 200  # characters in `loanDuration` (ISO 8601 or the lender's words)
REMOTE_ACTOR_FIELDS_MAX: Final = 50  # entries in a remote actor's `attachment`

# --- wire-format §12, §13: sizes, redirects, walks ------------------------------------------------------
INBOX_BODY_MAX: Final = 1024 * 1024  # bytes in an inbox POST body (413 beyond)
AS_DOCUMENT_MAX: Final = 1024 * 1024  # bytes in a fetched ActivityStreams document
DISCOVERY_DOCUMENT_MAX: Final = 64 * 1024  # bytes in a fetched WebFinger, host-meta or NodeInfo document
REDIRECTS_MAX: Final = 3  # redirects followed per outbound GET
COLLECTION_PAGES_MAX: Final = 10  # pages walked per remote collection

# --- wire-format §3–§7: what we emit ------------------------------------------------------------------
TITLE_MAX: Final = 120  # characters in a listing's `title` (fc:title)
BOOKING_CONTENT_MAX: Final = 500  # characters in a booking Offer's free-text `content`
LOCAL_ACTOR_FIELDS_MAX: Final = 6  # PropertyValue/Link entries in a local actor's `attachment`
LISTING_IMAGES_MAX: Final = 4  # Image entries in a listing's `attachment`
LISTING_TAGS_MIN: Final = 1  # Hashtag entries in a listing's `tag`, at least
LISTING_TAGS_MAX: Final = 4  # Hashtag entries in a listing's `tag`, at most
OUTBOX_PAGE_SIZE: Final = 20  # Create activities per outbox page
SLOT_PAGE_SIZE: Final = 100  # slot Intents per slot-collection page
SLOT_HORIZON_DAYS: Final = 60  # days ahead covered by a slot collection
PENDING_BOOKINGS_MAX: Final = 3  # pending bookings of one requester with one workshop, less than this

# --- JSON API and CLI inputs --------------------------------------------------------------------------
DESCRIPTION_MAX: Final = 2000  # characters in a listing or event description (EBS form limit)
EVENT_NAME_MAX: Final = 200  # characters in an event's name
EVENT_CAPACITY_MAX: Final = 100_000  # maximumAttendeeCapacity of an event
SLOT_MINUTES_MIN: Final = 15  # length of a repair slot, minutes, at least
SLOT_MINUTES_MAX: Final = 480  # length of a repair slot, minutes, at most
SLOT_CAPACITY_MIN: Final = 1  # bookings per slot, at least (Rustine numberOfSlots)
SLOT_CAPACITY_MAX: Final = 10  # bookings per slot, at most (Rustine numberOfSlots)
OPENING_RANGES_MAX: Final = 28  # weekly opening ranges of a workshop (four a day)
CLOSURES_MAX: Final = 50  # exceptional closures of a workshop
HASHTAG_MAX: Final = 64  # characters in one hashtag, without '#'
TOKEN_NAME_MAX: Final = 100  # characters in an API token name
TOKEN_NAME_PATTERN: Final = r"^[A-Za-z0-9._-]+$"  # noqa: S105  # API token names (not a secret)
LOCAL_USERNAME_PATTERN: Final = r"^[a-z0-9_-]{1,64}$"  # a local preferredUsername (§3.1)
RESERVED_USERNAMES: Final = frozenset(  # usernames no local actor may take (§3.1)
    {"relay", "actor", "admin", "inbox", "outbox", "api", "well-known"}
)

_IDENTIFIER = re.compile(r"^[A-Za-z_@][A-Za-z0-9_@]*$")


def json_path(parts: tuple[str | int, ...]) -> str:
    """Render a path inside a JSON value as ``$.object.tag[0]`` (odd keys are quoted: ``$["a b"]``)."""
    rendered = ["$"]
    for part in parts:
        if isinstance(part, int):
            rendered.append(f"[{part}]")
        elif _IDENTIFIER.match(part):
            rendered.append(f".{part}")
        else:
            rendered.append(f"[{json.dumps(part, ensure_ascii=False)}]")
    return "".join(rendered)


def check_json_depth(value: object, max_depth: int = JSON_DEPTH_MAX) -> None:
    """Raise :class:`~schemas.errors.BoundsError` if ``value`` nests more than ``max_depth`` arrays/objects.

    The depth of a scalar is 0, of ``{}`` or ``[]`` 1, of ``{"a": []}`` 2. The walk is iterative, so a
    hostile document cannot exhaust the interpreter's stack, and the error names the path of the first
    container found beyond the bound.

    >>> check_json_depth({"a": [1, 2]}, max_depth=2)
    >>> check_json_depth({"a": [[1]]}, max_depth=2)
    Traceback (most recent call last):
    ...
    schemas.errors.BoundsError: JSON nesting exceeds 2 levels at $.a[0]
    """
    stack: list[tuple[object, int, tuple[str | int, ...]]] = [(value, 1, ())]
    while stack:
        node, depth, path = stack.pop()
        if isinstance(node, dict):
            children: list[tuple[str | int, object]] = [(str(key), child) for key, child in node.items()]
        elif isinstance(node, list | tuple):
            children = list(enumerate(node))
        else:
            continue
        if depth > max_depth:
            where = json_path(path)
            raise BoundsError(
                f"JSON nesting exceeds {max_depth} levels at {where}", path=where, limit=max_depth
            )
        for key, child in reversed(children):
            if isinstance(child, dict | list | tuple):
                stack.append((child, depth + 1, (*path, key)))
