"""Walk a file's container structure (PNG chunks, JPEG segments and scans, GIF blocks, WebP
chunks) before Pillow reads it, and refuse one whose structure no real picture has. Django-free.

Pillow and this project's location stripping walk these structures one Python loop turn per
chunk, segment or block, so the time to verify a file grew with their number, not its size: a
24 MB PNG of two million empty chunks took a minute. Every limit below is far above what any
camera, phone, editor or optimiser writes (each says why), and bounds those loops; the walk
itself reads the file a CHUNK at a time and costs time in proportion to the bytes plus the
blocks counted, both bounded."""

from __future__ import annotations

import re
import struct
from typing import BinaryIO

from images.media.base import MAX_FRAMES, ImageInvalid
from images.media.files import CHUNK, read_at

# Bytes of metadata (anything but the pixels: text, EXIF, XMP, ICC profiles, comments, unknown
# chunks) a file may carry in all. A camera's EXIF is at most 64 KiB (one JPEG segment), extended
# XMP with a Photoshop preview or an ICC profile a few MB; 16 MiB is more than the largest.
MAX_METADATA_BYTES = 16 << 20

# PNG: chunks other than the pixels' (IDAT, APNG's fdAT) and the per-frame fcTL. A file has a
# dozen at most (header, palette, transparency, gamma, profile, text, time, EXIF...).
PNG_MAX_OTHER_CHUNKS = 256
# PNG: pixel chunks. libpng writes 8 KiB IDATs (25,600 in a 200 MiB file), other writers
# 32 KiB to whole-file ones; 64 Ki chunks even at 4 KiB each is 256 MiB, past the byte limit.
PNG_MAX_PIXEL_CHUNKS = 65_536
PNG_MAX_CHUNKS = PNG_MAX_OTHER_CHUNKS + PNG_MAX_PIXEL_CHUNKS + MAX_FRAMES + 1

# JPEG: marker segments in the whole file, scans' segments included. A camera JPEG has about 15
# (APPn, DQT, SOF, DHT, SOS); a progressive one adds a DHT and an SOS per scan; extended XMP and
# ICC profiles split over 64 KiB segments add up to about 256 at the metadata limit.
JPEG_MAX_SEGMENTS = 1024
# JPEG: scans. Baseline has 1 (one per component at most 4); progressive encoders write about
# 10 (mozjpeg up to ~20). Each scan makes libjpeg pass over all the coefficients again, so
# thousands of scans of a large picture would take minutes (a known libjpeg cost).
JPEG_MAX_SCANS = 64

# GIF: extension blocks (graphic control: one per frame; application, comment, plain text: a few).
GIF_MAX_EXTENSIONS = 2 * MAX_FRAMES + 64
# GIF: data sub-blocks shorter than the 255 bytes every encoder writes (bar the last of each
# chain). An XMP application extension is read as sub-blocks its text's bytes size (about 100
# per KB of XMP); this leaves room for 100 KB of it and bounds the walk to the bytes / 256.
GIF_MAX_SHORT_SUBBLOCKS = 16_384 + 2 * MAX_FRAMES

# WebP: RIFF chunks. A still picture has at most 5 (VP8X, ICCP, VP8/VP8L, EXIF, XMP), an
# animation one ANMF per frame plus ANIM.
WEBP_MAX_CHUNKS = MAX_FRAMES + 64


def check_structure(f: BinaryIO, size: int) -> None:
    """Refuse (ImageInvalid, saying why) a file whose structure exceeds the limits above.
    A file that is damaged or of another type is left to the checks after (which refuse it)."""
    head = read_at(f, 0, 12)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        _png(f, size)
    elif head.startswith(b"\xff\xd8"):
        _jpeg(f, size)
    elif head[:6] in (b"GIF87a", b"GIF89a"):
        _gif(f, size)
    elif head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        _webp(f, size)


def _refuse(what: str, count: int, limit: int, unit: str) -> ImageInvalid:
    return ImageInvalid(f"The {what} file holds {count:,}+ {unit}; no real picture has more than "
                        f"{limit:,}, so it is refused unread.")


def _metadata(kind: str, total: int) -> None:
    if total > MAX_METADATA_BYTES:
        raise ImageInvalid(f"The {kind} file holds over {MAX_METADATA_BYTES >> 20} MB of metadata (text, EXIF, "
                           f"profiles, comments); pictures carry far less, so it is refused unread.")


class _Reader:
    """Sequential reads from a position, served from a CHUNK-sized buffer (few seeks)."""

    def __init__(self, f: BinaryIO, size: int, pos: int):
        self.f, self.size, self.base, self.buf = f, size, pos, b""

    def get(self, pos: int, n: int) -> bytes:
        """n bytes at pos (fewer at the end of the file)."""
        offset = pos - self.base
        if offset < 0 or offset + n > len(self.buf):
            self.base, self.buf = pos, read_at(self.f, pos, min(self.size, pos + max(n, CHUNK)))
            offset = 0
        return self.buf[offset:offset + n]


