"""The trash: a delete moves an image there, its owner or staff restore it, staff (or the
retention sweep) purge it for good. Django-free.

A trashed image (state TRASHED) is unlisted, has no search postings and is not found by id;
its record keeps its metadata, who deleted it and when. Its file leaves the public prefixes
at once: the objects are copied under trash/ (private: neither the CDN nor the bucket policy
serves it) BEFORE the transaction that points the record at the copies, and the public
objects leave the bucket and the CDN through the cleanup item of that same transaction
(images.catalog.cleanup). Restore is the same move back, to new public keys. So every crash
leaves either unreferenced copies (the sweep removes them) or a cleanup item (the sweep
finishes it), never a trashed image still served.

Trash postings in the terms table list the trash without reading the table: term
"trash:all" (staff) and "trash:owner:<owner sub>" (owners), sort key "<deleted_at>#<id>",
oldest first for the retention purge, newest first for the pages.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from botocore.exceptions import ClientError

from common.config import get_config
from common.errors import NotFound, PermissionDenied
from images import objects
from images.catalog import cleanup, history
from images.catalog.base import DEFAULT_PAGE_SIZE, ID, Actor, ImageConflict, Page, can_change, now
from images.catalog.cursors import decode_cursor, encode_cursor
from images.catalog.duplicates import content_terms
from images.catalog.facets import apply_facet_changes, facet_changes, facets_of
from images.catalog.services import NOT_IN_TRASH, conflict_of, discard_objects, load, posting
from images.catalog.terms import terms_of
from images.catalog.transactions import Unsettled, commit, new_token, s3_call
from images.records import LISTED, READY, TRASHED, ImageRecord, ImageTerm

TRASH_ALL = "trash:all"
# Who acts when the retention period runs out.
SWEEP = Actor(sub="sweep", username="sweep", is_staff=True, face="sweep")


def owner_term(owner_sub: str) -> str:
    return f"trash:owner:{owner_sub}"


def trash_terms(record: ImageRecord) -> dict[str, str]:
    """The trash postings of a trashed record: {term: sort key}."""
    sort = f"{record.deleted_at.isoformat()}#{record.id}"
    return {TRASH_ALL: sort, owner_term(record.owner_sub): sort}


def _trash_posting(term: str, sort: str, record: ImageRecord) -> ImageTerm:
    return ImageTerm(term, sort, image_id=record.id)


def _copy(pairs: list[tuple[str, str]], gone) -> None:
    """Copy objects to keys nothing refers to yet; on failure remove the copies made. A source
    missing means another writer's change removed it after the record was read: `gone()`."""
    try:
        for source, target in pairs:
            s3_call("copy", lambda s=source, t=target: objects.copy_object(s, t))
    except ClientError as exc:
        discard_objects(*(t for _, t in pairs))
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
            raise gone() from exc
        raise
    except BaseException:
        discard_objects(*(t for _, t in pairs))
        raise


def finish_pending(image_id: str) -> None:
    """Finish the cleanups an earlier change of this image left (a retried request ends them,
    not only the sweep); failures stay pending for the next try."""
    if ID.match(image_id or ""):
        for item in cleanup.pending(image_id):
            cleanup.finish(item)


def _commit(build, record: ImageRecord, version: int, token: str, copies: list[str], gone) -> None:
    try:
        commit(build, image_id=record.id, version=version, token=token, on_condition=gone)
    except BaseException as exc:
        if not isinstance(exc, Unsettled):
            discard_objects(*copies)
        raise
    record.version = version


def image_delete(*, actor: Actor, image_id: str, expected_version: int | None = None) -> bool:
    """Move an image to the trash (one version, one history entry). True when its public objects
    are gone from the bucket and the CDN too, False when that is still pending (the sweep ends it)."""
    try:
        record = load(image_id)
    except NotFound:
        finish_pending(image_id)  # a retried delete ends what the first one left
        raise
    if not can_change(actor, record):
        raise PermissionDenied("Only the image's owner or staff may delete it.")
    if expected_version is not None and int(expected_version) != record.version:
        raise ImageConflict(record)
    public = [record.object_key, record.thumbnail_key]
    version, token = record.version + 1, new_token()
    hidden = [objects.trash_key(k, token) for k in public]
    old_terms, old_facets = terms_of(record), facets_of(record)
    _copy(list(zip(public, hidden)), lambda: conflict_of(image_id))
    record.state, record.listed = TRASHED, None
    record.object_key, record.thumbnail_key = hidden
    record.deleted_at, record.deleted_by, record.deleted_by_sub = now(), actor.username, actor.sub
    entry = history.entry(image_id=record.id, version=version, actor=actor, action="delete", title=record.title,
                          changes={"state": [READY, TRASHED]}, at=record.deleted_at, token=token)
    stale = cleanup.cleanup_item(record.id, token, public)

    def build(tx):
        tx.save(record, condition=ImageRecord.state == READY)  # and the version read (PynamoDB)
        tx.save(entry, condition=type(entry).image_id.does_not_exist())
        tx.save(stale)
        for term in old_terms:
            tx.delete(posting(term, record))
        for term, sort in trash_terms(record).items():
            tx.save(_trash_posting(term, sort, record))

    _commit(build, record, version, token, hidden, lambda: conflict_of(image_id))
    apply_facet_changes(facet_changes(old_facets, {}))
    return cleanup.finish(stale)


