"""Build crafted files of each format (many chunks, segments, scans, blocks, frames, huge metadata,
the most pixels allowed) at the given sizes and time their verification through the path
registration uses (images.catalog.services.prepare); print a table.

    .venv/bin/python -m scripts.crafted_images [--sizes 20,200] [--only png]

Each file is written to a temporary file, verified from it (as an upload_key is) and deleted."""

from __future__ import annotations

import argparse
import io
import os
import struct
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator

from PIL import Image

MIB = 1 << 20


def _png_chunk(kind: bytes, body: bytes = b"") -> bytes:
    return struct.pack(">I4s", len(body), kind) + body + struct.pack(">I", zlib.crc32(kind + body))


def _small(fmt: str, size=(16, 16), **kw) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 40)).save(out, fmt, **kw)
    return out.getvalue()


def _fill(head: bytes, unit: bytes, tail: bytes, size: int) -> Iterator[bytes]:
    """head, then unit repeated to make about size bytes, then tail."""
    yield head
    count = max(0, (size - len(head) - len(tail)) // len(unit))
    block = unit * max(1, MIB // len(unit))
    per = MIB // len(unit) or 1
    while count > 0:
        n = min(count, per)
        yield block if n == per else unit * n
        count -= n
    yield tail


def png_private_chunks(size):
    """The probe's file: a 16×16 PNG padded with empty private chunks before IEND."""
    png = _small("PNG")
    return _fill(png[:-12], _png_chunk(b"prVt"), png[-12:], size)


def png_empty_idats(size):
    """Empty IDAT chunks ahead of the real one."""
    png = _small("PNG")
    first_idat = png.index(b"IDAT") - 4
    return _fill(png[:first_idat], _png_chunk(b"IDAT"), png[first_idat:], size)


def png_text_metadata(size):
    """tEXt chunks of 60 KB each (huge metadata)."""
    png = _small("PNG")
    return _fill(png[:-12], _png_chunk(b"tEXt", b"Comment\x00" + b"x" * 60_000), png[-12:], size)


def png_max_pixels(size):
    """7,071 × 7,071 (the 50-megapixel limit) of one colour, then bytes after IEND."""
    return _fill(_small("PNG", (7071, 7071)), b"\x00" * 4096, b"", size)


def png_palette_frames(size):
    """An APNG of 1,000 palette frames (the frame limit), padded after IEND."""
    frames = [Image.new("P", (200, 200), i % 256) for i in range(1000)]
    for im in frames:
        im.putpalette(bytes(range(256)) * 3)
    out = io.BytesIO()
    frames[0].save(out, "PNG", save_all=True, append_images=frames[1:])
    return _fill(out.getvalue(), b"\x00" * 4096, b"", size)


def jpeg_com_segments(size):
    """The probe's file: empty COM segments ahead of the picture."""
    jpg = _small("JPEG")
    return _fill(jpg[:2], b"\xff\xfe\x00\x02", jpg[2:], size)


def jpeg_app_metadata(size):
    """64 KiB APP13 segments (huge metadata)."""
    jpg = _small("JPEG")
    return _fill(jpg[:2], b"\xff\xed\xff\xff" + b"m" * 0xFFFD, jpg[2:], size)


def jpeg_many_scans(size):
    """A progressive JPEG whose last scan is repeated (thousands of scans)."""
    jpg = _small("JPEG", (1024, 1024), progressive=True)
    last = jpg.rindex(b"\xff\xda")
    return _fill(jpg[:last], jpg[last:-2], b"\xff\xd9", size)


def jpeg_max_pixels(size):
    """7,071 × 7,071 baseline JPEG, then bytes after EOI."""
    return _fill(_small("JPEG", (7071, 7071)), b"\x00" * 4096, b"", size)


def _gif_head() -> bytes:
    return b"GIF89a" + struct.pack("<HHBBB", 16, 16, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"


def gif_one_byte_subblocks(size):
    """One frame whose LZW data is in 1-byte sub-blocks."""
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, 16, 16, 0) + b"\x02"
    return _fill(_gif_head() + frame, b"\x01\x00", b"\x00\x3b", size)


def gif_comment_blocks(size):
    """Empty comment extension blocks ahead of the picture."""
    gif = _small("GIF")
    return _fill(gif[:-1], b"\x21\xfe\x00", b"\x3b", size)


def gif_frames(size):
    """1,000 frames (the limit) of 200 × 200, padded after the trailer."""
    frames = [Image.new("P", (200, 200), i % 256) for i in range(1000)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:])
    return _fill(out.getvalue(), b"\x00" * 4096, b"", size)


def gif_max_pixels(size):
    """7,071 × 7,071 of one colour, padded after the trailer."""
    return _fill(_small("GIF", (7071, 7071)), b"\x00" * 4096, b"", size)


def _riff(chunks_size: int) -> bytes:
    return b"RIFF" + struct.pack("<I", chunks_size + 4) + b"WEBP"


def webp_unknown_chunks(size):
    """Empty unknown chunks after the picture."""
    body = _small("WEBP")[12:]
    count = (size - 12 - len(body)) // 8
    return iter([_riff(len(body) + 8 * count), body, b"ZZZZ\x00\x00\x00\x00" * count])


def webp_metadata(size):
    """One huge XMP chunk (all metadata)."""
    body = _small("WEBP")[12:]
    length = size - 20 - len(body)
    return iter([_riff(len(body) + 8 + length), body, b"XMP " + struct.pack("<I", length), b"x" * length])


def webp_max_pixels(size):
    """7,071 × 7,071 lossless, padded after the RIFF."""
    return _fill(_small("WEBP", (7071, 7071), lossless=True), b"\x00" * 4096, b"", size)


def _noise(fmt: str, size: int, bytes_per_pixel: float, **kw) -> Iterator[bytes]:
    """Random pixels (nothing compresses), as many as fit in size up to the pixel limit."""
    side = min(7071, int((size / bytes_per_pixel) ** 0.5))
    im = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    out = io.BytesIO()
    im.save(out, fmt, **kw)
    return _fill(out.getvalue(), b"\x00" * 4096, b"", size)


def png_noise(size):
    """Random RGB pixels, uncompressed: the most pixel data a PNG of this size decodes."""
    return _noise("PNG", size, 3.1, compress_level=0)


def jpeg_noise(size):
    """Random RGB pixels at quality 100 (the most entropy-coded data to decode)."""
    return _noise("JPEG", size, 4.5, quality=100)


def webp_noise(size):
    """Random RGB pixels, lossless (WebP is read whole into memory)."""
    return _noise("WEBP", size, 3.2, lossless=True, method=0)


CASES: dict[str, Callable[[int], Iterator[bytes]]] = {
    name: func for name, func in globals().items()
    if callable(func) and name.split("_")[0] in ("png", "jpeg", "gif", "webp") and not name.startswith("_")
}


def verify(path: str) -> tuple[float, str]:
    """Time the registration path's verification of the file at path; return (seconds, answer)."""
    from images.catalog.services import prepare
    from images.media.base import ImageInvalid, ImageTooLarge

    with open(path, "rb") as f:
        started = time.perf_counter()
        try:
            prepare(f)
            answer = "accepted"
        except (ImageInvalid, ImageTooLarge) as exc:
            answer = f"400/413: {exc.message}"
        return time.perf_counter() - started, answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20,200", help="MiB, comma-separated")
    parser.add_argument("--only", default="", help="case-name prefix")
    args = parser.parse_args()
    print("| case | MiB | seconds | answer |\n|---|---|---|---|")
    for size in (int(s) * MIB for s in args.sizes.split(",")):
        for name, build in CASES.items():
            if not name.startswith(args.only):
                continue
            with tempfile.NamedTemporaryFile(suffix=".bin", delete=False) as out:
                for piece in build(size):
                    out.write(piece)
            try:
                seconds, answer = verify(out.name)
                actual = os.path.getsize(out.name) / MIB
            finally:
                os.unlink(out.name)
            print(f"| {name} | {actual:.0f} | {seconds:.2f} | {answer[:90]} |", flush=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
