"""Rewrite every listed image's search postings as the catalog makes them now (after search
began to fold accents: "title:café" became "title:cafe"), and delete the postings of the old
form. Idempotent; run it, then `manage.py sweep_images --repair` to recount the counters.
Django-free."""

from __future__ import annotations

from dataclasses import dataclass

from images.catalog.terms import legacy_terms_of, terms_of
from images.records import READY, ImageRecord, ImageTerm


@dataclass
class ReindexReport:
    images: int = 0
    written: int = 0  # postings put (those already there included)
    deleted: int = 0  # old-form postings deleted (where there were any)


def reindex_search() -> ReindexReport:
    """Put each READY image's postings and delete its old-form ones (a put of an existing posting
    and a delete of a missing one change nothing); reads the whole table, as maintenance may. A
    posting put here for a term a concurrent edit just removed finds nothing: search checks each
    match against its record."""
    report = ReindexReport()
    for record in ImageRecord.scan(consistent_read=True):
        if record.state != READY:
            continue
        report.images += 1
        current = terms_of(record)
        with ImageTerm.batch_write() as batch:
            for term in sorted(current):
                batch.save(ImageTerm(term, record.created_key, image_id=record.id))
                report.written += 1
            for term in sorted(legacy_terms_of(record) - current):
                batch.delete(ImageTerm(term, record.created_key))
                report.deleted += 1
    return report
