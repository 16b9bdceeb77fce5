"""Location data out of a WEBP file, pixels untouched. Django-free."""

from __future__ import annotations

import struct

from images.media.base import (
    XMP_GPS,
    clean_exif,
)


def strip_webp(data: bytes) -> bytes:
    """Rewrite the RIFF EXIF chunk without GPS and drop a GPS-bearing XMP chunk."""
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ValueError("not RIFF WEBP")
    parts: list[bytes] = []
    changed = dropped_xmp = dropped_exif = False
    pos = 12
    while pos + 8 <= len(data):
        kind, length = struct.unpack("<4sI", data[pos : pos + 8])
        end = pos + 8 + length + (length & 1)
        if end > len(data):
            if pos + 8 + length > len(data):
                raise ValueError("truncated chunk")
            end = len(data)  # some writers omit the final pad byte
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"EXIF":
            cleaned = clean_exif(body)
            if cleaned is not None:
                tiff = cleaned[6:]
                if tiff:
                    parts.append(struct.pack("<4sI", b"EXIF", len(tiff)) + tiff + b"\x00" * (len(tiff) & 1))
                else:
                    dropped_exif = True
                changed = True
                pos = end
                continue
        elif kind == b"XMP " and XMP_GPS.search(body):
            changed = dropped_xmp = True
            pos = end
            continue
        parts.append(data[pos:end])
        pos = end
    if not changed:
        return data
    if (dropped_xmp or dropped_exif) and parts and parts[0][:4] == b"VP8X":
        # Clear the "has XMP" / "has EXIF" flags of what is gone, or readers look for it.
        flags = parts[0][8] & ~(0x04 * dropped_xmp) & ~(0x08 * dropped_exif)
        parts[0] = parts[0][:8] + bytes([flags]) + parts[0][9:]
    body = b"WEBP" + b"".join(parts)
    return b"RIFF" + struct.pack("<I", len(body)) + body
