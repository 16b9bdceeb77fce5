"""What the parts of images.media share: errors, the allowed formats, results, and raw EXIF/XMP
readers that never decode pixels. Django-free."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from PIL import Image

from common.errors import InvalidInput, TooLarge


class ImageInvalid(InvalidInput):
    """The bytes are not an acceptable image: unsupported, damaged, or too many pixels."""

    code = "image_invalid"
    default_message = "This file is not a JPEG, PNG, GIF or WebP image."


@contextlib.contextmanager
def decoding() -> Iterator[None]:
    """Pillow's errors while decoding become ImageInvalid: too many pixels, or a damaged file
    (Pillow raises OSError, SyntaxError, ValueError, EOFError... for those)."""
    try:
        yield
    except ImageInvalid:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageInvalid("The image has too many pixels.") from exc
    except Exception as exc:
        raise ImageInvalid(DAMAGED) from exc


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

NOT_AN_IMAGE = "This file is not a JPEG, PNG, GIF or WebP image."
DAMAGED = "The image file is damaged or incomplete."
GPS_IFD = 0x8825
EXIF_IFD = 0x8769
# An XMP packet mentioning any GPS* property (exif:GPSLatitude, exifEX:GPS..., any prefix).
XMP_GPS = re.compile(rb"[:<\s\"']GPS[A-Z][A-Za-z]*")


@dataclass(frozen=True)
class PreparedImage:
    """A verified image ready to store: a file without GPS (read it from offset 0), its real
    type, size, hash and thumbnail."""

    file: BinaryIO
    content_type: str
    extension: str
    width: int
    height: int
    byte_size: int
    sha256: str
    thumbnail: bytes
    thumbnail_content_type: str
    pixel_hash: str = ""  # sha256 of the decoded pixels (duplicate detection)

    @property
    def data(self) -> bytes:
        """The file's bytes, whole: for a small file verified from a request's bytes."""
        self.file.seek(0)
        return self.file.read()


@dataclass(frozen=True)
class FileMetadata:
    """What the file itself says about the picture, for prefilling forms; any field may be empty."""

    title: str | None = None
    description: str | None = None
    author: str | None = None
    keywords: list[str] = field(default_factory=list)
    capture_date: str | None = None


def has_gps(im: Image.Image) -> bool:
    """Tell whether Pillow still finds GPS in the EXIF or XMP it reads without decoding pixels."""
    exif = exif_from_info(im.info)
    if exif is not None and GPS_IFD in exif:
        return True
    return any(XMP_GPS.search(packet) for packet in xmp_packets(im.info))


def exif_from_info(info: dict[Any, Any]) -> Image.Exif | None:
    """Parse the raw EXIF Pillow found in the headers (never triggers a pixel decode)."""
    raw = info.get("exif")
    if not raw and info.get("Raw profile type exif"):
        raw = raw_profile_bytes(info["Raw profile type exif"])
    if not raw:
        return None
    return parse_exif(raw)


def parse_exif(raw: bytes) -> Image.Exif | None:
    """Parse EXIF bytes (with or without the Exif header); None when unreadable."""
    exif = Image.Exif()
    try:
        exif.load(raw)
    except Exception:
        return None
    return exif


def xmp_packets(info: dict[Any, Any]) -> Iterator[bytes]:
    """Yield the XMP packets Pillow found, as bytes."""
    for key in ("xmp", "XML:com.adobe.xmp"):
        value = info.get(key)
        if isinstance(value, str):
            yield value.encode("utf-8", "replace")
        elif isinstance(value, bytes):
            yield value


def raw_profile_bytes(text: str | bytes) -> bytes | None:
    """Decode an ImageMagick 'Raw profile type' text chunk: name, length, then hex lines."""
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    try:
        return bytes.fromhex("".join(text.split("\n")[3:]))
    except ValueError:
        return None


def clean_exif(raw: bytes) -> bytes | None:
    """Return the EXIF (with its 'Exif' header) minus the GPS IFD; None to keep as is, b"" to drop."""
    exif = parse_exif(raw)
    if exif is None:
        # Unreadable to Pillow but perhaps not to a more lenient reader: it may hold GPS.
        return b""
    if GPS_IFD not in exif:
        return None
    # Never get_ifd(GPS) first: tobytes() writes back any cached sub-IFD, deleted or not.
    del exif[GPS_IFD]
    return exif.tobytes()