def image_restore(*, actor: Actor, image_id: str) -> ImageRecord:
    """Bring an image back from the trash: the same id and metadata, its file served again (at
    new keys, so no cache can hold an answer from while it was gone)."""
    record = load(image_id, trashed=True)
    if not can_change(actor, record):
        # As if unknown: someone else's trash is not theirs to learn about (ids included).
        raise NotFound(NOT_IN_TRASH)
    hidden = [record.object_key, record.thumbnail_key]
    token = uuid.uuid4().hex  # the new file version's keys
    extension = record.filename.rsplit(".", 1)[-1]
    public = [objects.image_key(record.id, token, extension), objects.thumbnail_key(record.id, token)]
    old_postings = trash_terms(record)
    _copy(list(zip(hidden, public)), lambda: NotFound(NOT_IN_TRASH))
    record.state, record.listed = READY, LISTED
    record.object_key, record.thumbnail_key = public
    record.deleted_at = record.deleted_by = record.deleted_by_sub = None
    record.updated_at = now()
    version, change_token = record.version + 1, new_token()
    entry = history.entry(image_id=record.id, version=version, actor=actor, action="restore", title=record.title,
                          changes={"state": [TRASHED, READY]}, at=record.updated_at, token=change_token)
    stale = cleanup.cleanup_item(record.id, change_token, hidden)

    def build(tx):
        tx.save(record, condition=ImageRecord.state == TRASHED)
        tx.save(entry, condition=type(entry).image_id.does_not_exist())
        tx.save(stale)
        for term, sort in old_postings.items():
            tx.delete(_trash_posting(term, sort, record))
        for term in terms_of(record):
            tx.save(posting(term, record))

    _commit(build, record, version, change_token, public, lambda: NotFound(NOT_IN_TRASH))
    apply_facet_changes(facet_changes({}, facets_of(record)))
    cleanup.finish(stale)
    return record


def image_purge(*, actor: Actor, image_id: str) -> bool:
    """Remove a trashed image for good (staff, or the retention sweep): record, postings and
    file go; its history stays. True when the file is gone too, False when that is pending."""
    if not actor.is_staff:
        raise PermissionDenied("Only staff may purge images from the trash.")
    record = load(image_id, trashed=True)
    version, token = record.version + 1, new_token()
    entry = history.entry(image_id=record.id, version=version, actor=actor, action="purge", title=record.title,
                          changes={"state": [TRASHED, "purged"]}, at=now(), token=token)
    stale = cleanup.cleanup_item(record.id, token, [record.object_key, record.thumbnail_key])
    content = content_terms(record)  # the duplicate-detection postings go with the record

    def build(tx):
        tx.delete(record)  # conditional on the version read
        tx.save(entry, condition=type(entry).image_id.does_not_exist())
        tx.save(stale)
        for term, sort in trash_terms(record).items():
            tx.delete(_trash_posting(term, sort, record))
        for term in content:
            tx.delete(posting(term, record))

    commit(build, image_id=record.id, version=version, token=token, on_condition=lambda: NotFound(NOT_IN_TRASH))
    return cleanup.finish(stale)


def trash_get(*, actor: Actor, image_id: str) -> ImageRecord:
    """A trashed image its owner or staff may see (NotFound for anyone else)."""
    record = load(image_id, trashed=True)
    if not can_change(actor, record):
        raise NotFound(NOT_IN_TRASH)
    finish_pending(image_id)  # the delete's cleanup, if it did not end
    return record


def image_trash_list(*, actor: Actor, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None) -> Page:
    """The trash, last deleted first: everyone's for staff, one's own images' for others."""
    term = TRASH_ALL if actor.is_staff else owner_term(actor.sub)
    start = decode_cursor(cursor, {"term": term})
    last_key = {"term": {"S": term}, "sort_key": {"S": start["sort"]}} if start else None
    postings = list(ImageTerm.query(term, scan_index_forward=False, limit=limit + 1, page_size=limit + 1,
                                    last_evaluated_key=last_key))
    ids = [p.image_id for p in postings[:limit]]
    found = {r.id: r for r in ImageRecord.batch_get(ids)} if ids else {}
    items = [found[i] for i in ids if i in found and found[i].state == TRASHED]
    more = len(postings) > limit
    return Page(items, encode_cursor({"term": term, "sort": postings[limit - 1].sort_key}) if more else None)


def trash_retention_days() -> int:
    return get_config().trash_retention_days


def purge_expired(*, retention_days: int, at: datetime | None = None) -> tuple[list[str], list[str]]:
    """Purge what has been in the trash longer than the retention period: (purged ids, failures)."""
    cutoff = ((at or now()) - timedelta(days=retention_days)).isoformat()
    purged, failures = [], []
    for item in ImageTerm.query(TRASH_ALL, ImageTerm.sort_key < cutoff, consistent_read=True):
        try:
            image_purge(actor=SWEEP, image_id=item.image_id)
            purged.append(item.image_id)
        except NotFound:
            continue  # restored or purged meanwhile
        except Exception as exc:  # noqa: BLE001 - reported; the next run tries again
            failures.append(f"purge {item.image_id}: {exc!r}")
    return purged, failures
