"""Verify an uploaded file: the type from decoding (an allow-list), byte, pixel and frame
limits, location data removed, a thumbnail made. Django-free.

The file is read from a seekable binary file a range at a time (Pillow reads it as it decodes;
the hash and the location stripping read it in chunks), so memory holds the decoded pixels
(bounded by the pixel limit), not the file. Bytes from a request's body are wrapped as a file
and take the same path."""

from __future__ import annotations

import hashlib
import itertools
import io
import re
import struct
import zlib
from typing import BinaryIO

from PIL import Image, ImageCms, ImageOps

from images.media.base import (
    ALLOWED_FORMATS,
    DAMAGED,
    ImageInvalid,
    ImageTooLarge,
    MAX_FRAMES,
    NOT_AN_IMAGE,
    PreparedImage,
    THUMBNAIL_QUALITY,
    THUMBNAIL_SIZE,
    decoding,
    has_gps,
)
from images.media.files import CHUNK, as_file, read_at, sha256_of, size_of, spliced
from images.media.location import strip_location
from images.media.location.jpeg import mpo_first_picture
from images.media.location.png import PNG_MAX_METADATA_CHUNK, png_chunks
from images.media.structure import PNG_MAX_CHUNKS, check_structure


def prepare_image(data: bytes | BinaryIO, *, max_bytes: int, max_pixels: int) -> PreparedImage:
    """Verify the bytes, or the seekable binary file, are an allowed image within the limits;
    return what to store (a file is read, never changed, and must stay open while the result
    is used: the result's file is the same file, or a view of its ranges)."""
    source = as_file(data)
    size = size_of(source)
    if size > max_bytes:
        raise ImageTooLarge(_too_large_message(size, max_bytes))
    if not size:
        raise ImageInvalid("The file is empty.")

    _check_png_chunk_sizes(source, size)
    check_structure(source, size)
    with _open(source) as probe:
        if probe.format == "MPO":
            # A camera's multi-picture JPEG: keep the first picture only. The others carry
            # their own EXIF (GPS included) and nothing in the catalog shows them.
            source = spliced(source, mpo_first_picture(source, size, probe))
    with _open(source) as probe:
        fmt = _allowed_format(probe)
        width, height = probe.size
        frames = frame_count(probe)
        check_pixels(width, height, frames, max_pixels)
        try:
            # Check what load() does not (e.g. every PNG chunk CRC: _verify_png does what
            # Pillow's verify() does, a chunk at a time). verify() leaves the image unusable,
            # hence the second open below.
            if fmt == "PNG":
                _verify_png(source)
            else:
                probe.verify()
        except Exception as exc:
            raise ImageInvalid(DAMAGED) from exc

    clean = strip_location(source, fmt)

    with _open(clean) as im:
        if _allowed_format(im) != fmt or im.size != (width, height):
            raise ImageInvalid(DAMAGED)
        thumbnail, pixel_hash = _decode_and_thumbnail(im, fmt, frames, max_pixels)

    content_type, extension = ALLOWED_FORMATS[fmt]
    return PreparedImage(
        file=clean,
        content_type=content_type,
        extension=extension,
        width=width,
        height=height,
        byte_size=size_of(clean),
        sha256=sha256_of(clean),
        thumbnail=thumbnail,
        thumbnail_content_type="image/jpeg",
        pixel_hash=pixel_hash,
    )


def _too_large_message(size: int, limit: int) -> str:
    """Say how big the file is against the limit, in MB unless rounding would hide the difference."""
    mb = 1024 * 1024
    shown, allowed = f"{size / mb:.1f}", f"{limit / mb:.1f}"
    if shown == allowed:
        return f"The file is {size:,} bytes; the limit is {limit:,} bytes."
    return f"The file is {shown} MB; the limit is {allowed} MB."


def _open(f: BinaryIO) -> Image.Image:
    """Open lazily (header only) with just the allowed decoders, mapping failures to ImageInvalid.
    Pillow reads the file from its start and, given a file object, never closes it."""
    try:
        # MPO is how Pillow names a multi-picture JPEG; the JPEG opener returns it itself.
        return Image.open(f, formats=list(ALLOWED_FORMATS))
    except Image.DecompressionBombError as exc:
        raise ImageInvalid("The image has too many pixels.") from exc
    except Image.UnidentifiedImageError as exc:
        raise ImageInvalid(NOT_AN_IMAGE) from exc
    except Exception as exc:
        raise ImageInvalid(DAMAGED) from exc


