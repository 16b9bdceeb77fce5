"""Check and normalise what either face sends: metadata, page sizes, orders. Django-free."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from images.catalog.base import MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE, ORDERS, ImageMeta, InvalidField, is_full_date
from images.catalog.terms import words
from images.limits import LIMITS, MAX_KEYWORDS, MAX_TITLE_WORDS


def parse_keywords(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """Keywords from the seed's "a,b" form or a list: trimmed, deduplicated case-insensitively."""
    if value is None:
        return ()
    parts = value.split(",") if isinstance(value, str) else list(value)
    seen: dict[str, str] = {}
    for part in parts:
        if not isinstance(part, str):
            raise InvalidField("keywords", "Keywords must be text.")
        keyword = " ".join(part.split())
        if not keyword:
            continue
        if len(keyword) > LIMITS["keyword"]:
            raise InvalidField("keywords", f"Each keyword may have at most {LIMITS['keyword']} characters.")
        seen.setdefault(keyword.lower(), keyword)
    if len(seen) > MAX_KEYWORDS:
        raise InvalidField("keywords", f"At most {MAX_KEYWORDS} keywords.")
    return tuple(seen.values())


def _text(field: str, value, *, required: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidField(field, f"{field.replace('_', ' ').capitalize()} must be text.")
    value = value.strip()
    if required and not value:
        raise InvalidField(field, f"{field.replace('_', ' ').capitalize()} is required.")
    if len(value) > LIMITS[field]:
        raise InvalidField(field, f"{field.capitalize()} may have at most {LIMITS[field]} characters.")
    return value


def parse_date(field: str, value) -> str | None:
    """A YYYY-MM-DD date (or None when empty)."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    try:
        if is_full_date(text):  # fromisoformat alone would also take week dates (2024-W20-1)
            return date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    raise InvalidField(field, "Give the date as YYYY-MM-DD, for example 2024-05-17.")


def validate_meta(*, title, description, keywords, author, capture_date) -> ImageMeta:
    """Check and normalise metadata from either face."""
    title = _text("title", title, required=True)
    if len(words(title)) > MAX_TITLE_WORDS:
        raise InvalidField("title", f"A title may have at most {MAX_TITLE_WORDS} words.")
    return ImageMeta(
        title=title,
        description=_text("description", description, required=False),
        keywords=parse_keywords(keywords),
        author=_text("author", author, required=True),
        capture_date=parse_date("capture_date", capture_date),
    )


def page_size(limit) -> int:
    """A page size from a request: default 25, between 1 and 100."""
    if limit in (None, ""):
        return DEFAULT_PAGE_SIZE
    try:
        value = int(limit)
    except (TypeError, ValueError) as exc:
        raise InvalidField("limit", f"limit must be a whole number from 1 to {MAX_PAGE_SIZE}.") from exc
    if not 1 <= value <= MAX_PAGE_SIZE:
        raise InvalidField("limit", f"limit must be a whole number from 1 to {MAX_PAGE_SIZE}.")
    return value


def parse_order(value) -> str:
    """A list order from a request: "newest" (the default) or "oldest"."""
    if value in (None, ""):
        return "newest"
    if value not in ORDERS:
        raise InvalidField("order", "order must be newest or oldest.")
    return value
