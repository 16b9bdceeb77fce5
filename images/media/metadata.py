"""What a file says about its picture (EXIF, IPTC, XMP), for prefilling forms. Django-free."""

from __future__ import annotations

import datetime as _dt
import io
import re
from collections.abc import Iterable
from typing import Any
from xml.etree import ElementTree

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as DefusedElementTree
from PIL import Image, IptcImagePlugin

from images.limits import LIMITS, MAX_KEYWORDS
from images.media.base import (
    ALLOWED_FORMATS,
    EXIF_IFD,
    FileMetadata,
    exif_from_info,
    xmp_packets,
)

_TITLE_MAX = LIMITS["title"]
_DESCRIPTION_MAX = LIMITS["description"]
_AUTHOR_MAX = LIMITS["author"]
_KEYWORDS_MAX = MAX_KEYWORDS
_KEYWORD_MAX = LIMITS["keyword"]
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


# EXIF, IPTC and XMP sit near the start of a file: how much of it a form prefill reads.
METADATA_HEAD_BYTES = 2 * 1024 * 1024


def read_metadata(data: bytes) -> FileMetadata:
    """Read title, description, author, keywords and capture date from EXIF, IPTC and XMP (in
    the first METADATA_HEAD_BYTES of a file, for a prefill)."""
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
    exif = _safe(lambda: exif_from_info(im.info))
    iptc = _safe(lambda: _iptc(im)) or {}
    xmp = _safe(lambda: _xmp(im.info)) or {}
    ifd0: dict[int, Any] = dict(exif) if exif is not None else {}
    exif_ifd: dict[int, Any] = (_safe(lambda: dict(exif.get_ifd(EXIF_IFD))) if exif is not None else None) or {}

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
    for packet in xmp_packets(info):
        found = parse_xmp(packet)
        if found:
            return found
    return {}


def parse_xmp(packet: bytes) -> dict[str, Any]:
    """Parse one XMP packet, which comes from an uploaded file and so is untrusted, with
    defusedxml: a DTD (XMP never needs one; it carries entity-expansion "billion laughs" and
    external-entity attacks) is refused, and so is the packet ({} back)."""
    start = packet.find(b"<x:xmpmeta")
    if start < 0:
        start = packet.find(b"<rdf:RDF")
    if start < 0:
        return {}
    end_tag = b"</x:xmpmeta>" if packet[start:].startswith(b"<x:xmpmeta") else b"</rdf:RDF>"
    end = packet.find(end_tag, start)
    if end < 0:
        return {}
    # From the packet's first markup (its <?xpacket?> and any DOCTYPE, which defusedxml then
    # refuses) to the end of the metadata; what trails the packet is padding.
    first = packet.find(b"<")
    try:
        root = DefusedElementTree.fromstring(packet[first : end + len(end_tag)], forbid_dtd=True)
    except DefusedXmlException:
        return {}  # a DTD, entities or an external reference: the whole packet is refused
    except ElementTree.ParseError:
        try:  # junk before the metadata: parse the metadata alone
            root = DefusedElementTree.fromstring(packet[start : end + len(end_tag)], forbid_dtd=True)
        except (ElementTree.ParseError, DefusedXmlException):
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
