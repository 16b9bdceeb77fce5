"""Renditions: a file version redrawn at one of a fixed set of widths in one of a fixed set of
formats, made on first request and stored for good. Django-free (the render Lambda imports it).

Key scheme: renditions/<id>/<token>.<ext>/<width>.<format>, where images/<id>/<token>.<ext> is
the version's own immutable key. So a rendition's URL never gets other bytes, the render
function finds the original from the path alone, and a version's renditions share one prefix.

The set: WIDTHS × (webp, avif, and one fallback: jpg for a JPEG original, png for the others,
which may carry transparency). A width is the upright picture's width (EXIF orientation
applied). A width over the stored original's width is not in its set (404, nothing is made);
nothing is upscaled: a quarter-turned picture (EXIF orientation 5-8) asked for a width between
its upright width and its stored width gets its upright width.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image, ImageOps

from images.media.base import ALLOWED_FORMATS, DAMAGED, NOT_AN_IMAGE, ImageInvalid, decoding
from images.media.verify import check_pixels, frame_count, to_rgb, to_srgb

RENDITIONS_PREFIX = "renditions/"
WIDTHS = (160, 320, 640, 1280, 2560)
# format in the key -> (Pillow format, content type, save options). Qualities chosen for
# photographs at phone and desktop sizes; metadata is never written (no exif/icc arguments).
FORMATS: dict[str, tuple[str, str, dict]] = {
    "webp": ("WEBP", "image/webp", {"quality": 80, "method": 4}),
    "avif": ("AVIF", "image/avif", {"quality": 60, "speed": 6}),
    "jpg": ("JPEG", "image/jpeg", {"quality": 82, "optimize": True, "progressive": True}),
    "png": ("PNG", "image/png", {"optimize": True}),
}
_ID = r"[A-Za-z0-9_-]{1,64}"
_KEY = re.compile(rf"{RENDITIONS_PREFIX}(?P<id>{_ID})/(?P<token>{_ID})\.(?P<ext>[a-z]{{3,4}})/(?P<width>[0-9]{{1,5}})\.(?P<format>[a-z]{{3,4}})")
_EXTENSIONS = {ext for _, ext in ALLOWED_FORMATS.values()}
# Orientations that turn the stored picture a quarter turn (width and height swap).
_QUARTER_TURNS = {5, 6, 7, 8}
_EXIF_ORIENTATION = 0x0112


class NotOffered(ValueError):
    """The path names no rendition of the fixed set (a 404: nothing is rendered)."""


@dataclass(frozen=True)
class Rendition:
    """What one rendition key names."""

    image_id: str
    token: str
    extension: str  # the original's
    width: int
    format: str  # a key of FORMATS

    @property
    def key(self) -> str:
        return rendition_key(f"images/{self.image_id}/{self.token}.{self.extension}", self.width, self.format)

    @property
    def original_key(self) -> str:
        return f"images/{self.image_id}/{self.token}.{self.extension}"

    @property
    def content_type(self) -> str:
        return FORMATS[self.format][1]


def fallback_format(extension: str) -> str:
    """The format for browsers without WebP/AVIF: JPEG for a JPEG, PNG for what may be transparent."""
    return "jpg" if extension == "jpg" else "png"


def formats_for(extension: str) -> tuple[str, ...]:
    """The formats offered for an original with this extension, best first."""
    return ("avif", "webp", fallback_format(extension))


def widths_for(original_width: int) -> tuple[int, ...]:
    """The widths offered for an original this wide (as stored, as the record says): never wider."""
    return tuple(w for w in WIDTHS if w <= original_width)


def rendition_key(original_key: str, width: int, fmt: str) -> str:
    """The key of one rendition of the version stored at original_key (images/<id>/<token>.<ext>)."""
    if not original_key.startswith("images/"):
        raise ValueError(f"not an image key: {original_key}")
    return f"{RENDITIONS_PREFIX}{original_key.removeprefix('images/')}/{width}.{fmt}"


def renditions_prefix(original_key: str) -> str:
    """The prefix every rendition of this version is stored under (for purge and trash)."""
    return f"{RENDITIONS_PREFIX}{original_key.removeprefix('images/')}/"


def all_keys(original_key: str) -> list[str]:
    """Every key a rendition of this version may have (the whole fixed set: 15), for removal
    without listing the bucket."""
    extension = original_key.rsplit(".", 1)[-1]
    return [rendition_key(original_key, w, f) for w in WIDTHS for f in formats_for(extension)]


def parse_key(key: str) -> Rendition:
    """Read a rendition key; NotOffered when it is outside the fixed set."""
    match = _KEY.fullmatch(key)
    if not match:
        raise NotOffered("not a rendition path")
    ext, width, fmt = match["ext"], int(match["width"]), match["format"]
    if ext not in _EXTENSIONS:
        raise NotOffered("not an image version")
    if width not in WIDTHS:
        raise NotOffered(f"width {width} is not one of {', '.join(map(str, WIDTHS))}")
    if fmt not in formats_for(ext):
        raise NotOffered(f"format {fmt} is not one of {', '.join(formats_for(ext))}")
    return Rendition(match["id"], match["token"], ext, width, fmt)


def upright_size(im: Image.Image) -> tuple[int, int]:
    """The picture's size once its EXIF orientation is applied (from the header: no decode)."""
    try:
        orientation = im.getexif().get(_EXIF_ORIENTATION)
    except Exception:
        orientation = None
    return (im.height, im.width) if orientation in _QUARTER_TURNS else im.size


