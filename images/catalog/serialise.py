"""The API's image object. Django-free."""

from __future__ import annotations

from images import objects
from images.media import renditions
from images.records import ImageRecord


def rendition_urls(object_key: str, width: int) -> list[dict]:
    """The version's renditions (made on first request, then stored for good), narrowest first,
    each format best first: avif, webp, then the fallback (jpg, or png for what may be transparent).
    Empty for a version that is not public (a trashed image's objects live under trash/)."""
    if not object_key.startswith("images/"):
        return []
    extension = object_key.rsplit(".", 1)[-1]
    return [
        {"url": objects.public_url(renditions.rendition_key(object_key, w, fmt)), "width": w,
         "format": fmt, "content_type": renditions.FORMATS[fmt][1]}
        for w in renditions.widths_for(width) for fmt in renditions.formats_for(extension)
    ]


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
        "original_filename": record.original_filename or record.filename,
        "object_url": objects.public_url(record.object_key),
        "thumbnail_url": objects.public_url(record.thumbnail_key),
        "renditions": rendition_urls(record.object_key, int(record.width)),
        "content_type": record.content_type,
        "byte_size": int(record.byte_size),
        "sha256": record.sha256,
        "width": int(record.width),
        "height": int(record.height),
        "version": record.version,
        "created_at": record.created_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
    }


def trashed_to_dict(record: ImageRecord) -> dict:
    """A trashed image as GET /images/trash shows it: the image object, no public URL (nothing
    serves it while it is in the trash), plus who deleted it and when."""
    return {**image_to_dict(record), "object_url": None, "thumbnail_url": None, "renditions": [],
            "deleted_at": record.deleted_at.isoformat() if record.deleted_at else None,
            "deleted_by": record.deleted_by}
