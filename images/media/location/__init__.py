"""Remove location data (EXIF GPS, GPS-bearing XMP) at the container level, so the pixels are
copied byte for byte: one module per format. Django-free."""

from __future__ import annotations

import struct

from images.media.base import (
    DAMAGED,
    ImageInvalid,
)
from images.media.location.gif import strip_gif
from images.media.location.jpeg import strip_jpeg
from images.media.location.png import strip_png
from images.media.location.webp import strip_webp


# Each container is rewritten at the chunk/segment level so the pixels are copied byte for byte:
# re-encoding a JPEG would lose quality and re-encoding a GIF could change its palette.
# XMP has no byte-safe editor here, so a packet that mentions GPS is dropped whole.


def strip_location(data: bytes, fmt: str) -> bytes:
    """Return the bytes without EXIF GPS or GPS-bearing XMP; the same object when there was none."""
    try:
        if fmt == "JPEG":
            return strip_jpeg(data)
        if fmt == "PNG":
            return strip_png(data)
        if fmt == "WEBP":
            return strip_webp(data)
        return strip_gif(data)
    except (IndexError, ValueError, struct.error) as exc:
        raise ImageInvalid(DAMAGED) from exc
