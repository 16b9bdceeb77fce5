"""The portal's image pages, in the look and habits of the Django admin. Every read and
write goes through images.catalog; these views validate, call one function, render."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from common import errors
from common.config import get_config
from images import catalog, exports, media, objects
from images.forms import (
    META_FIELDS,
    AddImageForm,
    ChangeImageForm,
    KeywordsForm,
    SetAuthorForm,
)
from images.identity import actor_for

# The list shows more than the API's default page: thumbnails are small.
LIST_PAGE_SIZE = 50
# The metadata prefill reads at most this much of a file (EXIF/IPTC/XMP sit near the start).
PREFILL_MAX_BYTES = 2 * 1024 * 1024
SEARCH_LABELS = {
    "title": "Title words",
    "keywords": "Keyword",
    "author": "Author",
    "creator": "Creator",
    "creationdate": "Capture date (YYYY, YYYY-MM or YYYY-MM-DD)",
    "capture_date": "Capture date (same as above)",
    "storage_date": "Storage date (YYYY, YYYY-MM or YYYY-MM-DD)",
    "id": "Id",
}
FILTER_PARAMS = {"author": "author", "creator": "creator", "keyword": "keywords", "date": "creationdate"}
# The sidebar: (query parameter, title, catalog facet). One Query each, whatever the page shows.
FACETS = (("author", "author", "author"), ("creator", "creator", "creator"), ("keyword", "keyword", "keyword"),
          ("date", "capture year / month", "captured"))
FACET_LIMIT = 50
# Capture years and months come in one Query: 13 items a year, so 50 years of them.
CAPTURED_LIMIT = 650
ORDER_LABELS = {"newest": "newest first", "oldest": "oldest first"}
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
ACTIONS = {
    "delete_selected": "Delete selected images",
    "set_author": "Set the author of selected images",
    "add_keywords": "Add keywords to selected images",
    "remove_keywords": "Remove keywords from selected images",
    "export_csv": "Export metadata of selected images (CSV)",
    "download_zip": "Download selected image files (zip)",
}
_DATE_PREFIX = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


# ---------------------------------------------------------------- helpers


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _load(image_id: str):
    try:
        return catalog.image_get(image_id=image_id)
    except errors.NotFound as exc:
        raise Http404(exc.message) from exc


def _thumb_size(record, box: int = media.THUMBNAIL_SIZE) -> tuple[int, int]:
    width, height = int(record.width or box), int(record.height or box)
    scale = min(1.0, box / max(width, height, 1))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _row(record, actor) -> dict:
    thumb_w, thumb_h = _thumb_size(record)
    return {
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
    }


def _qs(**params) -> str:
    return "?" + urlencode({k: v for k, v in params.items() if v not in (None, "")})


def _date_title(prefix: str) -> str:
    parts = prefix.split("-")
    if len(parts) == 1 or not parts[1].isdigit() or not 1 <= int(parts[1]) <= 12:
        return prefix
    month = MONTHS[int(parts[1]) - 1]
    if len(parts) == 2:
        return f"{month} {parts[0]}"
    return f"{month} {int(parts[2])}, {parts[0]}" if parts[2].isdigit() else prefix


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return fallback


def _read_upload(upload, form, field: str = "image") -> bytes | None:
    """The uploaded bytes, or None with an error on the form when the file is over the limit."""
    limit = get_config().image_max_bytes
    if upload.size is not None and upload.size > limit:
        form.add_error(field, f"This file has {upload.size / 1048576:.1f} MB; the limit is "
                              f"{limit / 1048576:.0f} MB.")
        return None
    upload.seek(0)
    return upload.read()


def _form_errors(form) -> dict:
    return {field or "__all__": [str(m) for m in msgs] for field, msgs in form.errors.items()}


# ---------------------------------------------------------------- the change list


def _facets(criterion, captured: list[tuple[str, str, int]], link) -> list[dict]:
    """Sidebar filters of the whole catalog, with counts: one facet Query per filter.

    `captured` is the capture-date facet (read once, shared with the drill-down): every year,
    and the months of the year being looked at.
    """
    param, active = (criterion[0], criterion[1]) if criterion and criterion[0] in FILTER_PARAMS else ("", "")
    year = active[:4] if param == "date" else ""
    facets = []
    for facet_param, title, field in FACETS:
        if field == "captured":
            values, more = [v for v in captured if len(v[0]) == 4 or v[0][:4] == year], False
        else:
            values = catalog.facet_values(field=field, limit=FACET_LIMIT + 1)
            values, more = values[:FACET_LIMIT], len(values) > FACET_LIMIT
        wanted = (active if field == "captured" else catalog.normalise(active)) if param == facet_param else None
        choices = [{
            "value": value,
            "display": label if len(value) != 7 or field != "captured" else "\u2003" + _date_title(value),
            "count": count,
            "link": link(**{facet_param: value}),
            "selected": value == wanted,
        } for value, label, count in values]
        if wanted is not None and not any(c["selected"] for c in choices):
            # Keep the active filter visible when no counted value matches (none, or past the limit).
            display = _date_title(active) if field == "captured" else active
            choices.insert(0, {"value": active, "display": display, "count": None,
                               "link": link(**{facet_param: active}), "selected": True})
        facets.append({"param": facet_param, "title": title, "choices": choices, "more": more,
                       "active": param == facet_param})
    return facets


def _drilldown(rows: list[dict], captured: list[tuple[str, str, int]], date: str, link) -> dict:
    """The admin's date hierarchy over capture dates: years and months of the whole catalog
    (the captured facet), then the days of the images found for the month."""
    if not date:
        back = None
        values = [v for v, _, _ in captured if len(v) == 4]  # newest year first
    elif len(date) == 4:
        back = {"link": link(), "title": "All dates"}
        values = sorted(v for v, _, _ in captured if len(v) == 7 and v.startswith(date))
    elif len(date) == 7:
        back = {"link": link(date=date[:4]), "title": date[:4]}
        values = sorted({r["capture_date"][:10] for r in rows if r["capture_date"].startswith(date)})
    else:
        back = {"link": link(date=date[:7]), "title": _date_title(date[:7])}
        values = []
    choices = [{"link": link(date=v), "title": _date_title(v)} for v in values]
    if date and len(date) == 10:
        choices = [{"link": None, "title": _date_title(date)}]
    return {"back": back, "choices": choices, "show": bool(back or choices)}


@login_required
def image_list(request):
    """Every image, newest or oldest first, with search, catalog-wide filters, date drill-down
    and cursor pages: one Query for the page and one per sidebar facet."""
    actor = actor_for(request.user)
    params = request.GET
    try:
        order = catalog.parse_order(params.get("order"))
    except catalog.InvalidField:
        order = "newest"
    ordered = {"order": order} if order != "newest" else {}

    def link(**values) -> str:
        return _qs(**values, **ordered)
    query = params.get("q", "").strip()
    search_key = params.get("key", "title")
    if search_key not in catalog.SEARCH_KEYS:
        search_key = "title"
    cursor = params.get("cursor") or None
    criterion = None  # (param, value, catalog key) of the one active search or filter
    if query:
        criterion = ("q", query, search_key)
    else:
        for param, key in FILTER_PARAMS.items():
            value = params.get(param, "").strip()
            if value:
                criterion = (param, value, key)
                break
    try:
        limit = catalog.page_size(params.get("limit") or LIST_PAGE_SIZE)
    except catalog.InvalidField:
        limit = LIST_PAGE_SIZE
    page, error = catalog.Page([], None), None
    try:
        if criterion:
            page = catalog.image_search(key=criterion[2], value=criterion[1], limit=limit, cursor=cursor,
                                        order=order)
        else:
            page = catalog.image_list(limit=limit, cursor=cursor, order=order)
    except catalog.InvalidField as exc:
        if exc.field == "cursor":
            messages.warning(request, "That page link has expired or was changed; here is the first page.")
            return redirect(request.path + _qs(**{k: v for k, v in params.items() if k != "cursor"}))
        error = exc.message
    rows = [_row(record, actor) for record in page.items]

    keep = {}
    if criterion:
        keep[criterion[0]] = criterion[1]
        if criterion[0] == "q":
            keep["key"] = search_key
    if params.get("limit"):
        keep["limit"] = limit
    active_date = criterion[1] if criterion and criterion[0] == "date" else ""
    active_date = active_date if _DATE_PREFIX.match(active_date) else ""
    captured = catalog.facet_values(field="captured", limit=CAPTURED_LIMIT)
    facets = _facets(criterion, captured, link)
    selected = next((c for f in facets if f["active"] for c in f["choices"] if c["selected"]), None)
    context = {
        "rows": rows,
        "query": query,
        "search_key": search_key,
        "search_choices": [(k, SEARCH_LABELS[k]) for k in catalog.SEARCH_KEYS],
        "criterion": criterion,
        "criterion_label": _criterion_label(criterion, selected["display"].strip() if selected else None),
        "error": error,
        "facets": facets,
        "facet_limit": FACET_LIMIT,
        "drilldown": _drilldown(rows, captured, active_date, link),
        "order": order,
        "order_label": ORDER_LABELS[order],
        "sort_toggle_url": _qs(**keep, order="oldest" if order == "newest" else None),
        "all_url": link(),
        "next_url": _qs(**keep, **ordered, cursor=page.next_cursor) if page.next_cursor else None,
        "first_url": _qs(**keep, **ordered) if cursor else None,
        "is_first_page": not cursor,
        "actions": list(ACTIONS.items()),
        "any_changeable": any(r["can_change"] for r in rows),
        "current_url": request.get_full_path(),
    }
    return render(request, "images/image_list.html", context)


def _criterion_label(criterion, display: str | None = None) -> str:
    if not criterion:
        return ""
    param, value, key = criterion
    if param == "q":
        return f"{SEARCH_LABELS[key].split(' (')[0]}: “{value}”"
    if param == "date":
        return f"captured in {_date_title(value)}" if _DATE_PREFIX.match(value) else f"captured “{value}”"
    return f"{param} “{display or value}”"


# ---------------------------------------------------------------- add


@login_required
def image_add(request):
    """One image without JavaScript; with it, one POST per file answered in JSON."""
    wants_json = _wants_json(request)
    if request.method == "POST":
        form = AddImageForm(request.POST, request.FILES)
        record, too_large = None, False
        if form.is_valid():
            upload = form.cleaned_data["image"]
            data = _read_upload(upload, form)
            too_large = data is None
            if data is not None:
                # Without JavaScript nothing was prefilled: empty fields take the file's own metadata.
                file_meta = None if wants_json else media.read_metadata(data[:PREFILL_MAX_BYTES])
                meta = form.apply_core(file_meta=file_meta)
                if meta is not None:
                    try:
                        record = catalog.image_create(owner=actor_for(request.user), meta=meta, data=data,
                                                      original_filename=upload.name or "")
                    except (media.ImageInvalid, media.ImageTooLarge) as exc:
                        too_large = isinstance(exc, media.ImageTooLarge)
                        form.add_error("image", exc.message)
                    except catalog.InvalidField as exc:
                        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        if record is not None:
            if wants_json:
                return JsonResponse({
                    "id": record.id, "title": record.title,
                    "object_url": objects.public_url(record.object_key),
                    "thumbnail_url": objects.public_url(record.thumbnail_key),
                    "change_url": reverse("images:change", args=[record.id]),
                    "message": f"“{record.title}” was added.",
                }, status=201)
            messages.success(request, f"The image “{record.title}” was added.")
            if "_addanother" in request.POST:
                return redirect("images:add")
            return redirect("images:list")
        if wants_json:
            return JsonResponse({"errors": _form_errors(form), "message": "The image was not added."},
                                status=413 if too_large else 400)
    else:
        form = AddImageForm()
    return render(request, "images/image_add.html", {"form": form, "meta_fields": META_FIELDS})


@login_required
@require_POST
def read_file_metadata(request):
    """What a file says about itself (EXIF/IPTC/XMP), to prefill the add form."""
    upload = request.FILES.get("image")
    if upload is None:
        return JsonResponse({"errors": {"image": ["Send a file named “image”."]}}, status=400)
    found = media.read_metadata(upload.read(PREFILL_MAX_BYTES))
    return JsonResponse({
        "title": found.title or "",
        "description": found.description or "",
        "author": found.author or "",
        "keywords": ", ".join(found.keywords or ()),
        "capture_date": found.capture_date or "",
    })


# ---------------------------------------------------------------- change


@login_required
def image_change(request, image_id: str):
    """Edit metadata and replace the file; a conflict shows the other person's version."""
    record = _load(image_id)
    actor = actor_for(request.user)
    allowed = catalog.can_change(actor, record)
    conflict = None
    if request.method == "POST":
        if not allowed:
            raise PermissionDenied("Only the image's owner or staff may change it.")
        form = ChangeImageForm(request.POST, request.FILES)
        if form.is_valid():
            meta = form.apply_core()
            upload = form.cleaned_data.get("image")
            data = _read_upload(upload, form) if upload else None
            if meta is not None and not form.errors:
                try:
                    updated = catalog.image_update(
                        actor=actor, image_id=record.id, meta=meta,
                        expected_version=form.cleaned_data["version"], data=data,
                        original_filename=(upload.name or "") if upload else None,
                    )
                except catalog.ImageConflict as exc:
                    if exc.current is None:
                        messages.error(request, "Someone else deleted this image while you were editing it.")
                        return redirect("images:list")
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
                except errors.PermissionDenied as exc:
                    raise PermissionDenied(exc.message) from exc
                except errors.NotFound as exc:
                    raise Http404(exc.message) from exc
                else:
                    note = " and its file was replaced" if data is not None else ""
                    messages.success(request, f"The image “{updated.title}” was changed{note}.")
                    if "_continue" in request.POST:
                        return redirect("images:change", image_id=updated.id)
                    return redirect("images:list")
    else:
        form = ChangeImageForm(initial=ChangeImageForm.initial_from(record)) if allowed else None
    context = {
        "row": _row(record, actor),
        "record": record,
        "form": form,
        "allowed": allowed,
        "conflict": _row(conflict, actor) if conflict else None,
    }
    return render(request, "images/image_change.html", context)


