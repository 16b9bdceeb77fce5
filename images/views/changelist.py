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
from images.views.trash import recent_actions

# The list shows more than the API's default page: thumbnails are small.
LIST_PAGE_SIZE = 50
SEARCH_LABELS = {
    "any": "Any field (title, keywords, author, creator)",
    "title": "Title words",
    "keywords": "Keyword",
    "author": "Author",
    "creator": "Creator",
    "creationdate": "Capture date (YYYY, YYYY-MM or YYYY-MM-DD)",
    "capture_date": "Capture date (same as above)",
    "storage_date": "Storage date (YYYY, YYYY-MM or YYYY-MM-DD)",
    "id": "Id",
}
# The sidebar's filters: query parameter -> the catalog's criteria parameter. Filters and the
# search box combine, as the Django admin's do: every link keeps the others.
FILTER_PARAMS = {"author": "author", "creator": "creator", "keyword": "keywords", "date": "capture_date"}
# The search box: "any" matches words of any field (the admin's search_fields); a seed key
# searches that field alone.
SEARCH_PARAMS = {"any": "q", "title": "title", "keywords": "keywords", "author": "author", "creator": "creator",
                 "creationdate": "capture_date", "capture_date": "capture_date", "storage_date": "storage_date"}
# The sidebar: (query parameter, title, catalog facet). One Query each, whatever the page shows.
FACETS = (("author", "author", "author"), ("creator", "creator", "creator"), ("keyword", "keyword", "keyword"),
          ("date", "capture year / month", "captured"))
FACET_LIMIT = 50
# Capture years and months come in one Query: 13 items a year, so 50 years of them.
CAPTURED_LIMIT = 650
ORDER_LABELS = {"newest": "newest first", "oldest": "oldest first"}


def _facets(filters: dict[str, str], captured: list[tuple[str, str, int]], link) -> list[dict]:
    """Sidebar filters with whole-catalog counts: one facet Query per filter. Each choice
    keeps the other filters and the search; "All" clears only its own filter.

    `captured` is the capture-date facet (read once, shared with the drill-down): every year,
    and the months of the year being looked at.
    """
    year = filters.get("date", "")[:4]
    facets = []
    for facet_param, title, field in FACETS:
        active = filters.get(facet_param, "")
        if field == "captured":
            values, more = [v for v in captured if len(v[0]) == 4 or v[0][:4] == year], False
        else:
            values = catalog.facet_values(field=field, limit=FACET_LIMIT + 1)
            values, more = values[:FACET_LIMIT], len(values) > FACET_LIMIT
        wanted = (active if field == "captured" else catalog.normalise(active)) if active else None
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
                       "active": bool(active), "all_link": link(**{facet_param: None})})
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


def _search(params) -> tuple[str, str, dict[str, str]]:
    """The search box: (words, where, the criteria parameters it adds)."""
    query = params.get("q", "").strip()
    key = params.get("key", "any")
    if key not in SEARCH_PARAMS and key != "id":
        key = "any"
    return query, key, ({SEARCH_PARAMS[key]: query} if query and key != "id" else {})


def _criteria(filters: dict[str, str], searched: dict[str, str]) -> dict[str, str]:
    """The filters and the search as one query's parameters (catalog.QUERY_PARAMS); a field
    asked twice must agree."""
    wanted = {FILTER_PARAMS[p]: v for p, v in filters.items()}
    for name, value in searched.items():
        if name in ("q", "title", "keywords") and wanted.get(name):
            value = f"{wanted[name]},{value}" if name == "keywords" else f"{wanted[name]} {value}"
        elif name in wanted and catalog.normalise(wanted[name]) != catalog.normalise(value):
            raise catalog.InvalidField(name, "The search and a filter ask for two different values of the same "
                                             "field; no image has both. Clear one of them.")
        wanted[name] = value
    return wanted


