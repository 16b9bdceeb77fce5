"""The render function: answer GET /renditions/... with the stored rendition, or make it from the
version's original, store it, and answer it. A Lambda behind a function URL (CloudFront's
fallback origin when the bucket has no such object); locally the emulator calls serve() in
process. Django-free.

Burst control: a key is rendered at most once at a time per process (a lock per key; the
emulator serves requests in threads), a request first looks for the stored object (so every
request after the first store is a stored hit), and the store is a conditional put
(If-None-Match: *): when several instances render at once (in AWS, CloudFront collapses
simultaneous requests for one URL per cache, and the function's reserved concurrency caps the
rest), the first store wins, the others answer their own identical-size render and store nothing.

A render racing a delete: the cleanup deletes a version's files before its renditions, and a
render looks for its original again after storing; finding it gone, it deletes what it stored and
answers 404. So whichever runs last, no rendition outlives its file.
"""

from __future__ import annotations

import base64
import logging
import tempfile
import threading
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from images.media import ImageInvalid
from images.media.renditions import NotOffered, parse_key, render
from images.objects import CACHE_CONTROL

log = logging.getLogger(__name__)
# The original is spooled to memory up to this size, then to a temporary file (/tmp in Lambda).
_SPOOL_BYTES = 16 << 20
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


@dataclass
class Answer:
    """An HTTP answer: status, headers, body."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    rendered: bool = False  # made by this request (not a stored hit)


def _text(status: int, message: str) -> Answer:
    # Errors are not cached for long: a version may be written just after a 404.
    return Answer(status, message.encode(), {"Content-Type": "text/plain; charset=utf-8",
                                             "Cache-Control": "no-store"})


def _lock(key: str) -> threading.Lock:
    with _locks_guard:
        if len(_locks) > 1000:  # forget idle ones now and then
            for name in [k for k, lock in _locks.items() if not lock.locked()]:
                del _locks[name]
        return _locks.setdefault(key, threading.Lock())


def _stored(s3, bucket: str, key: str) -> Answer | None:
    try:
        got = s3.get_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "AccessDenied", "403"):
            return None
        raise
    return Answer(200, got["Body"].read(), {"Content-Type": got["ContentType"], "Cache-Control": CACHE_CONTROL})


def serve(s3, bucket: str, key: str, *, max_pixels: int) -> Answer:
    """Answer the rendition at `key` (no leading slash): stored, made now, or refused (4xx)."""
    try:
        wanted = parse_key(key)
    except NotOffered as exc:
        return _text(404, f"Not a rendition: {exc}.")
    with _lock(key):
        hit = _stored(s3, bucket, key)
        if hit:
            return hit
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES) as original:
            try:
                s3.download_fileobj(bucket, wanted.original_key, original)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "AccessDenied", "403"):
                    return _text(404, "No such image version.")
                raise
            try:
                body = _render(original, wanted, max_pixels)
            except NotOffered as exc:
                return _text(404, f"Not a rendition: {exc}.")
            except ImageInvalid as exc:
                log.warning("render of %s refused: %s", key, exc)
                return _text(422, f"The original cannot be rendered: {exc}")
        _store(s3, bucket, key, body, wanted.content_type)
        if not _exists(s3, bucket, wanted.original_key):
            # The version was trashed or replaced while this rendered, and its cleanup may have
            # deleted the renditions before this store: take it back, as the cleanup would have.
            s3.delete_object(Bucket=bucket, Key=key)
            return _text(404, "No such image version.")
    return Answer(200, body, {"Content-Type": wanted.content_type, "Cache-Control": CACHE_CONTROL}, rendered=True)


def _exists(s3, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound", "AccessDenied", "403"):
            return False
        raise
    return True


def _render(original, wanted, max_pixels: int) -> bytes:
    """Draw the spooled original as the wanted rendition."""
    original.seek(0)
    return render(original, wanted.width, wanted.format, max_pixels=max_pixels)


def _store(s3, bucket: str, key: str, body: bytes, content_type: str) -> None:
    """Store unless another render stored it first (then theirs stays: the same picture)."""
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type,
                      CacheControl=CACHE_CONTROL, IfNoneMatch="*")
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("PreconditionFailed", "ConditionalRequestConflict"):
            raise


def lambda_handler(event, context):
    """A Lambda function URL request (payload 2.0) for /renditions/... -> its answer, base64."""
    from common.config import get_config
    from images.objects import s3

    method = event.get("requestContext", {}).get("http", {}).get("method", "GET")
    if method not in ("GET", "HEAD"):
        answer = _text(405, "Only GET and HEAD.")
    else:
        config = get_config()
        answer = serve(s3(), config.images_bucket, event.get("rawPath", "").lstrip("/"),
                       max_pixels=config.image_max_pixels)
    headers = {**answer.headers, "X-Content-Type-Options": "nosniff"}
    body = b"" if method == "HEAD" else answer.body
    return {"statusCode": answer.status, "headers": headers, "isBase64Encoded": True,
            "body": base64.b64encode(body).decode("ascii")}
