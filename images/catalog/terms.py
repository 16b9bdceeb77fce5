"""Search terms: what an image is found by (postings in the terms table). Django-free."""

from __future__ import annotations

import re
import unicodedata

from images.records import ImageRecord

_WORD = re.compile(r"\w+")


def fold(text: str) -> str:
    """Text as search compares it: accents dropped and case folded ("Café" and "CAFE": "cafe")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)).casefold())


def words(text: str) -> list[str]:
    """The words of a text, folded, each once."""
    return list(dict.fromkeys(_WORD.findall(fold(text))))


def normalise(value: str) -> str:
    """An author, creator or keyword as search and facets compare it: folded, single spaces."""
    return " ".join(fold(value).split())


exact = normalise


def _date_terms(field: str, value: str | None) -> list[str]:
    return [f"{field}:{value[:n]}" for n in (4, 7, 10)] if value else []


def any_words(record: ImageRecord) -> set[str]:
    """The words the any-field search finds the record by: of its title, keywords, author, creator."""
    return {w for text in (record.title, record.author, record.creator, *record.keywords) for w in words(text)}


def word_index_of(record: ImageRecord) -> set[str]:
    """Entries "<word> <term>" of the any-field word index: each word of the author, the creator
    and the keywords of several words, with the posting term holding it. (Title words and
    one-word keywords need none: their own postings, title:<w> and keyword:<w>, are the word's.)"""
    names = [("author", record.author), ("creator", record.creator)]
    names += [("keyword", k) for k in record.keywords if words(k) != [exact(k)]]
    return {f"{w} {field}:{exact(value)}" for field, value in names for w in words(value)}


def terms_of(record: ImageRecord) -> set[str]:
    """Every search term the record is found by."""
    return {
        *(f"title:{w}" for w in words(record.title)),
        *(f"keyword:{exact(k)}" for k in record.keywords),
        f"author:{exact(record.author)}",
        f"creator:{exact(record.creator)}",
        *_date_terms("captured", record.capture_date),
        *_date_terms("stored", record.storage_date),
    }


def legacy_terms_of(record: ImageRecord) -> set[str]:
    """The search terms the record had before search folded accents (lower case only): what
    images.reindex deletes once the folded ones are written."""
    def lower(value: str) -> str:
        return " ".join(value.lower().split())

    return {
        *(f"title:{w.lower()}" for w in _WORD.findall(record.title)),
        *(f"keyword:{k.lower()}" for k in record.keywords),
        f"author:{lower(record.author)}",
        f"creator:{lower(record.creator)}",
    }
