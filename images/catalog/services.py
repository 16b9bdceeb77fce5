"""The image catalog: writes (services) and reads (selectors) shared by the portal and the
API, so an image made by one face is indistinguishable from one made by the other.
Django-free.

Write order, so no failure shows a half-made image:
- create: bytes go to S3 under the image's fresh id first (invisible: no record points at
  them), then ONE DynamoDB transaction writes the record and its search terms. A crash in
  between leaves only unreferenced objects, which `manage.py sweep_images` removes.
- replace the file: the new bytes wait under staging/, the record (with `staged_key`) and
  terms change in one conditional transaction, then the staged bytes are copied into place
  and `staged_key` cleared. The sweep finishes any copy a crash interrupted.
- delete: record and terms go in one transaction, then the objects; leftovers are swept.
Facet counts (how many images have each author, creator, keyword, capture year / month)
are changed with atomic ADDs after the transaction commits, never inside it: inside, two
concurrent creates with the same author would cancel each other's transaction. A crash in
between leaves a count off by one; the sweep recounts.
Every change of an existing record is conditional on its version: of two concurrent edits
one wins and the other gets Conflict."""

from __future__ import annotations

import logging
import uuid

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from common.config import get_config
from common.errors import NotFound, PermissionDenied
from images import media, objects
from images.catalog.base import ID, Actor, ImageConflict, ImageMeta, can_change, now
from images.catalog.facets import apply_facet_changes, facet_changes, facets_of
from images.catalog.terms import terms_of
from images.filenames import clean_filename
from images.records import LISTED, READY, ImageRecord, ImageTerm

log = logging.getLogger(__name__)


def prepare(data: bytes) -> media.PreparedImage:
    config = get_config()
    return media.prepare_image(data, max_bytes=config.image_max_bytes, max_pixels=config.image_max_pixels)


def apply_meta(record: ImageRecord, meta: ImageMeta) -> None:
    record.title = meta.title
    record.description = meta.description
    record.keywords = list(meta.keywords)
    record.author = meta.author
    record.capture_date = meta.capture_date


def apply_file(record: ImageRecord, prepared: media.PreparedImage, original_filename: str) -> None:
    record.filename = f"{record.id}.{prepared.extension}"
    record.original_filename = clean_filename(original_filename, fallback=record.filename)
    record.content_type = prepared.content_type
    record.byte_size = prepared.byte_size
    record.width = prepared.width
    record.height = prepared.height
    record.sha256 = prepared.sha256


def posting(term: str, record: ImageRecord) -> ImageTerm:
    return ImageTerm(term, record.created_key, image_id=record.id)


def connection() -> Connection:
    return ImageRecord._get_connection().connection


def image_create(*, owner: Actor, meta: ImageMeta, data: bytes, original_filename: str = "") -> ImageRecord:
    """Register an image: verify the bytes, store them, then write record and terms at once."""
    prepared = prepare(data)
    created = now()
    image_id = uuid.uuid4().hex
    record = ImageRecord(
        id=image_id,
        state=READY,
        listed=LISTED,
        created_key=f"{created.isoformat()}#{image_id}",
        created_at=created,
        updated_at=created,
        creator=owner.username,
        owner_sub=owner.sub,
        storage_date=created.date().isoformat(),
        object_key=objects.image_key(image_id),
        thumbnail_key=objects.thumbnail_key(image_id),
    )
    apply_meta(record, meta)
    apply_file(record, prepared, original_filename)
    objects.put_object(record.object_key, prepared.data, content_type=prepared.content_type, filename=record.filename)
    try:
        objects.put_object(record.thumbnail_key, prepared.thumbnail, content_type=prepared.thumbnail_content_type)
        with TransactWrite(connection=connection()) as tx:
            # attribute_not_exists: a fresh uuid4 never collides, and if it did nothing is overwritten.
            tx.save(record, condition=ImageRecord.id.does_not_exist())
            for term in terms_of(record):
                tx.save(posting(term, record))
    except BaseException:
        objects.delete_objects(record.object_key, record.thumbnail_key)
        raise
    apply_facet_changes(facet_changes({}, facets_of(record)))
    return record


