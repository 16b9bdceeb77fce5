"""Remove location data (EXIF GPS, GPS-bearing XMP) at the container level, so the pixels are
copied byte for byte: one module per format. Django-free."""

from __future__ import annotations

import struct
from typing import BinaryIO

from images.media.base import (
    DAMAGED,
    ImageInvalid,
)
from images.media.files import size_of, spliced
from images.media.location.gif import strip_gif
from images.media.location.jpeg import strip_jpeg
from images.media.location.png import strip_png
from images.media.location.webp import strip_webp


# Each container is rewritten at the chunk/segment level so the pixels are copied byte for byte:
# re-encoding a JPEG would lose quality and re-encoding a GIF could change its palette.
# XMP has no byte-safe editor here, so a packet that mentions GPS is dropped whole.
# Each strip_* reads only the headers and the metadata it may rewrite, and returns an edit plan
# (None when there is nothing to remove): the cleaned file is a view of it, never a copy.
_STRIP = {"JPEG": strip_jpeg, "PNG": strip_png, "WEBP": strip_webp, "GIF": strip_gif}


def strip_location(f: BinaryIO, fmt: str) -> BinaryIO:
    """Return the file without EXIF GPS or GPS-bearing XMP; `f` itself when there was none."""
    try:
        plan = _STRIP[fmt](f, size_of(f))
    except (IndexError, ValueError, struct.error) as exc:
        raise ImageInvalid(DAMAGED) from exc
    return f if plan is None else spliced(f, plan)
