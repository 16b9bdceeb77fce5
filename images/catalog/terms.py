"""Search terms: what an image is found by (postings in the terms table). Django-free."""

from __future__ import annotations

import re

from images.records import ImageRecord

_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    return list(dict.fromkeys(w.lower() for w in _WORD.findall(text)))


def normalise(value: str) -> str:
    """An author, creator or keyword as search and facets compare it: lower case, single spaces."""
    return " ".join(value.lower().split())


exact = normalise


def _date_terms(field: str, value: str | None) -> list[str]:
    return [f"{field}:{value[:n]}" for n in (4, 7, 10)] if value else []


def terms_of(record: ImageRecord) -> set[str]:
    """Every search term the record is found by."""
    return {
        *(f"title:{w}" for w in words(record.title)),
        *(f"keyword:{k.lower()}" for k in record.keywords),
        f"author:{exact(record.author)}",
        f"creator:{exact(record.creator)}",
        *_date_terms("captured", record.capture_date),
        *_date_terms("stored", record.storage_date),
    }