def load(image_id: str) -> ImageRecord:
    if not isinstance(image_id, str) or not ID.match(image_id):
        raise NotFound("No image has that id.")
    try:
        record = ImageRecord.get(image_id, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound("No image has that id.") from exc
    if record.state != READY:
        raise NotFound("No image has that id.")
    return record


def current_or_none(image_id: str) -> ImageRecord | None:
    try:
        return load(image_id)
    except NotFound:
        return None


def check_version(record: ImageRecord, expected_version: int | None) -> None:
    if expected_version is not None and int(expected_version) != record.version:
        raise ImageConflict(record)


def image_update(
    *,
    actor: Actor,
    image_id: str,
    meta: ImageMeta,
    expected_version: int | None = None,
    data: bytes | None = None,
    original_filename: str | None = None,
) -> ImageRecord:
    """Change an image's metadata and, with `data`, its file (same id and URL)."""
    record = load(image_id)
    if not can_change(actor, record):
        raise PermissionDenied("Only the image's owner or staff may change it.")
    check_version(record, expected_version)
    old_terms = terms_of(record)
    old_facets = facets_of(record)
    prepared = prepare(data) if data is not None else None
    staged = None
    if prepared is not None:
        token = uuid.uuid4().hex
        staged = objects.staging_key(record.id, token)
        objects.put_object(staged, prepared.data, content_type=prepared.content_type)
        objects.put_object(staged + ".thumb", prepared.thumbnail, content_type=prepared.thumbnail_content_type)
        apply_file(record, prepared, original_filename if original_filename is not None else record.original_filename)
        record.staged_key = staged
    apply_meta(record, meta)
    record.updated_at = now()
    new_terms = terms_of(record)
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.save(record, condition=ImageRecord.state == READY)  # the version condition is added by PynamoDB
            for term in old_terms - new_terms:
                tx.delete(posting(term, record))
            for term in new_terms - old_terms:
                tx.save(posting(term, record))
    except TransactWriteError as exc:
        if staged:
            objects.delete_objects(staged, staged + ".thumb")
        if exc.cause_response_code == "TransactionCanceledException":
            raise ImageConflict(current_or_none(image_id)) from exc
        raise
    except BaseException:
        if staged:
            objects.delete_objects(staged, staged + ".thumb")
        raise
    apply_facet_changes(facet_changes(old_facets, facets_of(record)))
    if staged:
        finish_replacement(record)
    return record


def finish_replacement(record: ImageRecord) -> None:
    """Copy a staged file into place and clear `staged_key` (also the sweep's repair)."""
    staged = record.staged_key
    if not staged:
        return
    objects.copy_object(staged, record.object_key)
    objects.copy_object(staged + ".thumb", record.thumbnail_key)
    try:
        # Not a versioned edit: only clear the marker if it is still ours.
        record.update(
            actions=[ImageRecord.staged_key.remove()],
            condition=ImageRecord.staged_key == staged,
            add_version_condition=False,
        )
    except Exception:  # someone else already finished or replaced again; the sweep re-checks
        pass
    objects.delete_objects(staged, staged + ".thumb")
    record.staged_key = None


def image_delete(*, actor: Actor, image_id: str, expected_version: int | None = None) -> None:
    """Remove an image: record and terms at once, then its objects."""
    record = load(image_id)
    if not can_change(actor, record):
        raise PermissionDenied("Only the image's owner or staff may delete it.")
    check_version(record, expected_version)
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.delete(record)  # conditional on the version we read
            for term in terms_of(record):
                tx.delete(posting(term, record))
    except TransactWriteError as exc:
        if exc.cause_response_code == "TransactionCanceledException":
            current = current_or_none(image_id)
            if current is None:
                raise NotFound("No image has that id.") from exc
            raise ImageConflict(current) from exc
        raise
    apply_facet_changes(facet_changes(facets_of(record), {}))
    objects.delete_objects(record.object_key, record.thumbnail_key, record.staged_key or "")
