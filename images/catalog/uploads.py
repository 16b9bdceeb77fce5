"""Presigned uploads: a file put straight into S3 by its owner, then registered. Django-free."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import uuid
from dataclasses import dataclass
from typing import BinaryIO

from botocore.exceptions import BotoCoreError, ClientError

from common.config import get_config
from common.errors import AppError, PermissionDenied
from images import media, objects
from images.catalog.base import Actor, ImageMeta, InvalidField
from images.catalog.duplicates import DuplicateImage
from images.catalog.services import image_create, image_edit, load, request_image_id
from images.records import ImageRecord

log = logging.getLogger(__name__)


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


def _take_upload(owner: Actor, upload_key: str) -> BinaryIO:
    """The caller's pending upload in a temporary file, streamed from S3 so that memory never
    holds it (the caller closes the file, and deletes the upload once used)."""
    _check_upload(owner, upload_key)
    return _read_upload(upload_key, objects.spool_object)


def _read_upload(upload_key: str, read):
    """read(upload_key), a missing upload being the caller's error."""
    try:
        return read(upload_key)
    except ClientError as exc:
        # The roles that register uploads have no s3:ListBucket, so S3 answers a missing key
        # with 403 AccessDenied, not 404 (the key is the caller's own, checked by the caller).
        # A 403 is also what a role without s3:GetObject on uploads/ gets for every upload, so
        # it is logged as an error with S3's own words: an operator can tell a policy fault.
        error = exc.response.get("Error", {})
        code = error.get("Code")
        if code in ("403", "AccessDenied"):
            log.error("S3 refused reading upload %s (%s: %s): expired, or this role may not s3:GetObject "
                      "under uploads/", upload_key, code, error.get("Message", ""))
        if code in ("404", "NoSuchKey", "NotFound", "403", "AccessDenied"):
            raise InvalidField("upload_key", "The upload was not found; it may have expired.") from exc
        raise


def upload_metadata(owner: Actor, upload_key: str) -> media.FileMetadata:
    """What the caller's pending upload says about itself (EXIF/IPTC/XMP), from the head of the
    stored object: the portal prefills its form from it without the file passing through it."""
    _check_upload(owner, upload_key)
    head = _read_upload(upload_key, lambda key: objects.get_object_head(key, media.METADATA_HEAD_BYTES))
    return media.read_metadata(head)


def upload_discard(owner: Actor, upload_key: str) -> None:
    """Drop the caller's pending upload (e.g. the portal's "use the existing image")."""
    _check_upload(owner, upload_key)
    objects.delete_objects(upload_key)


def _consumed(upload_key: str, work, on_duplicate: str):
    """Run `work`; delete the upload when it succeeded or the file was refused (a 4xx), keep it
    after a transient failure so the client's retry finds it, and after a duplicate found with
    on_duplicate "ask" (the portal's question: use the existing image, or keep both), so that it
    can still be registered with "keep" (the uploads/ lifecycle rule and the sweep remove
    abandoned ones)."""
    try:
        result = work()
    except DuplicateImage:
        if on_duplicate != "ask":
            objects.delete_objects(upload_key)
        raise
    except AppError as exc:
        if exc.status < 500:
            objects.delete_objects(upload_key)
        raise
    try:
        objects.delete_objects(upload_key)
    except (ClientError, BotoCoreError, objects.DeleteFailed):
        # The change is in: answer it. The upload is unreferenced (lifecycle rule and sweep).
        log.warning("could not remove the consumed upload %s; the sweep will", upload_key, exc_info=True)
    return result


def image_create_from_upload(*, owner: Actor, meta: ImageMeta, upload_key: str, original_filename: str = "",
                             on_duplicate: str = "keep") -> ImageRecord:
    """Register a file that `owner` put under uploads/: verified here like any other bytes. The
    image's id comes from the upload_key, so one upload makes one image however often (and
    however concurrently) it is registered: the others answer that image."""
    with _take_upload(owner, upload_key) as data:
        return _consumed(upload_key, lambda: image_create(owner=owner, meta=meta, data=data,
                                                          original_filename=original_filename,
                                                          on_duplicate=on_duplicate,
                                                          image_id=request_image_id("upload", upload_key)),
                         on_duplicate)


def image_edit_from_upload(*, actor: Actor, image_id: str, changes: dict, upload_key: str,
                           expected_version: int | None = None, original_filename: str | None = None,
                           on_duplicate: str = "keep") -> ImageRecord:
    """image_edit with the file `actor` put under uploads/."""
    load(image_id)  # an unknown image is a 404 before the upload is looked at or consumed
    with _take_upload(actor, upload_key) as data:
        return _consumed(upload_key, lambda: image_edit(actor=actor, image_id=image_id, changes=changes,
                                                        expected_version=expected_version, data=data,
                                                        original_filename=original_filename,
                                                        on_duplicate=on_duplicate), on_duplicate)
