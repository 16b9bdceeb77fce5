"""Bulk actions on the selected images of the change list."""

from __future__ import annotations

from datetime import datetime, timezone

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from common import errors
from images import catalog, exports
from images.forms import KeywordsForm, SetAuthorForm
from images.identity import actor_for
from images.views.common import row, safe_next
from images.views.exports import start as start_export

ACTIONS = {
    "delete_selected": "Delete selected images",
    "set_author": "Set the author of selected images",
    "add_keywords": "Add keywords to selected images",
    "remove_keywords": "Remove keywords from selected images",
    "export_csv": "Export metadata of selected images (CSV)",
    "download_zip": "Download selected image files (zip)",
}


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")


def _apply(action: str, actor, record, value, version: int) -> None:
    """One image's share of a bulk action: one catalog call, conditional on the version shown."""
    if action == "delete_selected":
        catalog.image_delete(actor=actor, image_id=record.id, expected_version=version)
    else:
        catalog.image_bulk_change(actor=actor, image_id=record.id, action=action, value=value,
                                  expected_version=version)


def _shown_version(request, record) -> int:
    """The version the confirmation page showed (a change saved since is a conflict), or the
    one just read when the page was skipped (a form posted straight with post=yes)."""
    shown = request.POST.get(f"version_{record.id}", "")
    return int(shown) if shown.isdigit() and len(shown) < 10 else record.version


@login_required
@require_POST
def image_action(request):
    """Run a bulk action on the selected images, after a confirmation page for changes."""
    back = safe_next(request, reverse("images:list"))
    action = request.POST.get("action", "")
    ids = list(dict.fromkeys(request.POST.getlist("_selected_action")))
    if action not in ACTIONS:
        messages.warning(request, "Choose an action from the list first. Nothing was changed.")
        return HttpResponseRedirect(back)
    if not ids:
        messages.warning(request, "Select one or more images first, with the boxes in the first column. "
                                  "Nothing was changed.")
        return HttpResponseRedirect(back)
    records, gone = [], 0
    for image_id in ids[: catalog.MAX_PAGE_SIZE]:
        try:
            records.append(catalog.image_get(image_id=image_id))
        except errors.NotFound:
            gone += 1
    if gone:
        messages.warning(request, f"{gone} of the selected images no longer exist{'s' if gone == 1 else ''}.")
    if not records:
        return HttpResponseRedirect(back)

    if action == "export_csv":
        # At most a page of records already read: written at once, no storage read.
        response = StreamingHttpResponse(exports.csv_rows(records), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="images-{_stamp()}.csv"'
        return response
    if action == "download_zip":
        # The files are read from S3: built off the request path, downloaded when ready.
        return start_export(request, kind="zip", ids=[r.id for r in records])

    actor = actor_for(request.user)
    allowed = [r for r in records if catalog.can_change(actor, r)]
    denied = [r for r in records if not catalog.can_change(actor, r)]
    value_form = None
    if action == "set_author":
        value_form = SetAuthorForm(request.POST if request.POST.get("post") == "yes" else None)
    elif action in ("add_keywords", "remove_keywords"):
        value_form = KeywordsForm(request.POST if request.POST.get("post") == "yes" else None)

    if request.POST.get("post") == "yes" and allowed and (value_form is None or value_form.is_valid()):
        value = None
        if value_form is not None:
            value = value_form.cleaned_data.get("author") or value_form.cleaned_data.get("keywords")
        done, failed = [], []
        for record in allowed:
            try:
                _apply(action, actor, record, value, _shown_version(request, record))
                done.append(record)
            except errors.AppError as exc:
                failed.append((record, exc.message))
        verb = {"delete_selected": "deleted", "set_author": "updated", "add_keywords": "updated",
                "remove_keywords": "updated"}[action]
        if done:
            messages.success(request, f"{len(done)} image{'s' if len(done) != 1 else ''} {verb}.")
        for record, message in failed:
            messages.error(request, f"“{record.title}” was not {verb}: {message}")
        if denied:
            messages.error(request, _denied_message(denied, verb))
        return HttpResponseRedirect(back)

    context = {
        "action": action,
        "action_label": ACTIONS[action],
        "allowed": [row(r, actor) for r in allowed],
        "denied": [row(r, actor) for r in denied],
        "value_form": value_form,
        "next": back,
    }
    return render(request, "images/image_action.html", context)


def _denied_message(denied, verb: str) -> str:
    titles = ", ".join(f"“{r.title}”" for r in denied)
    count = len(denied)
    return (f"{count} image{'s were' if count != 1 else ' was'} not {verb} because only the owner or staff "
            f"may change {'them' if count != 1 else 'it'}: {titles}.")
