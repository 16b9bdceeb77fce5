"""Location data out of a WEBP file, pixels untouched. Django-free."""

from __future__ import annotations

import struct
from typing import BinaryIO

from images.media.base import (
    XMP_GPS,
    clean_exif,
)
from images.media.files import Plan, piece_size, read_at


def strip_webp(f: BinaryIO, size: int) -> Plan | None:
    """Rewrite the RIFF EXIF chunk without GPS and drop a GPS-bearing XMP chunk."""
    head = read_at(f, 0, 12)
    if head[:4] != b"RIFF" or head[8:12] != b"WEBP":
        raise ValueError("not RIFF WEBP")
    # Chunks end where the RIFF says: bytes after it (readers ignore them) are not walked as
    # 8-byte chunks, millions of them in a padded file.
    size = min(size, 8 + struct.unpack("<I", head[4:8])[0])
    parts: Plan = []
    changed = dropped_xmp = dropped_exif = False
    pos = 12
    while pos + 8 <= size:
        kind, length = struct.unpack("<4sI", read_at(f, pos, pos + 8))
        end = pos + 8 + length + (length & 1)
        if end > size:
            if pos + 8 + length > size:
                raise ValueError("truncated chunk")
            end = size  # some writers omit the final pad byte
        if kind == b"EXIF":
            cleaned = clean_exif(read_at(f, pos + 8, pos + 8 + length))
            if cleaned is not None:
                tiff = cleaned[6:]
                if tiff:
                    parts.append(struct.pack("<4sI", b"EXIF", len(tiff)) + tiff + b"\x00" * (len(tiff) & 1))
                else:
                    dropped_exif = True
                changed = True
                pos = end
                continue
        elif kind == b"XMP " and XMP_GPS.search(read_at(f, pos + 8, pos + 8 + length)):
            changed = dropped_xmp = True
            pos = end
            continue
        parts.append((pos, end))
        pos = end
    if not changed:
        return None
    first = parts[0] if parts else None
    # A rewritten piece is an EXIF chunk: only a range of the source can be the VP8X header.
    if (dropped_xmp or dropped_exif) and isinstance(first, tuple) and read_at(f, first[0], first[0] + 4) == b"VP8X":
        # Clear the "has XMP" / "has EXIF" flags of what is gone, or readers look for it.
        vp8x = read_at(f, *first)
        flags = vp8x[8] & ~(0x04 * dropped_xmp) & ~(0x08 * dropped_exif)
        parts[0] = vp8x[:8] + bytes([flags]) + vp8x[9:]
    riff_size = 4 + sum(piece_size(piece) for piece in parts)  # "WEBP" and the chunks
    return [b"RIFF" + struct.pack("<I", riff_size) + b"WEBP", *parts]