@login_required
def image_list(request):
    """Every image, newest or oldest first, with a search box and sidebar filters that combine,
    the capture-date drill-down and cursor pages: the page reads within the engine's budget,
    plus one Query per sidebar facet."""
    actor = actor_for(request.user)
    params = request.GET
    try:
        order = catalog.parse_order(params.get("order"))
    except catalog.InvalidField:
        order = "newest"
    query, search_key, searched = _search(params)
    filters = {p: params.get(p, "").strip() for p in FILTER_PARAMS if params.get(p, "").strip()}
    try:
        limit = catalog.page_size(params.get("limit") or LIST_PAGE_SIZE)
    except catalog.InvalidField:
        limit = LIST_PAGE_SIZE
    # Every link keeps what is chosen (filters, search, order, page size); None clears a parameter.
    current = {**filters, **({"q": query, "key": search_key} if query else {}),
               **({"order": order} if order != "newest" else {}), **({"limit": limit} if params.get("limit") else {})}

    def link(**changes) -> str:
        return qs(**{**current, **changes})
    cursor = params.get("cursor") or None
    page, error, count = catalog.Page([], None), None, None
    export = {"key": "id", "value": query} if query and search_key == "id" else {}  # what "Export" exports
    try:
        if export:
            page = catalog.image_search(key="id", value=query)
        else:
            export = _criteria(filters, searched)
            criteria = catalog.criteria_from(export)
            page = (catalog.image_find(criteria=criteria, limit=limit, cursor=cursor, order=order) if criteria
                    else catalog.image_list(limit=limit, cursor=cursor, order=order))
            count = catalog.image_count(criteria or None)
    except catalog.InvalidField as exc:
        if exc.field == "cursor":
            messages.warning(request, "That page link has expired or was changed; here is the first page.")
            return redirect(request.path + link())
        error = exc.message
    rows = [_with_links(row(record, actor), link) for record in page.items]

    active_date = filters.get("date", "")
    active_date = active_date if DATE_PREFIX.match(active_date) else ""
    captured = catalog.facet_values(field="captured", limit=CAPTURED_LIMIT)
    facets = _facets(filters, captured, link)
    displays = {f["param"]: c["display"].strip() for f in facets for c in f["choices"] if c["selected"]}
    context = {
        "rows": rows,
        "query": query,
        "search_key": search_key,
        "search_choices": [(k, SEARCH_LABELS[k]) for k in ("any", *catalog.SEARCH_KEYS)],
        "export_params": sorted(export.items()),
        "hidden_filters": sorted({k: v for k, v in current.items() if k not in ("q", "key")}.items()),
        "criterion": bool(filters or query),
        "criterion_label": _criterion_label(filters, query, search_key, displays),
        "error": error,
        "facets": facets,
        "facet_limit": FACET_LIMIT,
        "drilldown": _drilldown(rows, captured, active_date, link),
        "order": order,
        "order_label": ORDER_LABELS[order],
        "sort_toggle_url": link(order="oldest" if order == "newest" else None),
        "all_url": qs(**({"order": order} if order != "newest" else {})),
        "count_text": _count_text(count, bool(filters or query)) if count else "",
        "next_url": link(cursor=page.next_cursor) if page.next_cursor else None,
        "first_url": link() if cursor else None,
        "is_first_page": not cursor,
        "actions": list(ACTIONS.items()),
        "any_changeable": any(r["can_change"] for r in rows),
        "current_url": request.get_full_path(),
        "recent_actions": recent_actions(request),
    }
    return render(request, "images/image_list.html", context)


def _count_text(count: catalog.Count, criterion: bool) -> str:
    """How many there are, as the admin's paginator says it: exact from the catalog's counters,
    "at most" when several filters combine; nothing it does not know."""
    if count.total is None:
        return ""
    total = f"{count.total:,} image{'s' if count.total != 1 else ''} in all."
    if not criterion or count.matching is None:
        return total
    matching = f"{count.matching:,} match{'es' if count.matching == 1 else ''}, of {total}"
    return matching if count.exact else f"At most {matching}"


def _with_links(found: dict, link) -> dict:
    """A row's author, creator, keywords and capture date as filters added to the current ones."""
    found["author_link"] = link(author=found["author"], cursor=None)
    found["creator_link"] = link(creator=found["creator"], cursor=None)
    found["keyword_links"] = [(k, link(keyword=k, cursor=None)) for k in found["keywords"]]
    found["date_link"] = link(date=found["capture_date"], cursor=None) if found["capture_date"] else ""
    return found


def _criterion_label(filters: dict[str, str], query: str, search_key: str, displays: dict[str, str]) -> str:
    """What is chosen, in words: "author “Ana Díaz”, keyword “lake”, any field: “boat”"."""
    parts = []
    for param, value in filters.items():
        if param == "date":
            parts.append(f"captured in {date_title(value)}" if DATE_PREFIX.match(value) else f"captured “{value}”")
        else:
            parts.append(f"{param} “{displays.get(param) or value}”")
    if query:
        parts.append(f"{SEARCH_LABELS[search_key].split(' (')[0]}: “{query}”")
    return ", ".join(parts)