# ---------------------------------------------------------------- delete


@login_required
def image_delete(request, image_id: str):
    """A confirmation page showing what will go; POST deletes."""
    record = _load(image_id)
    actor = actor_for(request.user)
    if not catalog.can_change(actor, record):
        raise PermissionDenied("Only the image's owner or staff may delete it.")
    if request.method == "POST":
        version = request.POST.get("version")
        try:
            catalog.image_delete(actor=actor, image_id=record.id,
                                 expected_version=int(version) if version and version.isdigit() else None)
        except catalog.ImageConflict:
            messages.error(request, "Someone else changed this image after you opened it; check their "
                                    "version before deleting it.")
            return redirect("images:change", image_id=record.id)
        except errors.NotFound:
            messages.info(request, "That image was already deleted.")
            return redirect("images:list")
        except errors.PermissionDenied as exc:
            raise PermissionDenied(exc.message) from exc
        messages.success(request, f"The image “{record.title}” was deleted.")
        return redirect("images:list")
    return render(request, "images/image_delete.html", {"row": _row(record, actor), "record": record})


# ---------------------------------------------------------------- bulk actions


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")


def _apply(action: str, actor, record, value) -> None:
    if action == "delete_selected":
        catalog.image_delete(actor=actor, image_id=record.id, expected_version=record.version)
        return
    keywords = list(record.keywords)
    author = record.author
    if action == "set_author":
        author = value
    elif action == "add_keywords":
        keywords += list(value)
    elif action == "remove_keywords":
        drop = {k.lower() for k in value}
        keywords = [k for k in keywords if k.lower() not in drop]
    meta = catalog.validate_meta(title=record.title, description=record.description, keywords=keywords,
                                 author=author, capture_date=record.capture_date)
    catalog.image_update(actor=actor, image_id=record.id, meta=meta, expected_version=record.version)


@login_required
@require_POST
def image_action(request):
    """Run a bulk action on the selected images, after a confirmation page for changes."""
    back = _safe_next(request, reverse("images:list"))
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
        response = StreamingHttpResponse(exports.csv_rows(records), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="images-{_stamp()}.csv"'
        return response
    if action == "download_zip":
        response = StreamingHttpResponse(exports.zip_stream(records), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="images-{_stamp()}.zip"'
        return response

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
                _apply(action, actor, record, value)
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
        "allowed": [_row(r, actor) for r in allowed],
        "denied": [_row(r, actor) for r in denied],
        "value_form": value_form,
        "next": back,
    }
    return render(request, "images/image_action.html", context)


def _denied_message(denied, verb: str) -> str:
    titles = ", ".join(f"“{r.title}”" for r in denied)
    count = len(denied)
    return (f"{count} image{'s were' if count != 1 else ' was'} not {verb} because only the owner or staff "
            f"may change {'them' if count != 1 else 'it'}: {titles}.")