def _png(f: BinaryIO, size: int) -> None:
    pos, pixel, other, frames, metadata = 8, 0, 0, 0, 0
    reader = _Reader(f, size, pos)
    while pos + 8 <= size:
        length, kind = struct.unpack(">I4s", reader.get(pos, 8))
        if kind in (b"IDAT", b"fdAT"):
            pixel += 1
            if pixel > PNG_MAX_PIXEL_CHUNKS:
                raise _refuse("PNG", pixel, PNG_MAX_PIXEL_CHUNKS, "pixel (IDAT) chunks")
        elif kind == b"fcTL":  # APNG: one per frame
            frames += 1
            if frames > MAX_FRAMES + 1:  # +1: the default image may have its own
                raise _refuse("PNG", frames, MAX_FRAMES, "animation frames")
        else:
            other += 1
            metadata += length
            if other > PNG_MAX_OTHER_CHUNKS:
                raise _refuse("PNG", other, PNG_MAX_OTHER_CHUNKS, "chunks besides the pixels")
            _metadata("PNG", metadata)
        if kind == b"IEND":
            return
        pos += 12 + length


# A JPEG marker in entropy-coded data: 0xFF followed by neither a stuffed 0x00, a restart
# (RST0-7: thousands are normal, they carry no segment) nor a fill byte.
_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


def _jpeg(f: BinaryIO, size: int) -> None:
    pos, segments, scans, metadata = 2, 0, 0, 0
    reader = _Reader(f, size, pos)
    while pos + 4 <= size:
        head = reader.get(pos, 4)
        if head[0] != 0xFF:
            return  # damaged: Pillow refuses it
        marker = head[1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker == 0xD9:  # EOI: what follows (an MPO's other pictures) Pillow reads by offset
            return
        if marker == 0xD8 or 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 2
            continue
        segments += 1
        if segments > JPEG_MAX_SEGMENTS:
            raise _refuse("JPEG", segments, JPEG_MAX_SEGMENTS, "marker segments")
        (length,) = struct.unpack(">H", head[2:4])
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:
            metadata += length
            _metadata("JPEG", metadata)
        pos += 2 + length
        if marker == 0xDA:
            scans += 1
            if scans > JPEG_MAX_SCANS:
                raise _refuse("JPEG", scans, JPEG_MAX_SCANS, "scans")
            pos = _next_marker(f, size, pos)


def _next_marker(f: BinaryIO, size: int, pos: int) -> int:
    """Where the next marker after entropy-coded data starting at pos is (size if none)."""
    while pos < size:
        block = read_at(f, pos, min(size, pos + CHUNK + 1))  # +1: a marker across the edge
        found = _MARKER.search(block)
        if found:
            return pos + found.start()
        if len(block) <= 1:
            return size
        pos += len(block) - 1
    return size


def _gif(f: BinaryIO, size: int) -> None:
    reader = _Reader(f, size, 0)
    flags = reader.get(10, 1)
    pos = 13 + ((3 << ((flags[0] & 0x07) + 1)) if flags and flags[0] & 0x80 else 0)
    frames = extensions = short = metadata = 0
    while pos < size:
        introducer = reader.get(pos, 1)[0]
        if introducer == 0x3B:
            return
        if introducer == 0x21:
            extensions += 1
            if extensions > GIF_MAX_EXTENSIONS:
                raise _refuse("GIF", extensions, GIF_MAX_EXTENSIONS, "extension blocks")
            start = pos
            pos, short = _subblocks(reader, pos + 2, short)
            if reader.get(start + 1, 1) != b"\xf9":  # all but graphic control: metadata
                metadata += pos - start
                _metadata("GIF", metadata)
        elif introducer == 0x2C:
            frames += 1
            if frames > MAX_FRAMES:
                raise _refuse("GIF", frames, MAX_FRAMES, "frames")
            local = reader.get(pos + 9, 1)
            pos += 10 + ((3 << ((local[0] & 0x07) + 1)) if local and local[0] & 0x80 else 0)
            pos, short = _subblocks(reader, pos + 1, short)  # +1: LZW minimum code size
        else:
            return  # damaged: Pillow refuses it or stops here
    return


def _subblocks(reader: _Reader, pos: int, short: int) -> tuple[int, int]:
    """Walk a chain of sub-blocks from pos; return the position after it and the short count."""
    while pos < reader.size:
        length = reader.get(pos, 1)[0]
        pos += 1 + length
        if length == 0:
            break
        if length < 255 and reader.get(pos, 1) != b"\x00":  # short and not the chain's last
            short += 1
            if short > GIF_MAX_SHORT_SUBBLOCKS:
                raise _refuse("GIF", short, GIF_MAX_SHORT_SUBBLOCKS, "short data sub-blocks")
    return pos, short


def _webp(f: BinaryIO, size: int) -> None:
    # Readers stop at the RIFF's own size: bytes after it are not chunks.
    size = min(size, 8 + struct.unpack("<I", read_at(f, 4, 8))[0])
    pos, count, metadata = 12, 0, 0
    reader = _Reader(f, size, pos)
    while pos + 8 <= size:
        kind, length = struct.unpack("<4sI", reader.get(pos, 8))
        count += 1
        if count > WEBP_MAX_CHUNKS:
            raise _refuse("WebP", count, WEBP_MAX_CHUNKS, "chunks")
        if kind not in (b"VP8 ", b"VP8L", b"VP8X", b"ANIM", b"ANMF", b"ALPH"):
            metadata += length
            _metadata("WebP", metadata)
        pos += 8 + length + (length & 1)
