"""Writes: create, change (metadata and/or file), bulk changes (delete, restore and purge are the
trash's: images.catalog.trash). Django-free.

Write order, so that no failure shows a half-made image and no retry makes two:
- Every stored file version has keys of its own (images/<id>/<token>.<ext>, see
  images.objects), never overwritten, written BEFORE the transaction that points the record at
  them. Until then nothing refers to them; if the transaction fails they are deleted, and if
  the process dies they are unreferenced objects the sweep removes.
- ONE DynamoDB transaction per change writes the record (conditional on the version read:
  PynamoDB's VersionAttribute adds exactly 1), its search postings, its history entry (one per
  version, carrying the transaction's ClientRequestToken) and, where objects lose their last
  reference, a cleanup item. See images.catalog.transactions for how failures are told apart.
- After the commit: facet counts (atomic ADDs; the sweep recounts after a crash) and the
  cleanup (old objects out of the bucket and the CDN; images.catalog.cleanup).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Mapping
from typing import Any, BinaryIO

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import DoesNotExist

from common.config import get_config
from common.errors import NotFound, PermissionDenied
from images import media, objects
from images.catalog import cleanup, duplicates, history
from images.catalog.base import ID, Actor, ImageConflict, ImageMeta, InvalidField, can_change, now
from images.catalog.facets import apply_facet_changes, facet_changes, facets_of
from images.catalog.terms import terms_of
from images.catalog.transactions import Unsettled, commit, new_token, s3_call
from images.catalog.validation import parse_keywords, validate_meta
from images.filenames import clean_filename
from images.records import LISTED, READY, TRASHED, ImageRecord, ImageTerm

log = logging.getLogger(__name__)

META_FIELDS = ("title", "description", "keywords", "author", "capture_date")
BULK_ACTIONS = ("set_author", "add_keywords", "remove_keywords")


def prepare(data: bytes | BinaryIO) -> media.PreparedImage:
    """Verify a request's bytes or an upload's file (see media.prepare_image)."""
    config = get_config()
    return media.prepare_image(data, max_bytes=config.image_max_bytes, max_pixels=config.image_max_pixels)


def apply_meta(record: ImageRecord, meta: ImageMeta) -> None:
    record.title = meta.title
    record.description = meta.description
    record.keywords = list(meta.keywords)
    record.author = meta.author
    record.capture_date = meta.capture_date


def apply_file(record: ImageRecord, prepared: media.PreparedImage, original_filename: str) -> None:
    """Point the record at a new file version: fresh keys, never those of another version."""
    token = uuid.uuid4().hex
    record.object_key = objects.image_key(record.id, token, prepared.extension)
    record.thumbnail_key = objects.thumbnail_key(record.id, token)
    record.filename = f"{record.id}.{prepared.extension}"
    record.original_filename = clean_filename(original_filename, fallback=record.filename)
    record.content_type = prepared.content_type
    record.byte_size = prepared.byte_size
    record.width = prepared.width
    record.height = prepared.height
    record.sha256 = prepared.sha256
    record.pixel_hash = prepared.pixel_hash or None


def posting(term: str, record: ImageRecord) -> ImageTerm:
    return ImageTerm(term, record.created_key, image_id=record.id)


def _put_file(record: ImageRecord, prepared: media.PreparedImage) -> None:
    """Store a version's file and thumbnail under its own keys (nothing refers to them yet)."""
    try:
        s3_call("put file", lambda: objects.put_object(record.object_key, prepared.file,
                                                        content_type=prepared.content_type,
                                                        filename=record.filename))
        s3_call("put thumbnail", lambda: objects.put_object(record.thumbnail_key, prepared.thumbnail,
                                                             content_type=prepared.thumbnail_content_type))
    except BaseException:
        discard_objects(record.object_key, record.thumbnail_key)
        raise


def discard_objects(*keys: str) -> None:
    """Remove objects a failed write put; if that fails too they are orphans the sweep removes."""
    try:
        objects.delete_objects(*keys)
    except (ClientError, BotoCoreError, objects.DeleteFailed):  # the original error matters more; the sweep finds these
        log.warning("could not remove unreferenced objects %s; sweep_images will", keys, exc_info=True)


NOT_IN_TRASH = "No image in the trash has that id."


