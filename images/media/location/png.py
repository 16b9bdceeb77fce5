"""Location data out of a PNG file, pixels untouched. Django-free."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from typing import BinaryIO

from images.media.base import (
    GPS_IFD,
    XMP_GPS,
    clean_exif,
    parse_exif,
    raw_profile_bytes,
)
from images.media.files import Plan, read_at


# How far a compressed text chunk is inflated to look for GPS: a fixed bound, not one that grows
# with the file. Pillow refuses a file with a compressed text chunk over 1 MiB when it decodes
# it, and the check after decoding fails closed, so nothing cut off here is ever published.
# The same bound caps any PNG metadata chunk (images.media.verify refuses bigger ones).
PNG_MAX_METADATA_CHUNK = 16 << 20


def png_chunks(f: BinaryIO, size: int) -> Iterator[tuple[bytes, int, int]]:
    """Yield (type, start, end) of each PNG chunk."""
    if read_at(f, 0, 8) != b"\x89PNG\r\n\x1a\n":
        raise ValueError("no PNG signature")
    pos = 8
    while pos + 8 <= size:
        length, kind = struct.unpack(">I4s", read_at(f, pos, pos + 8))
        end = pos + 12 + length
        if end > size:
            raise ValueError("truncated chunk")
        yield kind, pos, end
        pos = end
        if kind == b"IEND":
            return


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    """Serialise one PNG chunk with its CRC."""
    return struct.pack(">I4s", len(body), kind) + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_text(kind: bytes, body: bytes, limit: int) -> tuple[bytes, bytes]:
    """Return (keyword, text) of a tEXt/zTXt/iTXt chunk, inflating at most limit bytes."""
    keyword, _, rest = body.partition(b"\x00")
    compressed = False
    if kind == b"zTXt":
        compressed, rest = True, rest[1:]
    elif kind == b"iTXt":
        compressed = rest[:1] == b"\x01"
        rest = rest[2:]
        _lang, _, rest = rest.partition(b"\x00")
        _translated, _, rest = rest.partition(b"\x00")
    if compressed:
        try:
            # Bounded inflate: a text chunk must not become a decompression bomb of its own.
            rest = zlib.decompressobj().decompress(rest, limit)
        except zlib.error:
            rest = b""
    return keyword, rest


def strip_png(f: BinaryIO, size: int) -> Plan | None:
    """Rewrite the eXIf chunk without GPS and drop GPS-bearing XMP or raw EXIF text chunks."""
    parts: Plan = [(0, 8)]
    changed = False
    end = 8
    for kind, start, end in png_chunks(f, size):
        if kind == b"eXIf":
            cleaned = clean_exif(read_at(f, start + 8, end - 4))
            if cleaned is not None:
                if cleaned:
                    parts.append(_png_chunk(b"eXIf", cleaned[6:]))  # PNG stores it without "Exif\0\0"
                changed = True
                continue
        elif kind in (b"tEXt", b"zTXt", b"iTXt"):
            keyword, text = _png_text(kind, read_at(f, start + 8, end - 4), PNG_MAX_METADATA_CHUNK)
            if _png_text_has_gps(keyword, text):
                changed = True
                continue
        parts.append((start, end))
    if not changed:
        return None
    parts.append((end, size))
    return parts


def _png_text_has_gps(keyword: bytes, text: bytes) -> bool:
    """Tell whether a PNG text chunk is XMP or raw EXIF that carries GPS."""
    if keyword == b"XML:com.adobe.xmp" or keyword.lower() == b"raw profile type xmp":
        return bool(XMP_GPS.search(text))
    if keyword.lower() in (b"raw profile type exif", b"raw profile type app1"):
        raw = raw_profile_bytes(text)
        exif = parse_exif(raw) if raw else None
        # Unreadable raw EXIF may still hold GPS that some reader understands: drop it.
        return exif is None or GPS_IFD in exif
    return False
