"""Location data out of a GIF file, pixels untouched. Django-free."""

from __future__ import annotations


from images.media.base import (
    XMP_GPS,
)


def strip_gif(data: bytes) -> bytes:
    """Drop a GPS-bearing XMP application extension from a GIF (GIF has no EXIF)."""
    if not XMP_GPS.search(data):
        return data  # fast path: no GPS property name anywhere in the file
    pos = 13
    flags = data[10]
    if flags & 0x80:
        pos += 3 << ((flags & 0x07) + 1)
    parts: list[bytes] = [data[:pos]]
    changed = False
    while pos < len(data):
        start = pos
        introducer = data[pos]
        if introducer == 0x3B:  # trailer
            break
        if introducer == 0x21:
            label = data[pos + 1]
            pos = _gif_skip_subblocks(data, pos + 2)
            is_xmp = label == 0xFF and data[start + 3 : start + 14] == b"XMP DataXMP"
            if is_xmp and XMP_GPS.search(data[start:pos]):
                changed = True
                continue
        elif introducer == 0x2C:
            local = data[pos + 9]
            pos += 10
            if local & 0x80:
                pos += 3 << ((local & 0x07) + 1)
            pos = _gif_skip_subblocks(data, pos + 1)  # +1: LZW minimum code size
        else:
            raise ValueError("bad GIF block")
        parts.append(data[start:pos])
    if not changed:
        return data
    parts.append(data[pos:])
    return b"".join(parts)


def _gif_skip_subblocks(data: bytes, pos: int) -> int:
    """Return the position after a chain of GIF data sub-blocks."""
    while True:
        size = data[pos]
        pos += 1 + size
        if size == 0:
            return pos
