"""Duplicate detection: an upload whose content is already in the catalog (the trash included).

Two postings per image in the terms table, written in the same transaction as the record and
kept while it is in the trash (removed by a purge): "sha256:<hex>" (the stored bytes) and
"pixels:<hex>" (the decoded pixels, images.media: the same picture with other embedded
metadata). A lookup is one Query per posting term and one BatchGetItem of what it names: it
reads the index, never the table. Two uploads of one picture at once that refuse duplicates
(the add page asks) can both pass the lookup: a Claim in each one's transaction lets only the
first commit, and the other then finds it. Django-free.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from common.errors import Conflict
from images import objects
from images.catalog.base import Actor, can_change
from images.records import READY, TRASHED, ImageRecord, ImageTerm

SAME_BYTES = "same_bytes"
SAME_PIXELS = "same_pixels"
CLAIM_PREFIX = "claim:"
# Longer than any lookup-to-commit window (a request's budget is 30 s, an upload's copy inside it).
CLAIM_LIFETIME = timedelta(minutes=15)
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


def _matches_by_term(sha256: str, pixel_hash: str | None) -> list[tuple[str, str]]:
    """(posting term, match) of a content, the bytes first (older records have no pixel hash)."""
    return [(f"sha256:{sha256}", SAME_BYTES)] + ([(f"pixels:{pixel_hash}", SAME_PIXELS)] if pixel_hash else [])


def content_terms(record: ImageRecord) -> set[str]:
    """The duplicate-detection postings of a record."""
    return {term for term, _ in _matches_by_term(record.sha256, getattr(record, "pixel_hash", None))}


def find_duplicate(*, sha256: str, pixel_hash: str | None, exclude: str | None = None,
                   viewer: Actor | None = None, consistent: bool = False) -> Duplicate | None:
    """The image (listed or in the trash) with the same bytes, else the same pixels; or None.
    Given a viewer, only a trash the viewer may see (their own; staff: all) counts: a match in
    someone else's trash is not reported at all, not even that there is one."""
    for term, match in _matches_by_term(sha256, pixel_hash):
        ids = [p.image_id for p in ImageTerm.query(term, limit=LOOKUP_LIMIT, page_size=LOOKUP_LIMIT,
                                                   consistent_read=consistent) if p.image_id != exclude]
        if not ids:
            continue
        found = {r.id: r for r in ImageRecord.batch_get(ids, consistent_read=consistent)}
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


@dataclass(frozen=True)
class Claim:
    """The content an upload that refuses duplicates is about to store, claimed in the same
    transaction: each claim item is written only if no other image claimed that content within
    CLAIM_LIFETIME, so of two such uploads at once only the first commits. The lookup before
    the upload (find_duplicate) still answers everything older; a claim covers the moment
    between another's lookup and its commit. A claim read before the lookup whose image the
    lookup did not report (purged, or in someone else's trash) may be taken over."""

    sha256: str
    pixel_hash: str | None
    image_id: str
    held: tuple[tuple[str, str], ...] = ()  # (term, image id) of the claims read before the lookup

    def terms(self) -> list[str]:
        return [CLAIM_PREFIX + term for term, _ in _matches_by_term(self.sha256, self.pixel_hash)]

    def read(self) -> Claim:
        """This claim with the claims already held on its content (read consistently)."""
        found = ImageTerm.batch_get([(term, "claim") for term in self.terms()], consistent_read=True)
        return Claim(self.sha256, self.pixel_hash, self.image_id, tuple(sorted((t.term, t.image_id) for t in found)))

    def items(self, at: datetime) -> list[tuple[ImageTerm, object]]:
        """Each claim item with the condition to write it under."""
        held = dict(self.held)
        written = []
        for term in self.terms():
            free = (ImageTerm.term.does_not_exist() | (ImageTerm.expires_at < at)
                    | (ImageTerm.image_id == self.image_id))  # a retry of the same request
            if term in held:
                free = free | (ImageTerm.image_id == held[term])  # unchanged since the lookup passed it
            written.append((ImageTerm(term, "claim", image_id=self.image_id, expires_at=at + CLAIM_LIFETIME), free))
        return written

    def lost_to(self, viewer: Actor) -> DuplicateImage | None:
        """After a failed transaction: the image that claimed the content meanwhile, if it did."""
        match = find_duplicate(sha256=self.sha256, pixel_hash=self.pixel_hash, exclude=self.image_id,
                               viewer=viewer, consistent=True)
        return DuplicateImage(match) if match is not None else None
