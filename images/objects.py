"""The S3 side of the catalog: one key scheme, and put/delete/copy with boto3. Django-free."""

from __future__ import annotations

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
