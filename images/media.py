"""Decode and verify uploaded image bytes, strip location data, make thumbnails, read metadata.

Django-free: the Lambda package imports this module.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import re
import struct
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree

from PIL import Image, ImageCms, ImageOps, IptcImagePlugin

from common.errors import InvalidInput, TooLarge

__all__ = [
    "ALLOWED_FORMATS",
    "MAX_FRAMES",
    "THUMBNAIL_SIZE",
    "FileMetadata",
    "ImageInvalid",
    "ImageTooLarge",
    "PreparedImage",
    "prepare_image",
    "read_metadata",
]


class ImageInvalid(InvalidInput):
    """The bytes are not an acceptable image: unsupported, damaged, or too many pixels."""

    code = "image_invalid"
    default_message = "This file is not a JPEG, PNG, GIF or WebP image."


class ImageTooLarge(TooLarge):
    """The file has more bytes than the limit."""

    code = "image_too_large"
    default_message = "The image file is too large."


# Pillow format -> (content type, extension). Deliberately short: no SVG (scriptable), no
# TIFF/BMP/ICO (browsers do not all show them, and every extra decoder is attack surface).
ALLOWED_FORMATS: dict[str, tuple[str, str]] = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "GIF": ("image/gif", "gif"),
    "WEBP": ("image/webp", "webp"),
}

THUMBNAIL_SIZE = 320
THUMBNAIL_QUALITY = 80
# Past this many frames an animation is refused even if small: every frame costs a decode.
MAX_FRAMES = 1000

_NOT_AN_IMAGE = "This file is not a JPEG, PNG, GIF or WebP image."
_DAMAGED = "The image file is damaged or incomplete."
_GPS_IFD = 0x8825
_EXIF_IFD = 0x8769
# An XMP packet mentioning any GPS* property (exif:GPSLatitude, exifEX:GPS..., any prefix).
_XMP_GPS = re.compile(rb"[:<\s\"']GPS[A-Z][A-Za-z]*")


@dataclass(frozen=True)
class PreparedImage:
    """A verified image ready to store: bytes without GPS, its real type, size, hash and thumbnail."""

    data: bytes
    content_type: str
    extension: str
    width: int
    height: int
    byte_size: int
    sha256: str
    thumbnail: bytes
    thumbnail_content_type: str


@dataclass(frozen=True)
class FileMetadata:
    """What the file itself says about the picture, for prefilling forms; any field may be empty."""

    title: str | None = None
    description: str | None = None
    author: str | None = None
    keywords: list[str] = field(default_factory=list)
    capture_date: str | None = None


# --------------------------------------------------------------------------- prepare_image


def prepare_image(data: bytes, *, max_bytes: int, max_pixels: int) -> PreparedImage:
    """Verify the bytes are an allowed image within the limits; return what to store."""
    if len(data) > max_bytes:
        raise ImageTooLarge(_too_large_message(len(data), max_bytes))
    if not data:
        raise ImageInvalid("The file is empty.")

    with _open(data) as probe:
        if probe.format == "MPO":
            # A camera's multi-picture JPEG: keep the first picture only. The others carry
            # their own EXIF (GPS included) and nothing in the catalog shows them.
            data = _mpo_first_picture(data, probe)
    with _open(data) as probe:
        fmt = _allowed_format(probe)
        width, height = probe.size
        frames = _frame_count(probe)
        _check_pixels(width, height, frames, max_pixels)
        try:
            # verify() checks what load() does not (e.g. every PNG chunk CRC) and leaves the
            # image unusable, hence the second open below.
            probe.verify()
        except Exception as exc:
            raise ImageInvalid(_DAMAGED) from exc

    clean = _strip_location(data, fmt)

    with _open(clean) as im:
        if _allowed_format(im) != fmt or im.size != (width, height):
            raise ImageInvalid(_DAMAGED)
        thumbnail = _decode_and_thumbnail(im, fmt, frames, max_pixels)

    content_type, extension = ALLOWED_FORMATS[fmt]
    return PreparedImage(
        data=clean,
        content_type=content_type,
        extension=extension,
        width=width,
        height=height,
        byte_size=len(clean),
        sha256=hashlib.sha256(clean).hexdigest(),
        thumbnail=thumbnail,
        thumbnail_content_type="image/jpeg",
    )


def _too_large_message(size: int, limit: int) -> str:
    """Say how big the file is against the limit, in MB unless rounding would hide the difference."""
    mb = 1024 * 1024
    shown, allowed = f"{size / mb:.1f}", f"{limit / mb:.1f}"
    if shown == allowed:
        return f"The file is {size:,} bytes; the limit is {limit:,} bytes."
    return f"The file is {shown} MB; the limit is {allowed} MB."


def _open(data: bytes) -> Image.Image:
    """Open lazily (header only) with just the allowed decoders, mapping failures to ImageInvalid."""
    try:
        # MPO is how Pillow names a multi-picture JPEG; the JPEG opener returns it itself.
        return Image.open(io.BytesIO(data), formats=list(ALLOWED_FORMATS))
    except Image.DecompressionBombError as exc:
        raise ImageInvalid("The image has too many pixels.") from exc
    except Image.UnidentifiedImageError as exc:
        raise ImageInvalid(_NOT_AN_IMAGE) from exc
    except Exception as exc:
        raise ImageInvalid(_DAMAGED) from exc


def _allowed_format(im: Image.Image) -> str:
    """Return the allow-list name of the decoded format."""
    fmt = "JPEG" if im.format == "MPO" else im.format
    if fmt not in ALLOWED_FORMATS:
        raise ImageInvalid(_NOT_AN_IMAGE)
    return fmt


def _frame_count(im: Image.Image) -> int:
    """Count frames from headers only (no pixel decoding)."""
    try:
        frames = int(getattr(im, "n_frames", 1) or 1)
    except Exception as exc:
        raise ImageInvalid(_DAMAGED) from exc
    if frames > MAX_FRAMES:
        raise ImageInvalid(f"The animation has {frames:,} frames; the limit is {MAX_FRAMES:,}.")
    return frames


def _check_pixels(width: int, height: int, frames: int, max_pixels: int) -> None:
    """Refuse before decoding when the pixels to decode exceed the limit (bomb defence)."""
    if width <= 0 or height <= 0:
        raise ImageInvalid(_DAMAGED)
    if width * height * frames > max_pixels:
        what = f"{width:,} × {height:,} pixels" + (f" × {frames:,} frames" if frames > 1 else "")
        raise ImageInvalid(
            f"The image is too large: {what}; the limit is {max_pixels / 1e6:g} megapixels in all."
        )


def _decode_and_thumbnail(im: Image.Image, fmt: str, frames: int, max_pixels: int) -> bytes:
    """Decode every frame (proving the file is whole) and return a JPEG thumbnail of the first."""
    try:
        if fmt == "JPEG":
            # DCT scaling: libjpeg still entropy-decodes the whole file (so damage is caught)
            # but skips most of the inverse transform; 4-8x faster on camera photos.
            im.draft(None, (THUMBNAIL_SIZE * 2, THUMBNAIL_SIZE * 2))
        im.load()
        # After load(), so PNG chunks that follow the pixels have been read too.
        if _has_gps(im):
            # Fail closed: never publish coordinates we could not remove.
            raise ImageInvalid("The image's location data could not be removed.")
        thumbnail = _thumbnail(im)
        for index in range(1, frames):
            im.seek(index)
            # A GIF frame may grow the canvas; re-check before paying for the decode.
            _check_pixels(im.width, im.height, frames, max_pixels)
            im.load()
    except ImageInvalid:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageInvalid("The image has too many pixels.") from exc
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, EOFError...
        raise ImageInvalid(_DAMAGED) from exc
    return thumbnail


def _thumbnail(im: Image.Image) -> bytes:
    """Make an upright, sRGB, metadata-free JPEG no larger than THUMBNAIL_SIZE on its longest side."""
    icc = im.info.get("icc_profile")
    small = ImageOps.exif_transpose(im)
    small = _to_rgb(small)
    small.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.Resampling.LANCZOS)
    if icc:
        small = _to_srgb(small, icc)
    out = io.BytesIO()
    # No exif/icc arguments: Pillow writes none, so the thumbnail carries no metadata.
    small.save(out, "JPEG", quality=THUMBNAIL_QUALITY, optimize=True)
    return out.getvalue()


def _to_rgb(im: Image.Image) -> Image.Image:
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


def _to_srgb(im: Image.Image, icc: bytes) -> Image.Image:
    """Map colours from the source's ICC profile to sRGB, since the thumbnail carries no profile."""
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(im, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
    except Exception:
        # A broken or non-RGB profile: slightly wrong colours beat refusing the upload.
        return im
    return converted if converted is not None else im


def _has_gps(im: Image.Image) -> bool:
    """Tell whether Pillow still finds GPS in the EXIF or XMP it reads without decoding pixels."""
    exif = _exif_from_info(im.info)
    if exif is not None and _GPS_IFD in exif:
        return True
    return any(_XMP_GPS.search(packet) for packet in _xmp_packets(im.info))


def _exif_from_info(info: dict[Any, Any]) -> Image.Exif | None:
    """Parse the raw EXIF Pillow found in the headers (never triggers a pixel decode)."""
    raw = info.get("exif")
    if not raw and info.get("Raw profile type exif"):
        raw = _raw_profile_bytes(info["Raw profile type exif"])
    if not raw:
        return None
    return _parse_exif(raw)


def _parse_exif(raw: bytes) -> Image.Exif | None:
    """Parse EXIF bytes (with or without the Exif header); None when unreadable."""
    exif = Image.Exif()
    try:
        exif.load(raw)
    except Exception:
        return None
    return exif


def _xmp_packets(info: dict[Any, Any]) -> Iterator[bytes]:
    """Yield the XMP packets Pillow found, as bytes."""
    for key in ("xmp", "XML:com.adobe.xmp"):
        value = info.get(key)
        if isinstance(value, str):
            yield value.encode("utf-8", "replace")
        elif isinstance(value, bytes):
            yield value


def _raw_profile_bytes(text: str | bytes) -> bytes | None:
    """Decode an ImageMagick 'Raw profile type' text chunk: name, length, then hex lines."""
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    try:
        return bytes.fromhex("".join(text.split("\n")[3:]))
    except ValueError:
        return None


# --------------------------------------------------------------------------- location stripping
# Each container is rewritten at the chunk/segment level so the pixels are copied byte for byte:
# re-encoding a JPEG would lose quality and re-encoding a GIF could change its palette.
# XMP has no byte-safe editor here, so a packet that mentions GPS is dropped whole.


def _strip_location(data: bytes, fmt: str) -> bytes:
    """Return the bytes without EXIF GPS or GPS-bearing XMP; the same object when there was none."""
    try:
        if fmt == "JPEG":
            return _strip_jpeg(data)
        if fmt == "PNG":
            return _strip_png(data)
        if fmt == "WEBP":
            return _strip_webp(data)
        return _strip_gif(data)
    except (IndexError, ValueError, struct.error) as exc:
        raise ImageInvalid(_DAMAGED) from exc


def _clean_exif(raw: bytes) -> bytes | None:
    """Return the EXIF (with its 'Exif' header) minus the GPS IFD; None to keep as is, b"" to drop."""
    exif = _parse_exif(raw)
    if exif is None:
        # Unreadable to Pillow but perhaps not to a more lenient reader: it may hold GPS.
        return b""
    if _GPS_IFD not in exif:
        return None
    # Never get_ifd(GPS) first: tobytes() writes back any cached sub-IFD, deleted or not.
    del exif[_GPS_IFD]
    return exif.tobytes()


def _jpeg_segments(data: bytes) -> tuple[list[tuple[int, int, int]], int]:
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


def _strip_jpeg(data: bytes) -> bytes:
    """Rewrite only the APP1 EXIF/XMP segments; the scan data (the pixels) is copied untouched."""
    segments, scan = _jpeg_segments(data)
    xmp_has_gps = any(
        marker == 0xE1 and _is_xmp_segment(data[start + 4 : end]) and _XMP_GPS.search(data[start:end])
        for marker, start, end in segments
    )
    parts: list[bytes] = [b"\xff\xd8"]
    changed = False
    for marker, start, end in segments:
        payload = data[start + 4 : end]
        if marker == 0xE1 and payload.startswith(b"Exif\x00\x00"):
            cleaned = _clean_exif(payload)
            if cleaned is not None:
                if len(cleaned) + 2 > 0xFFFF:
                    raise ValueError("EXIF too large to rewrite")
                if cleaned:
                    parts.append(b"\xff\xe1" + struct.pack(">H", len(cleaned) + 2) + cleaned)
                changed = True
                continue
        elif marker == 0xE1 and xmp_has_gps and _is_xmp_segment(payload):
            changed = True  # drop the standard and every extended XMP segment
            continue
        parts.append(data[start:end])
    if not changed:
        return data
    parts.append(data[scan:])
    return b"".join(parts)


def _is_xmp_segment(payload: bytes) -> bool:
    """Tell whether an APP1 payload is standard or extended XMP."""
    return payload.startswith((b"http://ns.adobe.com/xap/1.0/\x00", b"http://ns.adobe.com/xmp/extension/\x00"))


def _mpo_first_picture(data: bytes, im: Image.Image) -> bytes:
    """Cut a multi-picture JPEG down to its first picture."""
    try:
        first = im.mpinfo[0xB002][0]  # type: ignore[attr-defined]
        size = int(first["Size"])
    except Exception as exc:
        raise ImageInvalid(_DAMAGED) from exc
    if not 0 < size <= len(data):
        raise ImageInvalid(_DAMAGED)
    try:
        segments, scan = _jpeg_segments(data[:size])
    except (IndexError, ValueError, struct.error) as exc:
        raise ImageInvalid(_DAMAGED) from exc
    # Its MPF index would still announce the dropped pictures.
    kept = [
        data[start:end]
        for marker, start, end in segments
        if not (marker == 0xE2 and data[start + 4 : start + 8] == b"MPF\x00")
    ]
    return b"\xff\xd8" + b"".join(kept) + data[scan:size]


def _png_chunks(data: bytes) -> Iterator[tuple[bytes, int, int]]:
    """Yield (type, start, end) of each PNG chunk."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("no PNG signature")
    pos = 8
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        end = pos + 12 + length
        if end > len(data):
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


def _strip_png(data: bytes) -> bytes:
    """Rewrite the eXIf chunk without GPS and drop GPS-bearing XMP or raw EXIF text chunks."""
    parts: list[bytes] = [data[:8]]
    changed = False
    end = 8
    for kind, start, end in _png_chunks(data):
        body = data[start + 8 : end - 4]
        if kind == b"eXIf":
            cleaned = _clean_exif(body)
            if cleaned is not None:
                if cleaned:
                    parts.append(_png_chunk(b"eXIf", cleaned[6:]))  # PNG stores it without "Exif\0\0"
                changed = True
                continue
        elif kind in (b"tEXt", b"zTXt", b"iTXt"):
            keyword, text = _png_text(kind, body, len(data) * 4 + 65536)
            if _png_text_has_gps(keyword, text):
                changed = True
                continue
        parts.append(data[start:end])
    if not changed:
        return data
    parts.append(data[end:])
    return b"".join(parts)


def _png_text_has_gps(keyword: bytes, text: bytes) -> bool:
    """Tell whether a PNG text chunk is XMP or raw EXIF that carries GPS."""
    if keyword == b"XML:com.adobe.xmp" or keyword.lower() == b"raw profile type xmp":
        return bool(_XMP_GPS.search(text))
    if keyword.lower() in (b"raw profile type exif", b"raw profile type app1"):
        raw = _raw_profile_bytes(text)
        exif = _parse_exif(raw) if raw else None
        # Unreadable raw EXIF may still hold GPS that some reader understands: drop it.
        return exif is None or _GPS_IFD in exif
    return False


def _strip_webp(data: bytes) -> bytes:
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
            cleaned = _clean_exif(body)
            if cleaned is not None:
                tiff = cleaned[6:]
                if tiff:
                    parts.append(struct.pack("<4sI", b"EXIF", len(tiff)) + tiff + b"\x00" * (len(tiff) & 1))
                else:
                    dropped_exif = True
                changed = True
                pos = end
                continue
        elif kind == b"XMP " and _XMP_GPS.search(body):
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


def _strip_gif(data: bytes) -> bytes:
    """Drop a GPS-bearing XMP application extension from a GIF (GIF has no EXIF)."""
    if not _XMP_GPS.search(data):
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
            if is_xmp and _XMP_GPS.search(data[start:pos]):
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


# --------------------------------------------------------------------------- read_metadata

_TITLE_MAX = 200
_DESCRIPTION_MAX = 2000
_AUTHOR_MAX = 200
_KEYWORDS_MAX = 20
_KEYWORD_MAX = 50
# Cameras write their own name as the description; it tells a person nothing.
_BOILERPLATE = re.compile(
    r"^(?:OLYMPUS DIGITAL CAMERA|SONY DSC|DIGITAL CAMERA|KODAK .* DIGITAL CAMERA|"
    r"SAMSUNG CAMERA PICTURES|MINOLTA DIGITAL CAMERA|DCIM|DEFAULT|IMAGE|PICTURE|"
    r"(?:Created|Processed) with .*)$",
    re.IGNORECASE,
)

_NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
    "exif": "http://ns.adobe.com/exif/1.0/",
    "xml": "http://www.w3.org/XML/1998/namespace",
}


def read_metadata(data: bytes) -> FileMetadata:
    """Read title, description, author, keywords and capture date from EXIF, IPTC and XMP."""
    try:
        im = Image.open(io.BytesIO(data), formats=list(ALLOWED_FORMATS))
    except Exception:
        # Including DecompressionBombError: prefill is a convenience, prepare_image judges.
        return FileMetadata()
    with im:
        try:
            return _read_metadata(im)
        except Exception:
            return FileMetadata()


def _read_metadata(im: Image.Image) -> FileMetadata:
    """Merge the sources, most specific first: XMP, then IPTC, then EXIF and Windows XP tags."""
    exif = _safe(lambda: _exif_from_info(im.info))
    iptc = _safe(lambda: _iptc(im)) or {}
    xmp = _safe(lambda: _xmp(im.info)) or {}
    ifd0: dict[int, Any] = dict(exif) if exif is not None else {}
    exif_ifd: dict[int, Any] = (_safe(lambda: dict(exif.get_ifd(_EXIF_IFD))) if exif is not None else None) or {}

    title = _first_text(
        _TITLE_MAX, xmp.get("title"), iptc.get((2, 5)), _xp(ifd0.get(0x9C9B)), _xp(ifd0.get(0x9C9F))
    )
    description = _first_text(
        _DESCRIPTION_MAX,
        xmp.get("description"),
        iptc.get((2, 120)),
        ifd0.get(0x010E),
        _xp(ifd0.get(0x9C9C)),
        skip_boilerplate=True,
    )
    author = _first_text(
        _AUTHOR_MAX, xmp.get("creator"), iptc.get((2, 80)), ifd0.get(0x013B), _xp(ifd0.get(0x9C9D))
    )
    keywords = _keywords(
        _as_list(xmp.get("subject")), _as_list(iptc.get((2, 25))), [_xp(ifd0.get(0x9C9E))]
    )
    capture_date = _first_date(
        exif_ifd.get(0x9003),  # DateTimeOriginal: when the shutter fired
        xmp.get("date"),
        iptc.get((2, 55)),
        exif_ifd.get(0x9004),  # DateTimeDigitized
        ifd0.get(0x0132),  # DateTime: last change, the weakest hint
    )
    return FileMetadata(
        title=title, description=description, author=author, keywords=keywords, capture_date=capture_date
    )


def _safe(read: Any) -> Any:
    """Run one metadata reader; odd metadata in one source must not hide the others."""
    try:
        return read()
    except Exception:
        return None


def _iptc(im: Image.Image) -> dict[tuple[int, int], Any] | None:
    """Read the IPTC-IIM records (JPEG Photoshop APP13)."""
    return IptcImagePlugin.getiptcinfo(im)  # type: ignore[arg-type]


def _as_list(value: Any) -> list[Any]:
    """Wrap a single value in a list; IPTC gives repeated datasets as lists."""
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _text(value: Any) -> str | None:
    """Decode bytes (UTF-8, else Latin-1), drop NULs and control characters, collapse whitespace."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
        if value is None:
            return None
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            value = value.decode("latin-1")
    if not isinstance(value, str):
        return None
    value = "".join(ch if ch.isprintable() else " " for ch in value.replace("\x00", ""))
    return " ".join(value.split()) or None


def _xp(value: Any) -> str | None:
    """Decode a Windows XP* tag: UTF-16LE, stored as bytes or as a tuple of byte values."""
    if value is None:
        return None
    if isinstance(value, (tuple, list)):
        value = bytes(value)
    if isinstance(value, bytes):
        value = value.decode("utf-16-le", "replace")
    return _text(value)


def _first_text(limit: int, *values: Any, skip_boilerplate: bool = False) -> str | None:
    """Return the first non-empty cleaned value, cut to limit characters."""
    for value in values:
        text = _text(value)
        if text and not (skip_boilerplate and _BOILERPLATE.match(text)):
            return text[:limit].rstrip()
    return None


def _keywords(*sources: Iterable[Any]) -> list[str]:
    """Merge keyword lists, splitting on , and ; (the catalog stores them comma-separated), deduped."""
    seen: set[str] = set()
    result: list[str] = []
    for source in sources:
        for value in source:
            text = _text(value)
            if not text:
                continue
            for part in re.split(r"[,;]", text):
                keyword = part.strip()[:_KEYWORD_MAX].strip()
                if keyword and keyword.casefold() not in seen:
                    seen.add(keyword.casefold())
                    result.append(keyword)
                    if len(result) == _KEYWORDS_MAX:
                        return result
    return result


_DATE = re.compile(r"^\s*(\d{4})[:\-]?(\d{2})[:\-]?(\d{2})(?:$|[\sT])")


def _first_date(*values: Any) -> str | None:
    """Return the first value that holds a real calendar date, as YYYY-MM-DD."""
    for value in values:
        text = _text(value)
        match = _DATE.match(text) if text else None
        if not match:
            continue
        try:
            day = _dt.date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            continue  # "0000:00:00 00:00:00" is what cameras write when the clock was never set
        if day.year >= 1800:
            return day.isoformat()
    return None


def _xmp(info: dict[Any, Any]) -> dict[str, Any]:
    """Read dc:title, dc:description, dc:creator, dc:subject and a creation date from XMP."""
    for packet in _xmp_packets(info):
        found = _parse_xmp(packet)
        if found:
            return found
    return {}


def _parse_xmp(packet: bytes) -> dict[str, Any]:
    """Parse one XMP packet with the standard library, refusing DTDs (defusedxml is not installed)."""
    # XMP never needs a DTD; refusing one closes entity-expansion and external-entity attacks.
    if re.search(rb"<!(?:DOCTYPE|ENTITY)", packet, re.IGNORECASE):
        return {}
    start = packet.find(b"<x:xmpmeta")
    if start < 0:
        start = packet.find(b"<rdf:RDF")
    if start < 0:
        return {}
    end_tag = b"</x:xmpmeta>" if packet[start:].startswith(b"<x:xmpmeta") else b"</rdf:RDF>"
    end = packet.find(end_tag, start)
    if end < 0:
        return {}
    try:
        root = ElementTree.fromstring(packet[start : end + len(end_tag)])
    except ElementTree.ParseError:
        return {}

    def qname(prefix: str, local: str) -> str:
        return f"{{{_NS[prefix]}}}{local}"

    values: dict[str, Any] = {}
    wanted = {
        qname("dc", "title"): "title",
        qname("dc", "description"): "description",
        qname("dc", "creator"): "creator",
        qname("dc", "subject"): "subject",
    }
    dates = [
        qname("exif", "DateTimeOriginal"),
        qname("photoshop", "DateCreated"),
        qname("xmp", "CreateDate"),
    ]
    found_dates: dict[str, str] = {}
    for description in root.iter(qname("rdf", "Description")):
        # Simple properties may be written as attributes of rdf:Description.
        for name, value in description.attrib.items():
            if name in wanted and wanted[name] not in values:
                values[wanted[name]] = [value]
            if name in dates:
                found_dates.setdefault(name, value)
        for child in description:
            if child.tag in wanted and wanted[child.tag] not in values:
                values[wanted[child.tag]] = _xmp_items(child, qname)
            elif child.tag in dates and child.text:
                found_dates.setdefault(child.tag, child.text)
    for key in ("title", "description", "creator"):
        if key in values:
            values[key] = values[key][0] if values[key] else None
    for name in dates:  # in order of preference
        if name in found_dates:
            values["date"] = found_dates[name]
            break
    return values


def _xmp_items(element: ElementTree.Element, qname: Any) -> list[str]:
    """Return the rdf:li texts of an XMP array (x-default first), or the element's own text."""
    items = list(element.iter(qname("rdf", "li")))
    if not items:
        return [element.text] if element.text and element.text.strip() else []
    lang = qname("xml", "lang")
    items.sort(key=lambda li: li.get(lang, "x-default") != "x-default")
    return [li.text for li in items if li.text and li.text.strip()]
