"""The names people gave their files: cleaned once when an image is stored, and turned into
download names (Content-Disposition, zip entries). Pure functions; Django-free."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from images.limits import LIMITS

MAX_CHARS = LIMITS["filename"]
# Most file systems cap a name at 255 bytes of UTF-8.
MAX_BYTES = 255
FALLBACK = "image"
# Unicode categories dropped outright: controls, format characters (the bidirectional
# overrides U+202A-202E and isolates U+2066-2069, zero-width characters), surrogates,
# private-use and unassigned code points, line and paragraph separators.
_DROP = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
# Characters Windows refuses in names; replaced so a downloaded or unzipped file keeps its name.
_RESERVED = re.compile(r'[<>:"|?*]')
_WINDOWS_DEVICES = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\.|$)", re.IGNORECASE)
# What JPEG, PNG, GIF and WebP files are called, by the extension the catalog stores.
_SAME_TYPE = {"jpg": {"jpg", "jpeg", "jpe", "jfif"}, "png": {"png"}, "gif": {"gif"}, "webp": {"webp"}}


def clean_filename(name: object, *, fallback: str = FALLBACK) -> str:
    """A file name safe to store and show: the last path part, NFC, without control or
    bidirectional-override characters, no leading dots, at most MAX_CHARS characters and
    MAX_BYTES UTF-8 bytes (the extension kept); `fallback` when nothing is left."""
    if not isinstance(name, str):
        return fallback
    name = re.split(r"[/\\]", name)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(" " if ch.isspace() else ch for ch in name)  # tabs and newlines too
    name = "".join(ch for ch in name if unicodedata.category(ch) not in _DROP)
    name = _RESERVED.sub("_", " ".join(name.split()))
    name = name.strip(" .")  # a leading dot hides a file; Windows drops trailing dots and spaces
    if _WINDOWS_DEVICES.match(name):
        name = "_" + name
    name = _cap(name)
    return name if name and name not in (".", "..") else fallback


def _cap(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or len(ext) > 10:
        stem, dot, ext = name, "", ""
    tail = dot + ext
    while stem and (len(stem) + len(tail) > MAX_CHARS or len((stem + tail).encode()) > MAX_BYTES):
        stem = stem[:-1]
    stem = stem.rstrip(" .")
    return stem + tail if stem else ext[:MAX_CHARS]


def download_name(original: str, *, extension: str, fallback: str) -> str:
    """The name to save a file under: the original name, with the real type's extension
    appended when the original's does not match (a PNG sent as "x.jpg" saves as "x.jpg.png")."""
    name = clean_filename(original, fallback="")
    if not name:
        return fallback
    ext = name.rpartition(".")[2].lower() if "." in name else ""
    if ext not in _SAME_TYPE.get(extension, {extension}):
        name = _cap(f"{name}.{extension}")
    return name


class UniqueNames:
    """Hands out names unique case-insensitively (zip entries, files in one folder): the
    second "a.jpg" becomes "a (2).jpg"."""

    def __init__(self):
        self._taken: set[str] = set()

    def take(self, name: str) -> str:
        candidate, n = name, 1
        while candidate.casefold() in self._taken:
            n += 1
            stem, dot, ext = name.rpartition(".")
            candidate = f"{stem} ({n}).{ext}" if dot and stem else f"{name} ({n})"
        self._taken.add(candidate.casefold())
        return candidate


def stored_download_name(original_filename: str | None, filename: str) -> str:
    """The name a stored file downloads as: its original name, else its stored name "<id>.<ext>"."""
    return download_name(original_filename or "", extension=filename.rpartition(".")[2], fallback=filename)


def record_download_name(record) -> str:
    """The name an image record's file downloads as (see stored_download_name)."""
    return stored_download_name(record.original_filename, record.filename)


def unique_names(names: list[str]) -> list[str]:
    """The names, each made unique among them (see UniqueNames)."""
    taken = UniqueNames()
    return [taken.take(name) for name in names]


def content_disposition(name: str, *, disposition: str = "attachment") -> str:
    """A Content-Disposition value per RFC 6266: an ASCII `filename` for old clients and
    `filename*` (RFC 8187, UTF-8) whenever the name is not plain ASCII."""
    # Each character's ASCII letters ("é" -> "e"), "_" for one without any ("ß", "写").
    ascii_name = "".join(unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode() or "_" for ch in name)
    ascii_name = re.sub(r'[^A-Za-z0-9 ._()\-+,=@~]', "_", ascii_name).strip() or "download"
    value = f'{disposition}; filename="{ascii_name}"'
    if ascii_name != name:
        value += f"; filename*=UTF-8''{quote(name, safe='')}"
    return value
