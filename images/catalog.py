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
one wins and the other gets Conflict.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import itertools
import json
import logging
import re
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timezone

from botocore.exceptions import ClientError
from pynamodb.connection import Connection
from pynamodb.exceptions import DeleteError, DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from common.config import get_config
from common.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from images import media, objects
from images.records import LISTED, READY, ImageRecord, ImageTerm

log = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
MAX_KEYWORDS = 20
MAX_TITLE_WORDS = 20
LIMITS = {"title": 200, "description": 4000, "author": 200, "keyword": 50, "filename": 255}
SEARCH_KEYS = ("id", "title", "creator", "author", "keywords", "creationdate", "capture_date", "storage_date")
_DATE_PREFIX = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_ID = re.compile(r"^[0-9a-f]{32}$")
_WORD = re.compile(r"\w+")
ORDERS = ("newest", "oldest")
FACET_FIELDS = ("author", "creator", "keyword", "captured")
FACET_PREFIX = "facet:"


@dataclass(frozen=True)
class Actor:
    """Who acts: from a verified token or the portal's session, never from a request body."""

    sub: str
    username: str
    is_staff: bool = False


@dataclass(frozen=True)
class ImageMeta:
    """Validated metadata of an image."""

    title: str
    description: str
    keywords: tuple[str, ...]
    author: str
    capture_date: str | None


@dataclass(frozen=True)
class Page:
    """One page of images and the cursor of the next (None on the last page)."""

    items: list[ImageRecord]
    next_cursor: str | None


