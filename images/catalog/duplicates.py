"""Duplicate detection: an upload whose content is already in the catalog (the trash included).

Two postings per image in the terms table, written in the same transaction as the record and
kept while it is in the trash (removed by a purge): "sha256:<hex>" (the stored bytes) and
"pixels:<hex>" (the decoded pixels, images.media: the same picture with other embedded
metadata). A lookup is one Query per posting term and one BatchGetItem of what it names: it
reads the index, never the table. Two uploads of one picture racing each other can both pass a
refusal check; the catalog then holds both, each reporting the other afterwards. Django-free.
"""

from __future__ import annotations

from dataclasses import dataclass

from common.errors import Conflict
from images import objects
from images.catalog.base import Actor, can_change
from images.records import READY, TRASHED, ImageRecord, ImageTerm

SAME_BYTES = "same_bytes"
SAME_PIXELS = "same_pixels"
# Postings read per term: enough to skip the image itself and a few gone ones.
LOOKUP_LIMIT = 5


@dataclass(frozen=True)
class Duplicate:
    """An image already in the catalog with the same content as an upload."""

    record: ImageRecord
    match: str  # SAME_BYTES or SAME_PIXELS

    @property
    def in_trash(self) -> bool:
        return self.record.state == TRASHED

    def describe(self) -> str:
        """In words: "the same file as “Dune” (in the trash)"."""
        what = "the same file" if self.match == SAME_BYTES else "the same picture"
        return f"{what} as “{self.record.title}”" + (" (in the trash)" if self.in_trash else "")

    def to_dict(self) -> dict:
        """The API's duplicate_of: which image, how it matches, whether it is in the trash."""
        listed = not self.in_trash
        return {
            "id": self.record.id, "title": self.record.title, "match": self.match, "in_trash": self.in_trash,
            "object_url": objects.public_url(self.record.object_key) if listed else None,
            "thumbnail_url": objects.public_url(self.record.thumbnail_key) if listed else None,
        }


class DuplicateImage(Conflict):
    """The client asked to refuse duplicates and the content is already in the catalog."""

    def __init__(self, duplicate: Duplicate):
        super().__init__(f"This is {duplicate.describe()}; nothing was stored.")
        self.duplicate = duplicate
        self.body_extra = {"duplicate_of": duplicate.to_dict()}


def content_terms(record: ImageRecord) -> set[str]:
    """The duplicate-detection postings of a record (older records may have no pixel hash)."""
    terms = {f"sha256:{record.sha256}"}
    if getattr(record, "pixel_hash", None):
        terms.add(f"pixels:{record.pixel_hash}")
    return terms


def find_duplicate(*, sha256: str, pixel_hash: str | None, exclude: str | None = None,
                   viewer: Actor | None = None) -> Duplicate | None:
    """The image (listed or in the trash) with the same bytes, else the same pixels; or None.
    Given a viewer, only a trash the viewer may see (their own; staff: all) counts: a match in
    someone else's trash is not reported at all, not even that there is one."""
    wanted = [(f"sha256:{sha256}", SAME_BYTES)]
    if pixel_hash:
        wanted.append((f"pixels:{pixel_hash}", SAME_PIXELS))
    for term, match in wanted:
        ids = [p.image_id for p in ImageTerm.query(term, limit=LOOKUP_LIMIT, page_size=LOOKUP_LIMIT)
               if p.image_id != exclude]
        if not ids:
            continue
        found = {r.id: r for r in ImageRecord.batch_get(ids)}
        # Listed images first, then the trash; the oldest posting first within each.
        for state in (READY, TRASHED):
            for image_id in ids:
                record = found.get(image_id)
                if record is None or record.state != state:
                    continue
                if state == TRASHED and viewer is not None and not can_change(viewer, record):
                    continue
                return Duplicate(record, match)
    return None


def duplicate_of(record: ImageRecord, viewer: Actor | None = None) -> Duplicate | None:
    """Another image with the same content as this stored one (see find_duplicate's viewer)."""
    return find_duplicate(sha256=record.sha256, pixel_hash=getattr(record, "pixel_hash", None), exclude=record.id,
                          viewer=viewer)
