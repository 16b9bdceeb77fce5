"""The S3 side of the catalog: one key scheme, put/get/delete with boto3, and the CDN
invalidation that makes a delete or a replacement take effect at once. Django-free.

Key scheme: every file version has its own key, never overwritten, named by the image and a
random token made for that version: images/<id>/<token>.<ext> and thumbnails/<id>/<token>.jpg.
So an object can be served `immutable` (caches never hold a stale picture: a new file is a new
URL); the record keeps the file's sha256 beside its key.
"""

from __future__ import annotations

import functools
import tempfile
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import BinaryIO

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from common.config import Config, get_config

IMAGES_PREFIX = "images/"
THUMBNAILS_PREFIX = "thumbnails/"
UPLOADS_PREFIX = "uploads/"
# Renditions of a version (images/media/renditions.py), made on first request.
RENDITIONS_PREFIX = "renditions/"
# Objects of images in the trash: private (neither the CDN nor the bucket policy serves them).
TRASH_PREFIX = "trash/"
# Prefixes anyone may GET by URL (through the CDN in production, the bucket policy locally).
PUBLIC_PREFIXES = (IMAGES_PREFIX, THUMBNAILS_PREFIX, RENDITIONS_PREFIX)


def image_key(image_id: str, token: str, extension: str) -> str:
    """The key of one version of an image's file."""
    return f"{IMAGES_PREFIX}{image_id}/{token}.{extension}"


def thumbnail_key(image_id: str, token: str) -> str:
    """The key of the thumbnail of one version of an image's file (named by the same token)."""
    return f"{THUMBNAILS_PREFIX}{image_id}/{token}.jpg"


def trash_key(key: str, token: str) -> str:
    """Where a public object of an image waits in the trash: trash/<token>/<its public key>, the
    token being the delete's own, so two deletes at once never write (or discard) the same copy."""
    return f"{TRASH_PREFIX}{token}/{key}"


def public_key_of(key: str) -> str:
    """The public key an object had before the trash (trash/<token>/<key> -> <key>); others as they are."""
    return key.split("/", 2)[2] if key.startswith(TRASH_PREFIX) and key.count("/") >= 2 else key


# A key never gets other bytes, so caches need never revalidate (immutable). But a deleted or
# replaced file must stop being served: the CDN keeps it for long (s-maxage, honoured by the
# Managed-CachingOptimized policy up to its 1-year maximum) and the invalidation after a delete
# cuts that short; browsers, which no invalidation reaches, keep it at most a day (max-age).
CACHE_CONTROL = "public, max-age=86400, s-maxage=31536000, immutable"
# Throttling (SlowDown, 503) and dropped connections are retried with backoff before a call fails.
RETRIES = {"mode": "standard", "max_attempts": 5}


@functools.cache
def _client(config: Config):
    # SigV4 everywhere, presigned POSTs included (boto3 would sign those with SigV2, which
    # buckets created since June 2020 refuse).
    return boto3.client("s3", region_name=config.aws_region,
                        config=BotoConfig(signature_version="s3v4", retries=RETRIES))


@functools.cache
def _cloudfront(config: Config):
    return boto3.client("cloudfront", region_name="us-east-1", config=BotoConfig(retries=RETRIES))


def s3():
    """The S3 client for the current configuration."""
    return _client(get_config())


def public_url(key: str) -> str:
    """The URL anyone can GET the object at (the CDN in production)."""
    return f"{get_config().images_base_url}/{key}"


def put_object(key: str, data: bytes | BinaryIO, *, content_type: str, filename: str | None = None) -> None:
    """Store bytes, or a seekable file streamed from its start, with the Content-Type of their
    decoded format, cacheable for good (botocore rewinds the file to retry)."""
    extra = {"ContentDisposition": f'inline; filename="{filename}"'} if filename else {}
    if not isinstance(data, bytes):
        data.seek(0)
    s3().put_object(
        Bucket=get_config().images_bucket, Key=key, Body=data, ContentType=content_type,
        CacheControl=CACHE_CONTROL, **extra,
    )