class InvalidField(InvalidInput):
    """A metadata field is missing or wrong; `field` names it for forms."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class ImageConflict(Conflict):
    """Someone else saved first; `current` is their version of the image."""

    def __init__(self, current: ImageRecord | None):
        super().__init__("Someone else changed this image after you opened it. Their version is shown; "
                         "apply your changes again if they still make sense.")
        self.current = current


# ---------------------------------------------------------------- validation


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
        if len(text) == 10:
            return date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    raise InvalidField(field, "Give the date as YYYY-MM-DD, for example 2024-05-17.")


def validate_meta(*, title, description, keywords, author, capture_date) -> ImageMeta:
    """Check and normalise metadata from either face."""
    title = _text("title", title, required=True)
    if len(_words(title)) > MAX_TITLE_WORDS:
        raise InvalidField("title", f"A title may have at most {MAX_TITLE_WORDS} words.")
    return ImageMeta(
        title=title,
        description=_text("description", description, required=False),
        keywords=parse_keywords(keywords),
        author=_text("author", author, required=True),
        capture_date=parse_date("capture_date", capture_date),
    )


# ---------------------------------------------------------------- search terms


def _words(text: str) -> list[str]:
    return list(dict.fromkeys(w.lower() for w in _WORD.findall(text)))


def normalise(value: str) -> str:
    """An author, creator or keyword as search and facets compare it: lower case, single spaces."""
    return " ".join(value.lower().split())


_exact = normalise


def _date_terms(field: str, value: str | None) -> list[str]:
    return [f"{field}:{value[:n]}" for n in (4, 7, 10)] if value else []


def terms_of(record: ImageRecord) -> set[str]:
    """Every search term the record is found by."""
    return {
        *(f"title:{w}" for w in _words(record.title)),
        *(f"keyword:{k.lower()}" for k in record.keywords),
        f"author:{_exact(record.author)}",
        f"creator:{_exact(record.creator)}",
        *_date_terms("captured", record.capture_date),
        *_date_terms("stored", record.storage_date),
    }


# ---------------------------------------------------------------- facet counts


def facets_of(record: ImageRecord) -> dict[tuple[str, str], str]:
    """Every (field, normalised value) the record is counted under, with its display form."""
    found = {
        ("author", _exact(record.author)): " ".join(record.author.split()),
        ("creator", _exact(record.creator)): record.creator,
    }
    for keyword in record.keywords:
        found.setdefault(("keyword", _exact(keyword)), keyword)
    if record.capture_date:
        for prefix in (record.capture_date[:4], record.capture_date[:7]):
            found[("captured", prefix)] = prefix
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


# ---------------------------------------------------------------- writes


def _now() -> datetime:
    return datetime.now(timezone.utc)


def can_change(actor: Actor, record: ImageRecord) -> bool:
    """Owners change their own images; staff change every image."""
    return actor.is_staff or actor.sub == record.owner_sub


def _prepare(data: bytes) -> media.PreparedImage:
    config = get_config()
    return media.prepare_image(data, max_bytes=config.image_max_bytes, max_pixels=config.image_max_pixels)


def _apply_meta(record: ImageRecord, meta: ImageMeta) -> None:
    record.title = meta.title
    record.description = meta.description
    record.keywords = list(meta.keywords)
    record.author = meta.author
    record.capture_date = meta.capture_date


def _apply_file(record: ImageRecord, prepared: media.PreparedImage, original_filename: str) -> None:
    record.filename = f"{record.id}.{prepared.extension}"
    record.original_filename = original_filename[: LIMITS["filename"]]
    record.content_type = prepared.content_type
    record.byte_size = prepared.byte_size
    record.width = prepared.width
    record.height = prepared.height
    record.sha256 = prepared.sha256


def _term(term: str, record: ImageRecord) -> ImageTerm:
    return ImageTerm(term, record.created_key, image_id=record.id)


def _connection() -> Connection:
    return ImageRecord._get_connection().connection


def image_create(*, owner: Actor, meta: ImageMeta, data: bytes, original_filename: str = "") -> ImageRecord:
    """Register an image: verify the bytes, store them, then write record and terms at once."""
    prepared = _prepare(data)
    now = _now()
    image_id = uuid.uuid4().hex
    record = ImageRecord(
        id=image_id,
        state=READY,
        listed=LISTED,
        created_key=f"{now.isoformat()}#{image_id}",
        created_at=now,
        updated_at=now,
        creator=owner.username,
        owner_sub=owner.sub,
        storage_date=now.date().isoformat(),
        object_key=objects.image_key(image_id),
        thumbnail_key=objects.thumbnail_key(image_id),
    )
    _apply_meta(record, meta)
    _apply_file(record, prepared, original_filename)
    objects.put_object(record.object_key, prepared.data, content_type=prepared.content_type, filename=record.filename)
    try:
        objects.put_object(record.thumbnail_key, prepared.thumbnail, content_type=prepared.thumbnail_content_type)
        with TransactWrite(connection=_connection()) as tx:
            # attribute_not_exists: a fresh uuid4 never collides, and if it did nothing is overwritten.
            tx.save(record, condition=ImageRecord.id.does_not_exist())
            for term in terms_of(record):
                tx.save(_term(term, record))
    except BaseException:
        objects.delete_objects(record.object_key, record.thumbnail_key)
        raise
    apply_facet_changes(facet_changes({}, facets_of(record)))
    return record


@dataclass(frozen=True)
class Upload:
    """A presigned POST form for one file: POST `fields` plus the file (last) to `url`."""

    key: str
    url: str
    fields: dict
    max_bytes: int
    expires_in: int


# uploads/<owner tag>/<token>: the tag is the first 16 hex digits of sha256(owner's sub).
_UPLOAD_KEY = re.compile(re.escape(objects.UPLOADS_PREFIX) + r"([0-9a-f]{16})/[0-9a-f]{32}")


def upload_owner_tag(sub: str) -> str:
    return hashlib.sha256(sub.encode()).hexdigest()[:16]


def upload_start(owner: Actor) -> Upload:
    """Let `owner` put a file straight into S3 (unverified, invisible) before registering it.

    Whose upload it is lives in the key itself: uploads/<sha256(owner's sub)[:16]>/<random
    token>. The presigned POST's policy pins that exact key, so nobody can put a file under
    another user's tag, and registering checks the tag against the caller's sub, so user B
    cannot register (or even probe for) user A's pending upload, whatever key B sends. No
    table and no extra write: the key is the whole state, and an abandoned upload is just an
    object that the uploads/ lifecycle rule (1 day) and the sweep remove.
    """
    key = objects.upload_key(upload_owner_tag(owner.sub), uuid.uuid4().hex)
    max_bytes = get_config().image_max_bytes
    form = objects.presigned_upload(key, max_bytes=max_bytes, expires_in=objects.UPLOAD_EXPIRES_IN)
    return Upload(key=key, url=form["url"], fields=form["fields"], max_bytes=max_bytes,
                  expires_in=objects.UPLOAD_EXPIRES_IN)


def _check_upload(owner: Actor, upload_key: str) -> None:
    match = _UPLOAD_KEY.fullmatch(upload_key) if isinstance(upload_key, str) else None
    if match is None:
        raise InvalidField("upload_key", "upload_key is not a key from POST /images/uploads.")
    if not hmac.compare_digest(match.group(1), upload_owner_tag(owner.sub)):
        raise PermissionDenied("That upload belongs to someone else.")


def _take_upload(owner: Actor, upload_key: str) -> bytes:
    """The bytes of the caller's pending upload (the caller deletes it once used)."""
    _check_upload(owner, upload_key)
    try:
        return objects.get_object(upload_key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            raise InvalidField("upload_key", "The upload was not found; it may have expired.") from exc
        raise


def image_create_from_upload(*, owner: Actor, meta: ImageMeta, upload_key: str, original_filename: str = "") -> ImageRecord:
    """Register a file that `owner` put under uploads/: verified here like any other bytes.
    The upload is deleted whatever the outcome (a refused file leaves nothing behind)."""
    data = _take_upload(owner, upload_key)
    try:
        return image_create(owner=owner, meta=meta, data=data, original_filename=original_filename)
    finally:
        objects.delete_objects(upload_key)


def image_update_from_upload(*, actor: Actor, image_id: str, meta: ImageMeta, upload_key: str,
                             expected_version: int | None = None, original_filename: str | None = None) -> ImageRecord:
    """image_update with the file `actor` put under uploads/; the upload is deleted afterwards."""
    _load(image_id)  # an unknown image is a 404 before the upload is looked at or consumed
    data = _take_upload(actor, upload_key)
    try:
        return image_update(actor=actor, image_id=image_id, meta=meta, expected_version=expected_version,
                            data=data, original_filename=original_filename)
    finally:
        objects.delete_objects(upload_key)


def _load(image_id: str) -> ImageRecord:
    if not isinstance(image_id, str) or not _ID.match(image_id):
        raise NotFound("No image has that id.")
    try:
        record = ImageRecord.get(image_id, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound("No image has that id.") from exc
    if record.state != READY:
        raise NotFound("No image has that id.")
    return record


def _current_or_none(image_id: str) -> ImageRecord | None:
    try:
        return _load(image_id)
    except NotFound:
        return None


def _check_version(record: ImageRecord, expected_version: int | None) -> None:
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
    record = _load(image_id)
    if not can_change(actor, record):
        raise PermissionDenied("Only the image's owner or staff may change it.")
    _check_version(record, expected_version)
    old_terms = terms_of(record)
    old_facets = facets_of(record)
    prepared = _prepare(data) if data is not None else None
    staged = None
    if prepared is not None:
        token = uuid.uuid4().hex
        staged = objects.staging_key(record.id, token)
        objects.put_object(staged, prepared.data, content_type=prepared.content_type)
        objects.put_object(staged + ".thumb", prepared.thumbnail, content_type=prepared.thumbnail_content_type)
        _apply_file(record, prepared, original_filename if original_filename is not None else record.original_filename)
        record.staged_key = staged
    _apply_meta(record, meta)
    record.updated_at = _now()
    new_terms = terms_of(record)
    try:
        with TransactWrite(connection=_connection()) as tx:
            tx.save(record, condition=ImageRecord.state == READY)  # the version condition is added by PynamoDB
            for term in old_terms - new_terms:
                tx.delete(_term(term, record))
            for term in new_terms - old_terms:
                tx.save(_term(term, record))
    except TransactWriteError as exc:
        if staged:
            objects.delete_objects(staged, staged + ".thumb")
        if exc.cause_response_code == "TransactionCanceledException":
            raise ImageConflict(_current_or_none(image_id)) from exc
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
    record = _load(image_id)
    if not can_change(actor, record):
        raise PermissionDenied("Only the image's owner or staff may delete it.")
    _check_version(record, expected_version)
    try:
        with TransactWrite(connection=_connection()) as tx:
            tx.delete(record)  # conditional on the version we read
            for term in terms_of(record):
                tx.delete(_term(term, record))
    except TransactWriteError as exc:
        if exc.cause_response_code == "TransactionCanceledException":
            current = _current_or_none(image_id)
            if current is None:
                raise NotFound("No image has that id.") from exc
            raise ImageConflict(current) from exc
        raise
    apply_facet_changes(facet_changes(facets_of(record), {}))
    objects.delete_objects(record.object_key, record.thumbnail_key, record.staged_key or "")


# ---------------------------------------------------------------- reads


def image_get(*, image_id: str) -> ImageRecord:
    """One listed image, or NotFound."""
    return _load(image_id)


def _encode_cursor(key: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None, expected: dict[str, str]) -> dict[str, str] | None:
    """The key a cursor holds, checked against the query (and order) it continues; InvalidInput if not."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidField("cursor", "The cursor is not valid.") from exc
    if isinstance(key, dict) and "order" not in key:
        key = {**key, "order": "newest"}  # cursors made before there was a choice of order
    if (
        not isinstance(key, dict)
        or set(key) != set(expected) | {"sort"}
        or not all(isinstance(v, str) for v in key.values())
        or any(key[k] != v for k, v in expected.items())
    ):
        raise InvalidField("cursor", "The cursor is not valid.")
    return key


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


def image_list(*, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None, order: str = "newest") -> Page:
    """Every image, newest (or oldest) first, a page at a time (reads only the page)."""
    order = parse_order(order)
    start = _decode_cursor(cursor, {"order": order})
    last_key = None
    if start:
        image_id = start["sort"].rsplit("#", 1)[-1]
        last_key = {"listed": {"S": LISTED}, "created_key": {"S": start["sort"]}, "id": {"S": image_id}}
    results = list(
        ImageRecord.by_created.query(
            LISTED, scan_index_forward=order == "oldest", limit=limit + 1, page_size=limit + 1,
            last_evaluated_key=last_key,
        )
    )
    items = results[:limit]
    more = len(results) > limit
    return Page(items, _encode_cursor({"order": order, "sort": items[-1].created_key}) if more and items else None)


def _batch_get(ids: list[str]) -> list[ImageRecord]:
    found = {r.id: r for r in ImageRecord.batch_get(ids)} if ids else {}
    return [found[i] for i in ids if i in found and found[i].state == READY]


def _query_term(term: str, limit: int, cursor: str | None, order: str, keep=lambda r: True) -> Page:
    """Images with a term, newest or oldest first; `keep` filters further (multi-word titles)."""
    start = _decode_cursor(cursor, {"term": term, "order": order})
    last_key = {"term": {"S": term}, "sort_key": {"S": start["sort"]}} if start else None
    postings = iter(ImageTerm.query(term, scan_index_forward=order == "oldest", page_size=limit + 1,
                                    last_evaluated_key=last_key))
    items: list[ImageRecord] = []
    # Read postings a page at a time and fetch their images in one batch, until one image
    # more than the page is found (then there is a next page) or the postings run out.
    while batch := list(itertools.islice(postings, limit + 1)):
        for record in _batch_get([p.image_id for p in batch]):
            if not keep(record):
                continue
            if len(items) == limit:
                cursor_key = {"term": term, "order": order, "sort": items[-1].created_key}
                return Page(items, _encode_cursor(cursor_key))
            items.append(record)
    return Page(items, None)


def image_search(*, key: str, value: str, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None,
                 order: str = "newest") -> Page:
    """Images matching a seed search key, newest (or oldest) first, reading only the matches."""
    order = parse_order(order)
    value = (value or "").strip()
    if key not in SEARCH_KEYS:
        raise InvalidField("key", f"Search by one of: {', '.join(SEARCH_KEYS)}.")
    if not value:
        raise InvalidField("value", "Give a value to search for.")
    if key == "id":
        record = _current_or_none(value.lower())
        return Page([record] if record else [], None)
    if key == "title":
        words = _words(value)
        if not words:
            raise InvalidField("value", "Give at least one word of the title.")
        wanted = set(words)
        return _query_term(f"title:{words[0]}", limit, cursor, order, lambda r: wanted <= set(_words(r.title)))
    if key == "keywords":
        return _query_term(f"keyword:{_exact(value)}", limit, cursor, order)
    if key in ("author", "creator"):
        return _query_term(f"{key}:{_exact(value)}", limit, cursor, order)
    if not _DATE_PREFIX.match(value):
        raise InvalidField("value", "Give a date as YYYY, YYYY-MM or YYYY-MM-DD.")
    field = "stored" if key == "storage_date" else "captured"
    return _query_term(f"{field}:{value}", limit, cursor, order)


def image_to_dict(record: ImageRecord) -> dict:
    """The API's image object: the seed's fields plus what the system knows."""
    return {
        "id": record.id,
        "title": record.title,
        "description": record.description,
        "keywords": ",".join(record.keywords),
        "author": record.author,
        "creator": record.creator,
        "capture_date": record.capture_date or "",
        "storage_date": record.storage_date,
        "filename": record.filename,
        "object_url": objects.public_url(record.object_key),
        "thumbnail_url": objects.public_url(record.thumbnail_key),
        "content_type": record.content_type,
        "byte_size": int(record.byte_size),
        "width": int(record.width),
        "height": int(record.height),
        "version": record.version,
        "created_at": record.created_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
    }
