"""Counters (how many images have each author, creator, keyword, capture year/month: the
sidebar's facets; and each title word, capture day, storage date and any-field word entry:
what the query planner reads; and every image: the list's count): kept with atomic ADDs after
each write commits, recounted by the sweep. Django-free."""

from __future__ import annotations

import logging
import unicodedata

from pynamodb.exceptions import DeleteError

from images.catalog.base import InvalidField
from images.catalog.terms import exact, word_index_of, words
from images.records import ImageRecord, ImageTerm

log = logging.getLogger(__name__)

FACET_FIELDS = ("author", "creator", "keyword", "captured")
FACET_PREFIX = "facet:"
# Every counted field: the facets, then the planner's counts (images.catalog.query). "day" is
# a capture date, "stored" a storage date prefix, "word" an entry of the any-field word index,
# "all" the one counter of every image (images.catalog.counts).
COUNTED_FIELDS = FACET_FIELDS + ("title", "day", "stored", "word", "all")
TOTAL = ("all", "images")


def counter_of(term: str) -> tuple[str, str]:
    """The counter (field, value) of a posting term: how many images have it."""
    field, value = term.split(":", 1)
    return ("day", value) if field == "captured" and len(value) == 10 else (field, value)


def facets_of(record: ImageRecord) -> dict[tuple[str, str], str]:
    """Every (field, normalised value) the record is counted under (COUNTED_FIELDS), with its
    display form."""
    found = {
        ("author", exact(record.author)): " ".join(record.author.split()),
        ("creator", exact(record.creator)): record.creator,
    }
    for keyword in record.keywords:
        found.setdefault(("keyword", exact(keyword)), keyword)
    if record.capture_date:
        for prefix in (record.capture_date[:4], record.capture_date[:7]):
            found[("captured", prefix)] = prefix
        found[("day", record.capture_date)] = record.capture_date
    for word in words(record.title):
        found[("title", word)] = word
    for n in (4, 7, 10):
        found[("stored", record.storage_date[:n])] = record.storage_date[:n]
    for entry in word_index_of(record):
        found[("word", entry)] = entry
    found[TOTAL] = TOTAL[1]
    return found


def facet_changes(before: dict[tuple[str, str], str],
                  after: dict[tuple[str, str], str]) -> dict[tuple[str, str], tuple[int, str]]:
    """The count deltas (with display forms) from one image's facets_of() to another's."""
    changes = {key: (1, label) for key, label in after.items() if key not in before}
    changes.update({key: (-1, label) for key, label in before.items() if key not in after})
    return changes


def _facet_key(field: str, value: str) -> ImageTerm:
    return ImageTerm(FACET_PREFIX + field, value)


def apply_facet_changes(changes: dict[tuple[str, str], tuple[int, str]]) -> None:
    """ADD each delta to its counter; a counter that reaches zero is removed.

    Never raises: the image write has committed, and a count left off is what the sweep
    recounts. A removal is conditional on the count still being <= 0, so a concurrent +1
    keeps its item.
    """
    for (field, value), (delta, label) in sorted(changes.items()):
        item = _facet_key(field, value)
        try:
            actions = [ImageTerm.facet_count.add(delta)]
            if delta > 0:
                actions.append(ImageTerm.label.set(ImageTerm.label | label))  # the first display form stays
            item.update(actions=actions)
            if delta < 0 and (item.facet_count or 0) <= 0:
                try:
                    item.delete(condition=ImageTerm.facet_count <= 0)
                except DeleteError as exc:
                    if exc.cause_response_code != "ConditionalCheckFailedException":
                        raise
        except Exception:  # noqa: BLE001 - logged; `sweep_images` repairs the count
            log.warning("facet count %s%s=%r %+d not applied; run sweep_images to recount",
                        FACET_PREFIX, field, value, delta, exc_info=True)


def _sort_label(label: str) -> str:
    plain = "".join(c for c in unicodedata.normalize("NFKD", label) if not unicodedata.combining(c))
    return plain.casefold()


def facet_values(*, field: str, limit: int = 50) -> list[tuple[str, str, int]]:
    """The values of a facet that images have, as (value, label, count): one Query.

    Authors, creators and keywords come A to Z by label (people look a name up; the first
    `limit` values in key order); capture years and months newest first, a year before its
    months ("2024", "2024-05", "2024-01", "2023", ...).
    """
    if field not in FACET_FIELDS:
        raise InvalidField("field", f"Facets are: {', '.join(FACET_FIELDS)}.")
    newest_first = field == "captured"
    found: list[tuple[str, str, int]] = []
    for item in ImageTerm.query(FACET_PREFIX + field, scan_index_forward=not newest_first, page_size=limit + 1):
        count = int(item.facet_count or 0)
        if count <= 0:  # a counter a crash left at zero or below until the sweep removes it
            continue
        found.append((item.sort_key, item.label or item.sort_key, count))
        if len(found) == limit:
            break
    if newest_first:
        # Descending key order puts "2024-05" before "2024": put each year before its months.
        return sorted(found, key=lambda v: (-int(v[0][:4]), len(v[0]), -int(v[0][5:7] or 0)))
    return sorted(found, key=lambda v: (_sort_label(v[1]), v[0]))
