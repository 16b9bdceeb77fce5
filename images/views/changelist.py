"""The change list: search, sidebar filters with counts, the capture-date drill-down, paging."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from images import catalog
from images.catalog.base import DATE_PREFIX
from images.identity import actor_for
from images.views.actions import ACTIONS
from images.views.common import date_title, qs, row

# The list shows more than the API's default page: thumbnails are small.
LIST_PAGE_SIZE = 50
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
            "display": label if len(value) != 7 or field != "captured" else "\u2003" + date_title(value),
            "count": count,
            "link": link(**{facet_param: value}),
            "selected": value == wanted,
        } for value, label, count in values]
        if wanted is not None and not any(c["selected"] for c in choices):
            # Keep the active filter visible when no counted value matches (none, or past the limit).
            display = date_title(active) if field == "captured" else active
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
        back = {"link": link(date=date[:7]), "title": date_title(date[:7])}
        values = []
    choices = [{"link": link(date=v), "title": date_title(v)} for v in values]
    if date and len(date) == 10:
        choices = [{"link": None, "title": date_title(date)}]
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
        return qs(**values, **ordered)
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
            return redirect(request.path + qs(**{k: v for k, v in params.items() if k != "cursor"}))
        error = exc.message
    rows = [row(record, actor) for record in page.items]

    keep = {}
    if criterion:
        keep[criterion[0]] = criterion[1]
        if criterion[0] == "q":
            keep["key"] = search_key
    if params.get("limit"):
        keep["limit"] = limit
    active_date = criterion[1] if criterion and criterion[0] == "date" else ""
    active_date = active_date if DATE_PREFIX.match(active_date) else ""
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
        "sort_toggle_url": qs(**keep, order="oldest" if order == "newest" else None),
        "all_url": link(),
        "next_url": qs(**keep, **ordered, cursor=page.next_cursor) if page.next_cursor else None,
        "first_url": qs(**keep, **ordered) if cursor else None,
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
        return f"captured in {date_title(value)}" if DATE_PREFIX.match(value) else f"captured “{value}”"
    return f"{param} “{display or value}”"