def render(source: BinaryIO, width: int, fmt: str, *, max_pixels: int) -> bytes:
    """Draw the seekable original at `width` (upright) in `fmt`; ImageInvalid for what verification
    refuses, NotOffered when it is narrower than `width`. Memory: one decoded picture, once."""
    pil_format, _, options = FORMATS[fmt]
    try:
        im = Image.open(source, formats=list(ALLOWED_FORMATS))
    except Image.UnidentifiedImageError as exc:
        raise ImageInvalid(NOT_AN_IMAGE) from exc
    except Exception as exc:
        raise ImageInvalid(DAMAGED) from exc
    with im:
        check_pixels(im.width, im.height, frame_count(im), max_pixels)
        if width > im.width:
            raise NotOffered(f"the original is {im.width} pixels wide, narrower than {width}")
        up_w, up_h = upright_size(im)
        width = min(width, up_w)
        height = max(1, round(up_h * width / up_w))
        # The target in the stored (not yet turned) orientation.
        raw = (width, height) if (up_w, up_h) == im.size else (height, width)
        with decoding():
            if im.format in ("JPEG", "MPO"):
                # DCT scaling: decode at the smallest 1/8..1/1 scale still at least twice the target.
                im.draft("RGB", (raw[0] * 2, raw[1] * 2))
            im.load()
            small = _shrink(im, raw, keep_alpha=fmt != "jpg")
    out = io.BytesIO()
    small.save(out, pil_format, **options)
    return out.getvalue()


def _has_alpha(im: Image.Image) -> bool:
    return im.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
        im.mode in ("P", "L", "RGB") and "transparency" in im.info)


def _shrink(im: Image.Image, raw: tuple[int, int], *, keep_alpha: bool) -> Image.Image:
    """Reduce by a whole factor a strip of rows at a time (box filter, still at least twice the
    target), then resample (Lanczos), turn upright and map colours to sRGB."""
    alpha = keep_alpha and _has_alpha(im)
    mode = "RGBA" if alpha else "RGB"

    def convert(part: Image.Image) -> Image.Image:
        return part.convert("RGBA") if alpha else to_rgb(part)

    factor = min(im.width // (raw[0] * 2), im.height // (raw[1] * 2))
    if factor < 2:
        reduced = convert(im)
    else:
        rows = factor * max(1, (4 << 20) // (im.width * 4 * factor))
        reduced = Image.new(mode, (-(-im.width // factor), -(-im.height // factor)))
        for top in range(0, im.height, rows):
            strip = im.crop((0, top, im.width, min(im.height, top + rows)))
            reduced.paste(convert(strip).reduce(factor), (0, top // factor))
    small = reduced.resize(raw, Image.Resampling.LANCZOS)
    small.info = dict(im.info)  # the orientation, for exif_transpose
    small = ImageOps.exif_transpose(small)
    icc = im.info.get("icc_profile")
    if icc:
        if alpha:
            rgb = to_srgb(small.convert("RGB"), icc)
            rgb.putalpha(small.getchannel("A"))
            small = rgb
        else:
            small = to_srgb(small, icc)
    small.info = {}
    return small
