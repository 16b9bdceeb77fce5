"""Add, change and delete one image, in the admin's habits (messages, save and continue, conflicts
shown, never overwritten)."""

from __future__ import annotations

import hashlib
import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import redirect, render

from common import errors
from images import catalog, media
from images.catalog import idempotency
from images.forms import META_FIELDS, AddImageForm, ChangeImageForm
from images.identity import actor_for
from images.views.common import added_json, form_errors, load, read_upload, row, wants_json
from images.views.uploads import duplicate_json

log = logging.getLogger(__name__)

@login_required
def image_add(request):
    """One image without JavaScript; with it, one POST per file answered in JSON."""
    json_wanted = wants_json(request)
    duplicate = None
    if request.method == "POST":
        form = AddImageForm(request.POST, request.FILES)
        record, too_large = None, False
        if form.is_valid():
            upload = form.cleaned_data["image"]
            data = read_upload(upload, form)
            too_large = data is None
            if data is not None:
                # Without JavaScript nothing was prefilled: empty fields take the file's own metadata.
                file_meta = None if json_wanted else media.read_metadata(data[:media.METADATA_HEAD_BYTES])
                meta = form.apply_core(file_meta=file_meta)
                if meta is not None:
                    try:
                        record = _create_once(request, form, meta, data, upload.name or "",
                                              "keep" if json_wanted else _on_duplicate(request))
                    except catalog.DuplicateImage as exc:
                        duplicate = _ask_about(form, exc, actor_for(request.user))
                    except (media.ImageInvalid, media.ImageTooLarge) as exc:
                        too_large = isinstance(exc, media.ImageTooLarge)
                        form.add_error("image", exc.message)
                    except catalog.InvalidField as exc:
                        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
                    except (idempotency.IdempotencyKeyReused, idempotency.IdempotencyInProgress):
                        form.add_error(None, "This form was already sent and is saved (or being saved): open "
                                             "the list to see it, or reload this page to add another image.")
        if record is not None:
            if json_wanted:
                return added_json(record)
            messages.success(request, f"The image “{record.title}” was added.")
            if "_addanother" in request.POST:
                return redirect("images:add")
            return redirect("images:list")
        if json_wanted:
            return JsonResponse({"errors": form_errors(form), "message": "The image was not added."},
                                status=413 if too_large else 400)
    else:
        form = AddImageForm()
    return render(request, "images/image_add.html", {"form": form, "meta_fields": META_FIELDS,
                                                     "duplicate": duplicate})


def _on_duplicate(request) -> str:
    """The forms store a file already in the catalog only once the person ticked "Keep both"
    (the add page's JavaScript asks the same question after the upload, see views.uploads)."""
    return "keep" if request.POST.get("on_duplicate") == "keep" else "refuse"


def _ask_about(form, exc: catalog.DuplicateImage, actor: catalog.Actor) -> dict:
    """Nothing was stored: the file field says so and the page shows the match to choose."""
    form.add_error("image", f"Already in the catalog: this is {exc.duplicate.describe()}. Nothing was stored: "
                            "use the existing image, or tick “Keep both”, choose the file again and save.")
    return duplicate_json(exc.duplicate, actor)


def _create_once(request, form, meta, data: bytes, filename: str, on_duplicate: str):
    """Create the image once per form token and file, however often the form is sent."""
    actor = actor_for(request.user)

    def create(image_id=None) -> dict:
        return {"id": catalog.image_create(owner=actor, meta=meta, data=data, original_filename=filename,
                                           on_duplicate=on_duplicate, image_id=image_id).id}

    token = form.cleaned_data.get("request_token")
    if not token:
        return catalog.image_get(image_id=create()["id"])
    digest = hashlib.sha256(data).hexdigest()
    key = f"{token}.{digest[:32]}"
    image_id = catalog.request_image_id("portal_add", actor.sub, key)  # one image per token and file
    payload = {"meta": [meta.title, meta.description, list(meta.keywords), meta.author, meta.capture_date],
               "filename": filename}
    answer = idempotency.once(scope=actor.sub, operation="portal_add", key=key,
                              payload=payload, run=lambda: create(image_id))
    return catalog.image_get(image_id=answer["id"])


@login_required
def image_change(request, image_id: str):
    """Edit metadata and replace the file; a conflict shows the other person's version."""
    record = load(image_id)
    actor = actor_for(request.user)
    allowed = catalog.can_change(actor, record)
    conflict = duplicate = None
    if request.method == "POST":
        if not allowed:
            raise PermissionDenied("Only the image's owner or staff may change it.")
        form = ChangeImageForm(request.POST, request.FILES)
        if form.is_valid():
            meta = form.apply_core()
            upload = form.cleaned_data.get("image")
            data = read_upload(upload, form) if upload else None
            if meta is not None and not form.errors:
                try:
                    updated = catalog.image_update(
                        actor=actor, image_id=record.id, meta=meta,
                        expected_version=form.cleaned_data["version"], data=data,
                        original_filename=(upload.name or "") if upload else None,
                        on_duplicate=_on_duplicate(request),
                    )
                except catalog.DuplicateImage as exc:
                    duplicate = _ask_about(form, exc, actor)
                except catalog.ImageConflict as exc:
                    log.info("conflict: image %s was changed by someone else first", record.id)
                    conflict = exc.current
                    record = exc.current
                    messages.error(request, exc.message)
                    # Keep the person's edits; the version is now theirs, so saving again is deliberate.
                    form = ChangeImageForm({**request.POST.dict(), "version": conflict.version})
                    form.is_valid()
                except (media.ImageInvalid, media.ImageTooLarge) as exc:
                    form.add_error("image", exc.message)
                except catalog.InvalidField as exc:
                    form.add_error(exc.field if exc.field in form.fields else None, exc.message)
                else:
                    replaced = updated.object_key != record.object_key
                    note = " and its file was replaced" if replaced else ""
                    messages.success(request, f"The image “{updated.title}” was changed{note}.")
                    if "_continue" in request.POST:
                        return redirect("images:change", image_id=updated.id)
                    return redirect("images:list")
    else:
        form = ChangeImageForm(initial=ChangeImageForm.initial_from(record)) if allowed else None
    context = {
        "row": row(record, actor),
        "record": record,
        "form": form,
        "allowed": allowed,
        "conflict": row(conflict, actor) if conflict else None,
        "duplicate": duplicate,
    }
    return render(request, "images/image_change.html", context)


@login_required
def image_delete(request, image_id: str):
    """A confirmation page showing what will go; POST deletes."""
    record = load(image_id)
    actor = actor_for(request.user)
    if not catalog.can_change(actor, record):
        raise PermissionDenied("Only the image's owner or staff may delete it.")
    if request.method == "POST":
        version = request.POST.get("version")
        try:
            done = catalog.image_delete(actor=actor, image_id=record.id,
                                        expected_version=int(version) if version and version.isdigit() else None)
        except catalog.ImageConflict as exc:
            log.info("conflict: image %s was changed by someone else before its deletion", record.id)
            messages.error(request, exc.message)
            return redirect("images:change", image_id=record.id)
        except errors.NotFound:
            messages.info(request, "That image was already deleted.")
            return redirect("images:list")
        if done:
            messages.success(request, f"The image “{record.title}” was moved to the trash.")
        else:
            messages.warning(request, f"The image “{record.title}” was moved to the trash; taking its file off "
                                      "its public URL is still pending and will finish shortly.")
        return redirect("images:list")
    return render(request, "images/image_delete.html", {"row": row(record, actor), "record": record})
