"""What the image pages share: loading an image, a row of the change list, safe redirects,
reading an uploaded file."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404, JsonResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from common import errors
from common.config import get_config
from images import catalog, media, objects
from images.filenames import record_download_name
from images.catalog.serialise import rendition_urls
from images.media.renditions import FORMATS, formats_for, widths_for

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")


def wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def load(image_id: str):
    try:
        return catalog.image_get(image_id=image_id)
    except errors.NotFound as exc:
        raise Http404(exc.message) from exc


def thumb_size(record, box: int = media.THUMBNAIL_SIZE) -> tuple[int, int]:
    width, height = int(record.width or box), int(record.height or box)
    scale = min(1.0, box / max(width, height, 1))
    return max(1, round(width * scale)), max(1, round(height * scale))


def picture(renditions: list[dict]) -> dict:
    """The <picture>'s <source>s (AVIF, WebP) and its <img>'s fallback srcset, from rendition dicts
    (url, width, format); the markup is images/_picture.html."""
    by_format: dict[str, list[str]] = {}
    for r in renditions:
        by_format.setdefault(r["format"], []).append(f"{r['url']} {r['width']}w")
    fallback = [f for f in by_format if f not in ("avif", "webp")]
    return {
        "sources": [{"type": FORMATS[f][1], "srcset": ", ".join(by_format[f])} for f in ("avif", "webp") if f in by_format],
        "srcset": ", ".join(by_format[fallback[0]]) if fallback else "",
    }


def public_picture(record) -> dict:
    """A listed image's picture: its version's renditions, made on demand behind the images URL."""
    return picture(rendition_urls(record.object_key, int(record.width or 0)))


def trash_picture(record) -> dict:
    """A trashed image's picture: renditions of its thumbnail, which the portal draws for its
    owner and staff (the trash has no public URL; see views.trash.trash_rendition). The version
    is in the URL, so one URL always names the same picture."""
    extension = record.object_key.rsplit(".", 1)[-1]
    return picture([
        {"url": reverse("images:trash_rendition", args=[record.id, record.version, w, f]), "width": w, "format": f}
        for w in widths_for(thumb_size(record)[0]) for f in formats_for(extension)])


def row(record, actor) -> dict:
    thumb_w, thumb_h = thumb_size(record)
    return {
        "picture": public_picture(record),
        "record": record,
        "id": record.id,
        "title": record.title,
        "author": record.author,
        "creator": record.creator,
        "keywords": list(record.keywords),
        "capture_date": record.capture_date or "",
        "storage_date": record.storage_date,
        "object_url": objects.public_url(record.object_key),
        "thumbnail_url": objects.public_url(record.thumbnail_key),
        "thumb_width": thumb_w,
        "thumb_height": thumb_h,
        "can_change": catalog.can_change(actor, record),
        "change_url": reverse("images:change", args=[record.id]),
        "delete_url": reverse("images:delete", args=[record.id]),
        "download_url": reverse("images:download", args=[record.id]),
        "original_filename": record_download_name(record),
    }


def qs(**params) -> str:
    return "?" + urlencode({k: v for k, v in params.items() if v not in (None, "")})


def date_title(prefix: str) -> str:
    parts = prefix.split("-")
    if len(parts) == 1 or not parts[1].isdigit() or not 1 <= int(parts[1]) <= 12:
        return prefix
    month = MONTHS[int(parts[1]) - 1]
    if len(parts) == 2:
        return f"{month} {parts[0]}"
    return f"{month} {int(parts[2])}, {parts[0]}" if parts[2].isdigit() else prefix


def safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return fallback


# Files posted to the portal itself (the page without JavaScript): bigger ones go straight to
# S3 from the page with JavaScript (or the API), so no worker spends minutes on one request.
FORM_MAX_BYTES = 20 * 1024 * 1024


def read_upload(upload, form, field: str = "image") -> bytes | None:
    """The uploaded bytes, or None with an error on the form when the file is over the limit."""
    limit = min(get_config().image_max_bytes, FORM_MAX_BYTES)
    if upload.size is not None and upload.size > limit:
        bigger = " (bigger files: turn on JavaScript, and the page sends them straight to storage)" \
            if limit < get_config().image_max_bytes else ""
        form.add_error(field, f"This file has {upload.size / 1048576:.1f} MB; the limit is "
                              f"{limit / 1048576:.0f} MB{bigger}.")
        return None
    upload.seek(0)
    return upload.read()


def form_errors(form) -> dict:
    return {field or "__all__": [str(m) for m in msgs] for field, msgs in form.errors.items()}


def added_json(record) -> JsonResponse:
    """The add page's answer for one file it registered (either way of uploading it)."""
    return JsonResponse({
        "id": record.id, "title": record.title,
        "object_url": objects.public_url(record.object_key),
        "thumbnail_url": objects.public_url(record.thumbnail_key),
        "change_url": reverse("images:change", args=[record.id]),
        "message": f"“{record.title}” was added.",
    }, status=201)
