"""Decode and verify uploaded image bytes, strip location data, make thumbnails, read metadata.

Django-free: the Lambda package imports it. Modules: base (errors, formats, raw EXIF/XMP),
verify (prepare_image), location/ (one module per container format), metadata (read_metadata).
"""

from images.media.base import (
    ALLOWED_FORMATS,
    MAX_FRAMES,
    THUMBNAIL_SIZE,
    FileMetadata,
    ImageInvalid,
    ImageTooLarge,
    PreparedImage,
)
from images.media.metadata import METADATA_HEAD_BYTES, read_metadata
from images.media.verify import prepare_image

__all__ = [
    "ALLOWED_FORMATS",
    "MAX_FRAMES",
    "METADATA_HEAD_BYTES",
    "THUMBNAIL_SIZE",
    "FileMetadata",
    "ImageInvalid",
    "ImageTooLarge",
    "PreparedImage",
    "prepare_image",
    "read_metadata",
]
