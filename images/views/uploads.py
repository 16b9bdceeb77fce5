"""The add page's uploads straight to S3: the browser asks for a presigned POST (the API's
route, images.catalog.upload_start) and posts the file to the storage endpoint with its own
progress bar as soon as it is chosen; the portal then reads what the stored file says about
itself (a ranged read of its head) to prefill the form, and registers it when the person saves,
verifying the stored object (type from the bytes, limits, location data removed) before the
image becomes visible. No file byte is sent to the portal.

A file already in the catalog (the same bytes, or the same pixels with other metadata) is not
added at once: the page shows the match and lets the person use the existing image (the upload
is discarded) or keep both (registered again with on_duplicate "keep")."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from common import errors
from images import catalog, media, objects
from images.forms import ImageMetaForm
from images.identity import actor_for
from images.views.common import added_json, form_errors, picture, public_picture, trash_picture


@login_required
@require_POST
def upload_start(request):
    """A presigned POST form for one file, for the signed-in person only."""
    upload = catalog.upload_start(actor_for(request.user))
    return JsonResponse({"url": upload.url, "fields": upload.fields, "upload_key": upload.key,
                         "max_bytes": upload.max_bytes, "expires_in": upload.expires_in}, status=201)


@login_required
@require_POST
def upload_metadata(request):
    """What a stored upload says about itself (EXIF/IPTC/XMP), to prefill its form."""
    try:
        found = catalog.upload_metadata(actor_for(request.user), request.POST.get("upload_key", ""))
    except (catalog.InvalidField, errors.PermissionDenied) as exc:
        return JsonResponse({"errors": {"upload_key": [exc.message]}}, status=400)
    return JsonResponse({
        "title": found.title or "",
        "description": found.description or "",
        "author": found.author or "",
        "keywords": ", ".join(found.keywords or ()),
        "capture_date": found.capture_date or "",
    })


@login_required
@require_POST
def upload_register(request):
    """Verify the file put under upload_key and register it with the form's metadata; a file
    already in the catalog is a 409 naming the match, unless on_duplicate is "keep"."""
    form = ImageMetaForm(request.POST)
    meta = form.apply_core() if form.is_valid() else None
    status = 400
    if meta is not None:
        actor = actor_for(request.user)
        try:
            record = catalog.image_create_from_upload(
                owner=actor, meta=meta, upload_key=request.POST.get("upload_key", ""),
                original_filename=request.POST.get("filename", ""),
                on_duplicate="keep" if request.POST.get("on_duplicate") == "keep" else "ask")
        except catalog.DuplicateImage as exc:
            return JsonResponse({"message": exc.message, "duplicate_of": duplicate_json(exc.duplicate, actor)},
                                status=409)
        except (media.ImageInvalid, media.ImageTooLarge) as exc:
            status = 413 if isinstance(exc, media.ImageTooLarge) else 400
            form.add_error(None, exc.message)
        except catalog.InvalidField as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        except errors.PermissionDenied as exc:
            form.add_error(None, exc.message)
        else:
            return added_json(record)
    # A form refused before the file was looked at leaves the upload in place for a corrected retry.
    return JsonResponse({"errors": form_errors(form), "message": "The image was not added.",
                         "upload_kept": meta is None}, status=status)


@login_required
@require_POST
def upload_discard(request):
    """Drop a stored upload the person chose not to add ("use the existing image")."""
    try:
        catalog.upload_discard(actor_for(request.user), request.POST.get("upload_key", ""))
    except (catalog.InvalidField, errors.PermissionDenied) as exc:
        return JsonResponse({"errors": {"upload_key": [exc.message]}}, status=400)
    return HttpResponse(status=204)


def duplicate_json(duplicate: catalog.Duplicate, actor: catalog.Actor) -> dict:
    """The match as the add page shows it: its thumbnail and renditions (a trashed one's only to
    its owner and staff, as the trash page does) and where to open it."""
    record = duplicate.record
    if duplicate.in_trash:
        visible = catalog.can_change(actor, record)
        thumbnail = reverse("images:trash_thumbnail", args=[record.id]) if visible else None
        link = reverse("images:trash") if visible else None
        shown = trash_picture(record) if visible else picture([])
    else:
        thumbnail, link = objects.public_url(record.thumbnail_key), reverse("images:change", args=[record.id])
        shown = public_picture(record)
    return {
        "id": record.id, "title": record.title, "creator": record.creator, "storage_date": record.storage_date,
        "match": duplicate.match, "in_trash": duplicate.in_trash, "thumbnail_url": thumbnail, "url": link,
        "picture": shown,
    }
