"""The S3 side of the catalog: one key scheme, and put/delete/copy with boto3. Django-free."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import datetime

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from common.config import Config, get_config

IMAGES_PREFIX = "images/"
THUMBNAILS_PREFIX = "thumbnails/"
UPLOADS_PREFIX = "uploads/"
STAGING_PREFIX = "staging/"
# Prefixes anyone may GET by URL (through the CDN in production, the bucket policy locally).
PUBLIC_PREFIXES = (IMAGES_PREFIX, THUMBNAILS_PREFIX)


def image_key(image_id: str) -> str:
    return f"{IMAGES_PREFIX}{image_id}"


def thumbnail_key(image_id: str) -> str:
    return f"{THUMBNAILS_PREFIX}{image_id}.jpg"


# Replaced files keep their URL, so caches may hold the old bytes only briefly.
CACHE_CONTROL = "public, max-age=300"


@functools.cache
def _client(config: Config):
    # SigV4 everywhere, presigned POSTs included (boto3 would sign those with SigV2, which
    # buckets created since June 2020 refuse).
    return boto3.client("s3", region_name=config.aws_region, config=BotoConfig(signature_version="s3v4"))


def s3():
    """The S3 client for the current configuration."""
    return _client(get_config())


def staging_key(image_id: str, token: str, suffix: str = "") -> str:
    return f"{STAGING_PREFIX}{image_id}/{token}{suffix}"


def public_url(key: str) -> str:
    """The URL anyone can GET the object at (the CDN in production)."""
    return f"{get_config().images_base_url}/{key}"


def put_object(key: str, data: bytes, *, content_type: str, filename: str | None = None) -> None:
    """Store bytes with the Content-Type of their decoded format."""
    extra = {"ContentDisposition": f'inline; filename="{filename}"'} if filename else {}
    s3().put_object(
        Bucket=get_config().images_bucket, Key=key, Body=data, ContentType=content_type,
        CacheControl=CACHE_CONTROL, **extra,
    )


def copy_object(source_key: str, key: str) -> None:
    """Copy an object (with its Content-Type and headers) inside the bucket."""
    bucket = get_config().images_bucket
    s3().copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": source_key})


def delete_objects(*keys: str) -> None:
    """Delete objects; missing ones are fine."""
    keys = tuple(k for k in keys if k)
    if keys:
        s3().delete_objects(
            Bucket=get_config().images_bucket,
            Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True},
        )


def get_object(key: str) -> bytes:
    """The bytes of an object."""
    return s3().get_object(Bucket=get_config().images_bucket, Key=key)["Body"].read()


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
