"""Reads: one image, the list, searches; each reads only what it returns. Django-free."""

from __future__ import annotations

from images.catalog.base import DEFAULT_PAGE_SIZE, SEARCH_KEYS, InvalidField, Page
from images.catalog.cursors import decode_cursor, encode_cursor
from images.catalog.query import criteria_from, image_find
from images.catalog.services import current_or_none, load
from images.catalog.validation import parse_order
from images.records import LISTED, ImageRecord


def image_list(*, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None, order: str = "newest") -> Page:
    """Every image, newest (or oldest) first, a page at a time (reads only the page)."""
    order = parse_order(order)
    start = decode_cursor(cursor, {"order": order})
    last_key = None
    if start:
        image_id = start["sort"].rsplit("#", 1)[-1]
        last_key = {"listed": {"S": LISTED}, "created_key": {"S": start["sort"]}, "id": {"S": image_id}}
    results = list(
        ImageRecord.by_created.query(
            LISTED, scan_index_forward=order == "oldest", limit=limit + 1, page_size=limit + 1,
            last_evaluated_key=last_key,
        )
    )
    items = results[:limit]
    more = len(results) > limit
    return Page(items, encode_cursor({"order": order, "sort": items[-1].created_key}) if more and items else None)


def image_search(*, key: str, value: str, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None,
                 order: str = "newest") -> Page:
    """Images matching a seed search key, newest (or oldest) first, on the bounded engine
    (images.catalog.query): title words in any order, one keyword, an author or creator, a date."""
    order = parse_order(order)
    value = (value or "").strip()
    if key not in SEARCH_KEYS:
        raise InvalidField("key", f"Search by one of: {', '.join(SEARCH_KEYS)}.")
    if not value:
        raise InvalidField("value", "Give a value to search for.")
    if key == "id":
        record = current_or_none(value.lower())
        return Page([record] if record else [], None)
    try:
        criteria = criteria_from({key: value})
    except InvalidField as exc:
        raise InvalidField("value", exc.message) from exc
    return image_find(criteria=criteria, limit=limit, cursor=cursor, order=order)


def image_get(*, image_id: str) -> ImageRecord:
    """One listed image, or NotFound."""
    return load(image_id)
