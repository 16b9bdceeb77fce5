"""The add page's uploads straight to S3: the browser asks for a presigned POST (the API's
route, images.catalog.upload_start), posts the file to the storage endpoint with its own
progress bar, then registers it here; the server verifies the stored object (type from the
bytes, limits, location data removed) before the image becomes visible. No file byte passes
through the portal."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.views.decorators.http import require_POST

from common import errors
from images import catalog, media
from images.forms import ImageMetaForm
from images.identity import actor_for
from images.views.common import added_json, form_errors


@login_required
@require_POST
def upload_start(request):
    """A presigned POST form for one file, for the signed-in person only."""
    upload = catalog.upload_start(actor_for(request.user))
    return JsonResponse({"url": upload.url, "fields": upload.fields, "upload_key": upload.key,
                         "max_bytes": upload.max_bytes, "expires_in": upload.expires_in}, status=201)


@login_required
@require_POST
def upload_register(request):
    """Verify the file put under upload_key and register it with the form's metadata."""
    form = ImageMetaForm(request.POST)
    meta = form.apply_core() if form.is_valid() else None
    status = 400
    if meta is not None:
        try:
            record = catalog.image_create_from_upload(
                owner=actor_for(request.user), meta=meta, upload_key=request.POST.get("upload_key", ""),
                original_filename=request.POST.get("filename", ""))
        except (media.ImageInvalid, media.ImageTooLarge) as exc:
            status = 413 if isinstance(exc, media.ImageTooLarge) else 400
            form.add_error(None, exc.message)
        except catalog.InvalidField as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        except errors.PermissionDenied as exc:
            form.add_error(None, exc.message)
        else:
            return added_json(record)
    return JsonResponse({"errors": form_errors(form), "message": "The image was not added."}, status=status)
