"""The trash (restore, purge, bulk restore) and an image's history, in the admin's habits."""

from __future__ import annotations

import io

from PIL import Image

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from common import errors
from images import catalog, media, objects
from images.identity import actor_for
from images.media import renditions
from images.views.common import qs, safe_next, trash_picture

def when(at: str) -> str:
    """An entry's ISO time as the pages show it: YYYY-MM-DD HH:MM:SS (UTC)."""
    return at[:19].replace("T", " ")


def recent_actions(request) -> list[dict]:
    """The signed-in person's latest changes, for the home page's "Recent actions" box."""
    items = catalog.recent_actions(actor=actor_for(request.user))
    return [{**item, "when": when(item["at"])[:16]} for item in items]


TRASH_ACTIONS = {"restore_selected": "Restore selected images", "purge_selected": "Purge selected images for good"}


@login_required
def trash_list(request):
    """The signed-in person's images in the trash (everyone's for staff), last deleted first."""
    actor = actor_for(request.user)
    cursor = request.GET.get("cursor") or None
    try:
        page = catalog.image_trash_list(actor=actor, limit=catalog.DEFAULT_PAGE_SIZE, cursor=cursor)
    except catalog.InvalidField:
        return HttpResponseRedirect(reverse("images:trash"))
    rows = [{"record": r, "id": r.id, "title": r.title, "creator": r.creator, "deleted_by": r.deleted_by,
             "deleted_at": r.deleted_at, "thumbnail_url": reverse("images:trash_thumbnail", args=[r.id]),
             "picture": trash_picture(r), "history_url": reverse("images:history", args=[r.id])} for r in page.items]
    actions = {k: v for k, v in TRASH_ACTIONS.items() if k != "purge_selected" or actor.is_staff}
    return render(request, "images/trash_list.html", {
        "rows": rows, "actions": actions.items(), "is_staff": actor.is_staff,
        "next_url": qs(cursor=page.next_cursor) if page.next_cursor else None,
        "retention_days": catalog.trash_retention_days(),
    })


@login_required
def trash_thumbnail(request, image_id: str):
    """A trashed image's thumbnail for its owner and staff (the trash is private: no public URL)."""
    try:
        record = catalog.trash_get(actor=actor_for(request.user), image_id=image_id)
        data = objects.get_object(record.thumbnail_key)
    except errors.NotFound as exc:
        raise Http404(exc.message) from exc
    reply = HttpResponse(data, content_type="image/jpeg")
    reply["Cache-Control"] = "private, no-store"
    return reply


@login_required
def trash_rendition(request, image_id: str, version: int, width: int, fmt: str):
    """A rendition of a trashed image's thumbnail (the trash page's srcset), for its owner and
    staff: drawn from the thumbnail (at most 320 px: milliseconds, not the original's seconds),
    never stored; the URL names the version, so the browser may keep it privately."""
    try:
        record = catalog.trash_get(actor=actor_for(request.user), image_id=image_id)
    except errors.NotFound as exc:
        raise Http404(exc.message) from exc
    extension = record.object_key.rsplit(".", 1)[-1]
    if (record.version != version or width not in renditions.widths_for(media.THUMBNAIL_SIZE)
            or fmt not in renditions.formats_for(extension)):
        raise Http404("No such rendition.")
    try:
        data = objects.get_object(record.thumbnail_key)
    except errors.NotFound as exc:
        raise Http404(exc.message) from exc
    with Image.open(io.BytesIO(data)) as im:  # the header only
        width = min(width, im.width)  # a thumbnail narrower than asked (a portrait): never upscaled
    body = renditions.render(io.BytesIO(data), width, fmt, max_pixels=media.THUMBNAIL_SIZE ** 2)
    reply = HttpResponse(body, content_type=renditions.FORMATS[fmt][1])
    reply["Cache-Control"] = "private, max-age=86400"
    return reply


@login_required
@require_POST
def trash_action(request):
    """Restore (owner or staff) or purge (staff) the selected images; purging asks first."""
    back = safe_next(request, reverse("images:trash"))
    actor = actor_for(request.user)
    action = request.POST.get("action", "")
    ids = list(dict.fromkeys(request.POST.getlist("_selected_action")))[: catalog.MAX_PAGE_SIZE]
    if request.POST.get("one"):  # a row's own Restore button
        action, ids = "restore_selected", [request.POST["one"]]
    if action not in TRASH_ACTIONS or not ids:
        messages.warning(request, "Choose an action and select one or more images first. Nothing was changed.")
        return HttpResponseRedirect(back)
    if action == "purge_selected" and not actor.is_staff:
        raise PermissionDenied("Only staff may purge images.")
    if action == "purge_selected" and request.POST.get("post") != "yes":
        records = []
        for image_id in ids:
            try:
                records.append(catalog.trash_get(actor=actor, image_id=image_id))
            except errors.NotFound:
                pass
        return render(request, "images/trash_purge.html", {"records": records, "next": back})
    done, failed = 0, []
    for image_id in ids:
        try:
            if action == "restore_selected":
                catalog.image_restore(actor=actor, image_id=image_id)
            else:
                catalog.image_purge(actor=actor, image_id=image_id)
            done += 1
        except errors.AppError as exc:
            if exc.status >= 500:
                raise  # AWS failing: the error page (503, nothing changed), as every other write
            failed.append(exc.message)
    verb = "restored" if action == "restore_selected" else "purged for good (their history is kept)"
    if done:
        messages.success(request, f"{done} image{'s' if done != 1 else ''} {verb}.")
    for message in dict.fromkeys(failed):
        messages.error(request, message)
    return HttpResponseRedirect(back)


@login_required
def image_history(request, image_id: str):
    """Every change of an image, oldest first, like the admin's History page."""
    actor = actor_for(request.user)
    try:
        page = catalog.history_page(actor=actor, image_id=image_id, limit=catalog.MAX_PAGE_SIZE,
                                    cursor=request.GET.get("cursor") or None)
    except catalog.InvalidField:
        return HttpResponseRedirect(reverse("images:history", args=[image_id]))
    except errors.NotFound as exc:
        raise Http404(exc.message) from exc
    current = catalog.current_or_none(image_id)
    title = current.title if current else next(
        (e["changes"]["title"][1] for e in reversed(page.items) if "title" in e["changes"]), image_id)
    entries = [{**e, "fields": sorted(e["changes"].items()), "when": when(e["at"])} for e in page.items]
    return render(request, "images/image_history.html", {
        "image_id": image_id, "title": title, "entries": entries, "current": current,
        "next_url": qs(cursor=page.next_cursor) if page.next_cursor else None,
    })