def _check_png_chunk_sizes(f: BinaryIO, size: int) -> None:
    """Refuse a PNG with a metadata chunk over PNG_MAX_METADATA_CHUNK before Pillow reads it:
    Pillow reads every chunk but the pixels' (IDAT, APNG's fdAT) whole, some twice, and no real
    metadata comes near the limit. Only the 8-byte chunk headers are read here; a damaged file
    is left to the checks after."""
    if read_at(f, 0, 8) != b"\x89PNG\r\n\x1a\n":
        return
    try:
        # No further than check_structure's limits allow (it refuses a file with more chunks).
        for kind, start, end in itertools.islice(png_chunks(f, size), PNG_MAX_CHUNKS):
            length = end - start - 12
            if kind not in (b"IDAT", b"fdAT") and length > PNG_MAX_METADATA_CHUNK:
                name = kind.decode("latin-1") if _CHUNK_TYPE.fullmatch(kind) else "metadata"
                raise ImageInvalid(
                    f"The PNG file holds a {name} chunk of {length / (1 << 20):.1f} MB; chunks other than "
                    f"the picture (metadata, text, profiles) may have at most {PNG_MAX_METADATA_CHUNK >> 20} MB.")
    except ValueError:
        return


def _verify_png(f: BinaryIO) -> None:
    """Check what Pillow's PNG verify() checks (every chunk's type and CRC, up to IEND), reading
    a chunk CHUNK bytes at a time: Pillow reads each chunk whole, and twice over, so a 200 MB
    file written as one IDAT chunk (as PNG optimisers do) would cost 400 MB."""
    for kind, start, end in png_chunks(f, size_of(f)):
        if not _CHUNK_TYPE.fullmatch(kind):
            raise ValueError(f"bad chunk type {kind!r}")
        crc = zlib.crc32(kind)
        f.seek(start + 8)
        for remaining in range(end - 4 - (start + 8), 0, -CHUNK):
            crc = zlib.crc32(f.read(min(CHUNK, remaining)), crc)
        if read_at(f, end - 4, end) != struct.pack(">I", crc):
            raise ValueError(f"bad CRC in {kind!r}")
        if kind == b"IEND":
            return
    raise ValueError("no IEND")


# What Pillow takes for a chunk type (its is_cid).
_CHUNK_TYPE = re.compile(rb"\w{4}")


def _allowed_format(im: Image.Image) -> str:
    """Return the allow-list name of the decoded format."""
    fmt = "JPEG" if im.format == "MPO" else im.format
    if fmt not in ALLOWED_FORMATS:
        raise ImageInvalid(NOT_AN_IMAGE)
    return fmt


def frame_count(im: Image.Image) -> int:
    """Count frames from headers only (no pixel decoding)."""
    try:
        frames = int(getattr(im, "n_frames", 1) or 1)
    except Exception as exc:
        raise ImageInvalid(DAMAGED) from exc
    if frames > MAX_FRAMES:
        raise ImageInvalid(f"The animation has {frames:,} frames; the limit is {MAX_FRAMES:,}.")
    return frames


def check_pixels(width: int, height: int, frames: int, max_pixels: int) -> None:
    """Refuse before decoding when the pixels to decode exceed the limit (bomb defence)."""
    if width <= 0 or height <= 0:
        raise ImageInvalid(DAMAGED)
    if width * height * frames > max_pixels:
        what = f"{width:,} × {height:,} pixels" + (f" × {frames:,} frames" if frames > 1 else "")
        raise ImageInvalid(
            f"The image is too large: {what}; the limit is {max_pixels / 1e6:g} megapixels in all."
        )


