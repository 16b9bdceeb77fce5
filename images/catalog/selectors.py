"""Reads: one image, the list, searches; each reads only what it returns. Django-free."""

from __future__ import annotations

import itertools

from images.catalog.base import DATE_PREFIX, DEFAULT_PAGE_SIZE, SEARCH_KEYS, InvalidField, Page
from images.catalog.cursors import decode_cursor, encode_cursor
from images.catalog.services import current_or_none, load
from images.catalog.terms import exact, words
from images.catalog.validation import parse_order
from images.records import LISTED, READY, ImageRecord, ImageTerm


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


def _batch_get(ids: list[str]) -> list[ImageRecord]:
    found = {r.id: r for r in ImageRecord.batch_get(ids)} if ids else {}
    return [found[i] for i in ids if i in found and found[i].state == READY]


def _query_term(term: str, limit: int, cursor: str | None, order: str, keep=lambda r: True) -> Page:
    """Images with a term, newest or oldest first; `keep` filters further (multi-word titles)."""
    start = decode_cursor(cursor, {"term": term, "order": order})
    last_key = {"term": {"S": term}, "sort_key": {"S": start["sort"]}} if start else None
    postings = iter(ImageTerm.query(term, scan_index_forward=order == "oldest", page_size=limit + 1,
                                    last_evaluated_key=last_key))
    items: list[ImageRecord] = []
    # Read postings a page at a time and fetch their images in one batch, until one image
    # more than the page is found (then there is a next page) or the postings run out.
    while batch := list(itertools.islice(postings, limit + 1)):
        for record in _batch_get([p.image_id for p in batch]):
            if not keep(record):
                continue
            if len(items) == limit:
                cursor_key = {"term": term, "order": order, "sort": items[-1].created_key}
                return Page(items, encode_cursor(cursor_key))
            items.append(record)
    return Page(items, None)


def image_search(*, key: str, value: str, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None,
                 order: str = "newest") -> Page:
    """Images matching a seed search key, newest (or oldest) first, reading only the matches."""
    order = parse_order(order)
    value = (value or "").strip()
    if key not in SEARCH_KEYS:
        raise InvalidField("key", f"Search by one of: {', '.join(SEARCH_KEYS)}.")
    if not value:
        raise InvalidField("value", "Give a value to search for.")
    if key == "id":
        record = current_or_none(value.lower())
        return Page([record] if record else [], None)
    if key == "title":
        title_words = words(value)
        if not title_words:
            raise InvalidField("value", "Give at least one word of the title.")
        wanted = set(title_words)
        return _query_term(f"title:{title_words[0]}", limit, cursor, order, lambda r: wanted <= set(words(r.title)))
    if key == "keywords":
        return _query_term(f"keyword:{exact(value)}", limit, cursor, order)
    if key in ("author", "creator"):
        return _query_term(f"{key}:{exact(value)}", limit, cursor, order)
    if not DATE_PREFIX.match(value):
        raise InvalidField("value", "Give a date as YYYY, YYYY-MM or YYYY-MM-DD.")
    field = "stored" if key == "storage_date" else "captured"
    return _query_term(f"{field}:{value}", limit, cursor, order)

def image_get(*, image_id: str) -> ImageRecord:
    """One listed image, or NotFound."""
    return load(image_id)
