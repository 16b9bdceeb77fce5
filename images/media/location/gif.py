"""Location data out of a GIF file, pixels untouched. Django-free."""

from __future__ import annotations

from typing import BinaryIO

from images.media.base import (
    XMP_GPS,
)
from images.media.files import Plan, byte_at, contains, read_at


def strip_gif(f: BinaryIO, size: int) -> Plan | None:
    """Drop a GPS-bearing XMP application extension from a GIF (GIF has no EXIF)."""
    if not contains(f, XMP_GPS, overlap=4):
        return None  # fast path: no GPS property name anywhere in the file
    pos = 13
    flags = byte_at(f, 10)
    if flags & 0x80:
        pos += 3 << ((flags & 0x07) + 1)
    parts: Plan = [(0, min(pos, size))]
    changed = False
    while pos < size:
        start = pos
        introducer = byte_at(f, pos)
        if introducer == 0x3B:  # trailer
            break
        if introducer == 0x21:
            label = byte_at(f, pos + 1)
            pos = _gif_skip_subblocks(f, pos + 2)
            is_xmp = label == 0xFF and read_at(f, start + 3, start + 14) == b"XMP DataXMP"
            if is_xmp and XMP_GPS.search(read_at(f, start, pos)):
                changed = True
                continue
        elif introducer == 0x2C:
            local = byte_at(f, pos + 9)
            pos += 10
            if local & 0x80:
                pos += 3 << ((local & 0x07) + 1)
            pos = _gif_skip_subblocks(f, pos + 1)  # +1: LZW minimum code size
        else:
            raise ValueError("bad GIF block")
        parts.append((start, pos))
    if not changed:
        return None
    parts.append((pos, size))
    return parts


def _gif_skip_subblocks(f: BinaryIO, pos: int) -> int:
    """Return the position after a chain of GIF data sub-blocks."""
    while True:
        length = byte_at(f, pos)
        pos += 1 + length
        if length == 0:
            return pos