def _decode_and_thumbnail(im: Image.Image, fmt: str, frames: int, max_pixels: int) -> tuple[bytes, str]:
    """Decode every frame (proving the file is whole); return a JPEG thumbnail of the first and the
    hash of its decoded pixels."""
    with decoding():
        if fmt == "JPEG":
            # DCT scaling: libjpeg still entropy-decodes the whole file (so damage is caught)
            # but skips most of the inverse transform; 4-8x faster on camera photos.
            im.draft(None, (THUMBNAIL_SIZE * 2, THUMBNAIL_SIZE * 2))
        im.load()
        # After load(), so PNG chunks that follow the pixels have been read too.
        if has_gps(im):
            # Fail closed: never publish coordinates we could not remove.
            raise ImageInvalid("The image's location data could not be removed.")
        pixel_hash = _pixel_hash(im)
        thumbnail = _thumbnail(im)
        for index in range(1, frames):
            im.seek(index)
            # A GIF frame may grow the canvas; re-check before paying for the decode.
            check_pixels(im.width, im.height, frames, max_pixels)
            im.load()
    return thumbnail, pixel_hash


# Rows are hashed, converted and reduced a strip of about this many bytes at a time.
_STRIP_BYTES = 4 << 20


def _pixel_hash(im: Image.Image) -> str:
    """sha256 of the decoded first frame: the same picture with other embedded metadata (EXIF,
    XMP, comments) hashes the same. Hashed in strips of rows, so memory stays bounded. A JPEG is
    hashed at the DCT-scaled size it was decoded at, which is the same for the same coded data."""
    digest = hashlib.sha256(f"{im.mode} {im.width}x{im.height}\n".encode())
    if im.mode == "P":
        digest.update(bytes(im.getpalette() or ()))
    rows = max(1, _STRIP_BYTES // max(1, im.width * 4))
    for top in range(0, im.height, rows):
        digest.update(im.crop((0, top, im.width, min(im.height, top + rows))).tobytes())
    return digest.hexdigest()


def _thumbnail(im: Image.Image) -> bytes:
    """Make an upright, sRGB, metadata-free JPEG no larger than THUMBNAIL_SIZE on its longest side."""
    icc = im.info.get("icc_profile")
    small = ImageOps.exif_transpose(_reduced_rgb(im))
    small.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.Resampling.LANCZOS)
    if icc:
        small = to_srgb(small, icc)
    out = io.BytesIO()
    # No exif/icc arguments: Pillow writes none, so the thumbnail carries no metadata.
    small.save(out, "JPEG", quality=THUMBNAIL_QUALITY, optimize=True)
    return out.getvalue()


def _reduced_rgb(im: Image.Image) -> Image.Image:
    """The picture in RGB (to_rgb), a big one shrunk by a whole factor on the way (box filter,
    still at least twice the thumbnail), a strip of rows at a time: done whole, converting a
    50-megapixel palette or 16-bit image costs several full-size copies (over 500 MB), Pillow
    reduces RGBA through a full premultiplied copy, and transposing copies it all again."""
    factor = max(im.size) // (THUMBNAIL_SIZE * 2)
    if factor < 2:
        small = to_rgb(im)
    else:
        # Strips of whole factor-high bands, so each output row is what reducing it whole gives.
        rows = factor * max(1, _STRIP_BYTES // (im.width * 4 * factor))
        small = Image.new("RGB", (-(-im.width // factor), -(-im.height // factor)))
        for top in range(0, im.height, rows):
            strip = im.crop((0, top, im.width, min(im.height, top + rows)))
            small.paste(to_rgb(strip).reduce(factor), (0, top // factor))
    small.info = dict(im.info)  # keeps the orientation for exif_transpose
    return small


def to_rgb(im: Image.Image) -> Image.Image:
    """Convert any mode to RGB, flattening transparency onto white."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16-bit greyscale: scale to 8 bits, or convert() would clip nearly all to white.
        im = im.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    elif im.mode == "F":
        im = im.convert("L")
    has_alpha = im.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
        im.mode in ("P", "L", "RGB") and "transparency" in im.info
    )
    if has_alpha:
        rgba = im.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, (255, 255, 255))
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    return im.convert("RGB")


def to_srgb(im: Image.Image, icc: bytes) -> Image.Image:
    """Map colours from the source's ICC profile to sRGB, since the thumbnail carries no profile."""
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(im, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
    except Exception:
        # A broken or non-RGB profile: slightly wrong colours beat refusing the upload.
        return im
    return converted if converted is not None else im
