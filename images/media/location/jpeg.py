"""Location data out of a JPEG file, pixels untouched. Django-free."""

from __future__ import annotations

import struct

from PIL import Image

from images.media.base import (
    DAMAGED,
    ImageInvalid,
    XMP_GPS,
    clean_exif,
)


def jpeg_segments(data: bytes) -> tuple[list[tuple[int, int, int]], int]:
    """Split a JPEG's header into (marker, start, end) segments; return them and where scan data starts."""
    if data[:2] != b"\xff\xd8":
        raise ValueError("no SOI")
    segments: list[tuple[int, int, int]] = []
    pos = 2
    while pos < len(data):
        if data[pos] != 0xFF:
            raise ValueError("bad marker")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD8 or 0xD0 <= marker <= 0xD7 or marker == 0x01:
            segments.append((marker, pos, pos + 2))
            pos += 2
            continue
        if marker == 0xD9:
            break
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        end = pos + 2 + length
        if length < 2 or end > len(data):
            raise ValueError("bad segment length")
        segments.append((marker, pos, end))
        pos = end
        if marker == 0xDA:  # start of scan: the rest is entropy-coded data
            return segments[:-1], segments[-1][1]
    raise ValueError("no SOS")


def strip_jpeg(data: bytes) -> bytes:
    """Rewrite only the APP1 EXIF/XMP segments; the scan data (the pixels) is copied untouched."""
    segments, scan = jpeg_segments(data)
    xmp_has_gps = any(
        marker == 0xE1 and is_xmp_segment(data[start + 4 : end]) and XMP_GPS.search(data[start:end])
        for marker, start, end in segments
    )
    parts: list[bytes] = [b"\xff\xd8"]
    changed = False
    for marker, start, end in segments:
        payload = data[start + 4 : end]
        if marker == 0xE1 and payload.startswith(b"Exif\x00\x00"):
            cleaned = clean_exif(payload)
            if cleaned is not None:
                if len(cleaned) + 2 > 0xFFFF:
                    raise ValueError("EXIF too large to rewrite")
                if cleaned:
                    parts.append(b"\xff\xe1" + struct.pack(">H", len(cleaned) + 2) + cleaned)
                changed = True
                continue
        elif marker == 0xE1 and xmp_has_gps and is_xmp_segment(payload):
            changed = True  # drop the standard and every extended XMP segment
            continue
        parts.append(data[start:end])
    if not changed:
        return data
    parts.append(data[scan:])
    return b"".join(parts)


def is_xmp_segment(payload: bytes) -> bool:
    """Tell whether an APP1 payload is standard or extended XMP."""
    return payload.startswith((b"http://ns.adobe.com/xap/1.0/\x00", b"http://ns.adobe.com/xmp/extension/\x00"))


def mpo_first_picture(data: bytes, im: Image.Image) -> bytes:
    """Cut a multi-picture JPEG down to its first picture."""
    try:
        first = im.mpinfo[0xB002][0]  # type: ignore[attr-defined]
        size = int(first["Size"])
    except Exception as exc:
        raise ImageInvalid(DAMAGED) from exc
    if not 0 < size <= len(data):
        raise ImageInvalid(DAMAGED)
    try:
        segments, scan = jpeg_segments(data[:size])
    except (IndexError, ValueError, struct.error) as exc:
        raise ImageInvalid(DAMAGED) from exc
    # Its MPF index would still announce the dropped pictures.
    kept = [
        data[start:end]
        for marker, start, end in segments
        if not (marker == 0xE2 and data[start + 4 : start + 8] == b"MPF\x00")
    ]
    return b"\xff\xd8" + b"".join(kept) + data[scan:size]