def load(image_id: str, *, trashed: bool = False) -> ImageRecord:
    """The image with that id, read consistently: a listed one, or with trashed one in the trash;
    NotFound for any other id (a malformed one, an unknown one, one in the other state)."""
    missing = NOT_IN_TRASH if trashed else "No image has that id."
    if not isinstance(image_id, str) or not ID.match(image_id):
        raise NotFound(missing)
    try:
        record = ImageRecord.get(image_id, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound(missing) from exc
    if record.state != (TRASHED if trashed else READY):
        raise NotFound(missing)
    return record


def current_or_none(image_id: str) -> ImageRecord | None:
    try:
        return load(image_id)
    except NotFound:
        return None


def conflict_of(image_id: str) -> ImageConflict | NotFound:
    current = current_or_none(image_id)
    return ImageConflict(current) if current is not None else NotFound("No image has that id.")


def postings_of(record: ImageRecord) -> set[str]:
    """The search terms and the duplicate-detection terms of a record (images.catalog.duplicates)."""
    return terms_of(record) | duplicates.content_terms(record)


def refuse_duplicate(prepared: media.PreparedImage, on_duplicate: str, image_id: str,
                     viewer: Actor) -> duplicates.Claim | None:
    """With on_duplicate "refuse" (or "ask": refuse, the upload kept for the person's choice, see
    images.catalog.uploads), a DuplicateImage (409) when the content is already stored, else
    the claim the image's transaction must write (a duplicate stored meanwhile loses it)."""
    if on_duplicate not in ("refuse", "ask"):
        return None
    claim = duplicates.Claim(prepared.sha256, prepared.pixel_hash, image_id).read()  # before the lookup
    # A claim held means a commit moments ago: read its postings as they are now.
    match = duplicates.find_duplicate(sha256=prepared.sha256, pixel_hash=prepared.pixel_hash, exclude=image_id,
                                      viewer=viewer, consistent=bool(claim.held))
    if match is not None:
        raise duplicates.DuplicateImage(match)
    return claim


def _save_claim(tx, claim: duplicates.Claim | None, at) -> None:
    for item, condition in claim.items(at) if claim else ():
        tx.save(item, condition=condition)


def request_image_id(*parts: str) -> str:
    """The id of the image one request makes (an upload_key, or an idempotency key with its
    scope): every try of that request names the same id, and only one can create it."""
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


class _AlreadyCreated(ImageConflict):
    """Another try of the same request created the image first (it is `current`)."""


def _created_before(image_id: str, owner: Actor) -> ImageConflict:
    try:
        existing = ImageRecord.get(image_id, consistent_read=True)
    except DoesNotExist:
        existing = None
    if existing is not None and existing.state == READY and existing.owner_sub == owner.sub:
        return _AlreadyCreated(existing)
    return ImageConflict(None)  # made before, then deleted: a new request needs a new key


def image_create(*, owner: Actor, meta: ImageMeta, data: bytes | BinaryIO, original_filename: str = "",
                 on_duplicate: str = "keep", image_id: str | None = None) -> ImageRecord:
    """Register an image: verify the bytes (or the file, which stays open until this returns),
    store them, then write record, terms and history at once. With `image_id` (see
    request_image_id), a request tried again after it created the image answers that image."""
    prepared = prepare(data)
    image_id = image_id or uuid.uuid4().hex
    claim = refuse_duplicate(prepared, on_duplicate, image_id, owner)
    created = now()
    record = ImageRecord(
        id=image_id, state=READY, listed=LISTED, created_key=f"{created.isoformat()}#{image_id}",
        created_at=created, updated_at=created, creator=owner.username, owner_sub=owner.sub,
        storage_date=created.date().isoformat(),
    )
    apply_meta(record, meta)
    apply_file(record, prepared, original_filename)
    _put_file(record, prepared)
    token = new_token()
    entry = history.entry(image_id=image_id, version=1, actor=owner, action="create",
                          changes=history.diff({}, history.snapshot(record)), at=created, token=token,
                          title=record.title)

    def build(tx):
        # attribute_not_exists: a fresh uuid4 never collides, and if it did nothing is overwritten.
        tx.save(record, condition=ImageRecord.id.does_not_exist())
        tx.save(entry, condition=type(entry).image_id.does_not_exist())
        for term in postings_of(record):
            tx.save(posting(term, record))
        _save_claim(tx, claim, created)

    try:
        commit(build, image_id=image_id, version=1, token=token,
               on_condition=lambda: (claim and claim.lost_to(owner)) or _created_before(image_id, owner))
    except _AlreadyCreated as exc:
        discard_objects(record.object_key, record.thumbnail_key)
        return exc.current
    except BaseException as exc:
        if not isinstance(exc, Unsettled):
            discard_objects(record.object_key, record.thumbnail_key)
        raise
    record.version = 1
    apply_facet_changes(facet_changes({}, facets_of(record)))
    return record


def merge_changes(record: ImageRecord, changes: Mapping[str, Any]) -> ImageMeta:
    """The record's metadata with the fields in `changes` replaced (fields left out keep theirs)."""
    current = {
        "title": record.title, "description": record.description, "keywords": list(record.keywords),
        "author": record.author, "capture_date": record.capture_date,
    }
    return validate_meta(**{**current, **{f: changes[f] for f in META_FIELDS if f in changes}})


def image_edit(*, actor: Actor, image_id: str, changes: Mapping[str, Any], expected_version: int | None = None,
               data: bytes | BinaryIO | None = None, original_filename: str | None = None,
               action: str | None = None, on_duplicate: str = "keep") -> ImageRecord:
    """Change some metadata fields and/or the file of an image, as ONE new version.

    The fields are merged onto the record read here, and the write is conditional on that
    version: a change saved by someone else in between is a conflict, never silently undone.
    `expected_version`, when given, is the version the caller showed its user.
    """
    record = load(image_id)
    if not can_change(actor, record):
        raise PermissionDenied("Only the image's owner or staff may change it.")
    if expected_version is not None and int(expected_version) != record.version:
        raise ImageConflict(record)
    meta = merge_changes(record, changes)
    prepared = prepare(data) if data is not None else None
    if prepared is not None and prepared.sha256 == record.sha256:
        prepared = None  # the same bytes again: nothing to store
    claim = refuse_duplicate(prepared, on_duplicate, record.id, actor) if prepared is not None else None
    return _save(actor, record, meta, prepared, original_filename, action, claim)


def image_update(*, actor: Actor, image_id: str, meta: ImageMeta, expected_version: int | None = None,
                 data: bytes | None = None, original_filename: str | None = None,
                 on_duplicate: str = "keep") -> ImageRecord:
    """Set all the metadata (a validated ImageMeta) and, with `data`, the file: one new version."""
    fields = {"title": meta.title, "description": meta.description, "keywords": list(meta.keywords),
              "author": meta.author, "capture_date": meta.capture_date}
    return image_edit(actor=actor, image_id=image_id, changes=fields, expected_version=expected_version,
                      data=data, original_filename=original_filename, on_duplicate=on_duplicate)


def image_bulk_change(*, actor: Actor, image_id: str, action: str, value: Any,
                      expected_version: int | None = None) -> ImageRecord:
    """One bulk action (set_author, add_keywords, remove_keywords) on one image: one version."""
    if action not in BULK_ACTIONS:
        raise InvalidField("action", f"Bulk actions are: {', '.join(BULK_ACTIONS)}.")
    record = load(image_id)
    if action == "set_author":
        changes: dict[str, Any] = {"author": value}
    else:
        given = parse_keywords(value)
        if action == "add_keywords":
            keywords = [*record.keywords, *given]
        else:
            drop = {k.lower() for k in given}
            keywords = [k for k in record.keywords if k.lower() not in drop]
        changes = {"keywords": keywords}
    return image_edit(actor=actor, image_id=image_id, changes=changes, expected_version=expected_version,
                      action=action)


def _save(actor: Actor, record: ImageRecord, meta: ImageMeta, prepared: media.PreparedImage | None,
          original_filename: str | None, action: str | None, claim: duplicates.Claim | None = None) -> ImageRecord:
    before = history.snapshot(record)
    old_terms, old_facets = postings_of(record), facets_of(record)
    old_keys = [record.object_key, record.thumbnail_key]
    apply_meta(record, meta)
    if prepared is not None:
        apply_file(record, prepared, original_filename if original_filename is not None else record.original_filename)
    changes = history.diff(before, history.snapshot(record))
    if not changes:
        return record  # nothing changed: no new version
    if prepared is not None:
        _put_file(record, prepared)
    record.updated_at = now()
    version = record.version + 1
    token = new_token()
    action = action or ("replace" if prepared is not None else "edit")
    entry = history.entry(image_id=record.id, version=version, actor=actor, action=action, changes=changes,
                          at=record.updated_at, token=token, title=record.title)
    new_terms = postings_of(record)
    stale = cleanup.cleanup_item(record.id, token, old_keys) if prepared is not None else None

    def build(tx):
        tx.save(record, condition=ImageRecord.state == READY)  # PynamoDB adds the version condition
        tx.save(entry, condition=type(entry).image_id.does_not_exist())
        for term in old_terms - new_terms:
            tx.delete(posting(term, record))
        for term in new_terms - old_terms:
            tx.save(posting(term, record))
        if stale is not None:
            tx.save(stale)
        _save_claim(tx, claim, record.updated_at)

    try:
        commit(build, image_id=record.id, version=version, token=token,
               on_condition=lambda: (claim and claim.lost_to(actor)) or conflict_of(record.id))
    except BaseException as exc:
        if prepared is not None and not isinstance(exc, Unsettled):
            discard_objects(record.object_key, record.thumbnail_key)
        raise
    record.version = version
    apply_facet_changes(facet_changes(old_facets, facets_of(record)))
    if stale is not None:
        cleanup.finish(stale)
    return record