def copy_object(source: str, target: str) -> None:
    """Copy an object within the bucket (type, disposition and caching go with it)."""
    bucket = get_config().images_bucket
    s3().copy_object(Bucket=bucket, Key=target, CopySource={"Bucket": bucket, "Key": source},
                     MetadataDirective="COPY")


class DeleteFailed(Exception):
    """S3 answered a batch delete with per-key errors (it answers 200 even then)."""


def delete_objects(*keys: str) -> None:
    """Delete objects; missing ones are fine. Raises DeleteFailed when S3 kept any of them."""
    keys = tuple(dict.fromkeys(k for k in keys if k))
    if keys:
        answer = s3().delete_objects(
            Bucket=get_config().images_bucket,
            Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True},
        )
        if answer.get("Errors"):
            failed = ", ".join(f"{e.get('Key')}: {e.get('Code')}" for e in answer["Errors"])
            raise DeleteFailed(f"S3 did not delete {failed}")


def invalidate(*keys: str) -> str | None:
    """Ask the CDN to forget the objects' cached copies; the invalidation id, or None without a CDN.

    Called after the objects are gone from the bucket, so a request after the invalidation
    reaches the bucket and gets 404. Retried by botocore; a failure raises (callers report it).
    """
    config = get_config()
    # Only the public prefixes are ever cached by the CDN (trash/ and uploads/ are never served).
    paths = [f"/{k}" for k in dict.fromkeys(k for k in keys if k and k.startswith(PUBLIC_PREFIXES))]
    if not config.cloudfront_distribution_id or not paths:
        return None
    answer = _cloudfront(config).create_invalidation(
        DistributionId=config.cloudfront_distribution_id,
        InvalidationBatch={"Paths": {"Quantity": len(paths), "Items": paths},
                           "CallerReference": uuid.uuid4().hex},
    )
    return answer["Invalidation"]["Id"]


def get_object(key: str) -> bytes:
    """The bytes of an object."""
    return s3().get_object(Bucket=get_config().images_bucket, Key=key)["Body"].read()


def get_object_head(key: str, size: int) -> bytes:
    """At most the first `size` bytes of an object (one ranged GET); b"" for an empty one."""
    try:
        body = s3().get_object(Bucket=get_config().images_bucket, Key=key, Range=f"bytes=0-{size - 1}")["Body"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "InvalidRange":  # S3's answer for an empty object
            return b""
        raise
    return body.read()


# Read from S3 and written to disk a chunk at a time, so memory never holds the object.
SPOOL_CHUNK = 1 << 20


def spool_object(key: str) -> BinaryIO:
    """The object in an anonymous temporary file, at offset 0; the caller closes it (which frees
    the disk). One GetObject, streamed: memory holds one chunk at a time."""
    body = s3().get_object(Bucket=get_config().images_bucket, Key=key)["Body"]
    spool = tempfile.TemporaryFile()
    try:
        with body:
            for chunk in body.iter_chunks(SPOOL_CHUNK):
                spool.write(chunk)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return spool


def exists(key: str) -> bool:
    try:
        s3().head_object(Bucket=get_config().images_bucket, Key=key)
        return True
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise


def list_objects(prefix: str) -> Iterator[tuple[str, datetime]]:
    """(key, last modified) of every object under a prefix."""
    paginator = s3().get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=get_config().images_bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            yield item["Key"], item["LastModified"]


def upload_key(owner_tag: str, token: str) -> str:
    """uploads/<owner tag>/<token>: see images.catalog.upload_start for the tag."""
    return f"{UPLOADS_PREFIX}{owner_tag}/{token}"


# How long a presigned upload form stays valid (the sweep's grace period must exceed it).
UPLOAD_EXPIRES_IN = 900


def presigned_upload(key: str, *, max_bytes: int, expires_in: int = UPLOAD_EXPIRES_IN) -> dict:
    """A presigned POST that lets a browser put at most `max_bytes` at `key`, straight to S3."""
    return s3().generate_presigned_post(
        Bucket=get_config().images_bucket, Key=key,
        Conditions=[["content-length-range", 1, max_bytes]], ExpiresIn=expires_in,
    )
