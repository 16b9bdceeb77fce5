"""Location data out of a JPEG file, pixels untouched. Django-free."""

from __future__ import annotations

import struct
from typing import BinaryIO

from PIL import Image

from images.media.base import (
    DAMAGED,
    ImageInvalid,
    XMP_GPS,
    clean_exif,
)
from images.media.files import Plan, read_at


def jpeg_segments(f: BinaryIO, size: int) -> tuple[list[tuple[int, int, int]], int]:
    """Split the header of a JPEG (its first `size` bytes) into (marker, start, end) segments;
    return them and where scan data starts."""
    if read_at(f, 0, min(2, size)) != b"\xff\xd8":
        raise ValueError("no SOI")
    segments: list[tuple[int, int, int]] = []
    pos = 2
    while pos < size:
        head = read_at(f, pos, min(pos + 4, size))
        if head[0] != 0xFF:
            raise ValueError("bad marker")
        marker = head[1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD8 or 0xD0 <= marker <= 0xD7 or marker == 0x01:
            segments.append((marker, pos, pos + 2))
            pos += 2
            continue
        if marker == 0xD9:
            break
        (length,) = struct.unpack(">H", head[2:4])
        end = pos + 2 + length
        if length < 2 or end > size:
            raise ValueError("bad segment length")
        segments.append((marker, pos, end))
        pos = end
        if marker == 0xDA:  # start of scan: the rest is entropy-coded data
            return segments[:-1], segments[-1][1]
    raise ValueError("no SOS")


def strip_jpeg(f: BinaryIO, size: int) -> Plan | None:
    """Rewrite only the APP1 EXIF/XMP segments; the scan data (the pixels) is copied untouched."""
    segments, scan = jpeg_segments(f, size)
    app1 = [(start, end) for marker, start, end in segments if marker == 0xE1]
    # Read one segment (at most 64 KiB) at a time, twice, rather than hold every one.
    xmp_has_gps = any(
        is_xmp_segment(segment[4:]) and XMP_GPS.search(segment)
        for segment in (read_at(f, start, end) for start, end in app1)
    )
    parts: Plan = [b"\xff\xd8"]
    changed = False
    for marker, start, end in segments:
        if marker == 0xE1:
            payload = read_at(f, start + 4, end)
            if payload.startswith(b"Exif\x00\x00"):
                cleaned = clean_exif(payload)
                if cleaned is not None:
                    if len(cleaned) + 2 > 0xFFFF:
                        raise ValueError("EXIF too large to rewrite")
                    if cleaned:
                        parts.append(b"\xff\xe1" + struct.pack(">H", len(cleaned) + 2) + cleaned)
                    changed = True
                    continue
            elif xmp_has_gps and is_xmp_segment(payload):
                changed = True  # drop the standard and every extended XMP segment
                continue
        parts.append((start, end))
    if not changed:
        return None
    parts.append((scan, size))
    return parts


def is_xmp_segment(payload: bytes) -> bool:
    """Tell whether an APP1 payload is standard or extended XMP."""
    return payload.startswith((b"http://ns.adobe.com/xap/1.0/\x00", b"http://ns.adobe.com/xmp/extension/\x00"))


def mpo_first_picture(f: BinaryIO, size: int, im: Image.Image) -> Plan:
    """Cut a multi-picture JPEG down to its first picture."""
    try:
        first = im.mpinfo[0xB002][0]  # type: ignore[attr-defined]
        first_size = int(first["Size"])
    except Exception as exc:
        raise ImageInvalid(DAMAGED) from exc
    if not 0 < first_size <= size:
        raise ImageInvalid(DAMAGED)
    try:
        segments, scan = jpeg_segments(f, first_size)
    except (IndexError, ValueError, struct.error) as exc:
        raise ImageInvalid(DAMAGED) from exc
    # Its MPF index would still announce the dropped pictures.
    kept: Plan = [
        (start, end)
        for marker, start, end in segments
        if not (marker == 0xE2 and read_at(f, start + 4, start + 8) == b"MPF\x00")
    ]
    return [b"\xff\xd8", *kept, (scan, first_size)]
