"""Queries of several terms at a bounded cost per request. Django-free.

A query (Criteria) is a conjunction of clauses; a clause is satisfied by any of its posting
terms. A title word, a keyword, an author, a creator or a date prefix is a clause of one
term; a word of the any-field search is a clause of its title word, its keyword and every
author, creator and multi-word keyword holding it (the word index, facets "word").

Plan: read the clauses' counters (images.catalog.facets: one BatchGet) and drive from the
rarest clause: its postings are read in list order (merged when it has several terms), and
each candidate's record is read in batches and checked against the other clauses. One
record per candidate, whatever the number of clauses, costs no more capacity than one
posting (both are under 4 KB), and the records that match are the page itself. Word order
cannot change the plan: it depends on the counts alone. A clause that cannot drive (a word
in more names than MAX_EXPANSIONS) still filters; when no clause can drive, the list of
every image drives.

Budget: one request reads at most `read_cap(limit)` items, planning included. When it runs
out before the page is full, the page holds what was found and the cursor continues after
the last candidate examined, as DynamoDB's own `Limit` does: the client goes on.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import re

from images.catalog.base import DEFAULT_PAGE_SIZE, InvalidField, Page
from images.catalog.cursors import decode_cursor, encode_cursor
from images.catalog.facets import FACET_PREFIX, counter_of
from images.catalog.terms import any_words, exact, terms_of, words
from images.catalog.validation import parse_keywords, parse_order
from images.limits import LIMITS, MAX_KEYWORDS, MAX_TITLE_WORDS
from images.records import LISTED, READY, ImageRecord, ImageTerm

# The setting: items one request may read beyond its page, as page sizes, plus one page of
# postings. BUDGET_FLOOR keeps room for the planning reads of the longest query allowed.
BUDGET_PAGES = 4
BUDGET_FLOOR = 128
MAX_ANY_WORDS = 6  # words of the any-field search
MAX_EXPANSIONS = 5  # names (authors, creators, keywords) one any-field word may stand for
# Query parameters of a combined search, shared by the API and the portal.
PARAMS = ("q", "title", "keywords", "author", "creator", "capture_date", "creationdate", "storage_date")
MAX_PARAM_LENGTH = LIMITS["title"]  # characters of one parameter (keys stay far under DynamoDB's limits)
_DATE = re.compile(r"[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?", re.ASCII)


def read_budget(limit: int) -> int:
    """Items a request may read besides its page and one look-ahead."""
    return max(BUDGET_PAGES * limit + limit + 1, BUDGET_FLOOR)


def read_cap(limit: int) -> int:
    """Every item one request reads, at most: the page, one more, and the budget."""
    return limit + 1 + read_budget(limit)


@dataclass(frozen=True)
class Criteria:
    """What every image found must have; empty fields ask nothing."""

    q: tuple[str, ...] = ()  # any-field words
    title: tuple[str, ...] = ()  # title words
    keywords: tuple[str, ...] = ()
    author: str = ""
    creator: str = ""
    captured: str = ""  # YYYY, YYYY-MM or YYYY-MM-DD
    stored: str = ""

    def __bool__(self) -> bool:
        return any((self.q, self.title, self.keywords, self.author, self.creator, self.captured, self.stored))

    def terms(self) -> list[str]:
        """The posting terms of the structured filters (the any-field words aside)."""
        found = [f"title:{w}" for w in self.title] + [f"keyword:{exact(k)}" for k in self.keywords]
        found += [f"author:{exact(self.author)}"] if self.author else []
        found += [f"creator:{exact(self.creator)}"] if self.creator else []
        found += [f"captured:{self.captured}"] if self.captured else []
        found += [f"stored:{self.stored}"] if self.stored else []
        return list(dict.fromkeys(found))


def _date(name: str, value: str) -> str:
    if value and not _DATE.fullmatch(value):
        raise InvalidField(name, "Give a date as YYYY, YYYY-MM or YYYY-MM-DD.")
    return value


def _words(name: str, value: str, most: int) -> tuple[str, ...]:
    found = tuple(words(value))
    if value and not found:
        raise InvalidField(name, "Give at least one word.")
    if len(found) > most:
        raise InvalidField(name, f"Give at most {most} words.")
    return found


def criteria_from(params: Mapping[str, str]) -> Criteria:
    """Criteria from query parameters (PARAMS); InvalidField names a wrong one."""
    for name in PARAMS:
        if len(params.get(name) or "") > MAX_PARAM_LENGTH:
            raise InvalidField(name, f"{name} may have at most {MAX_PARAM_LENGTH} characters.")
    get = {name: (params.get(name) or "").strip() for name in PARAMS}
    if get["capture_date"] and get["creationdate"] and get["capture_date"] != get["creationdate"]:
        raise InvalidField("capture_date", "capture_date and creationdate are the same date; give one.")
    keywords = parse_keywords(get["keywords"])
    if len(keywords) > MAX_KEYWORDS:
        raise InvalidField("keywords", f"At most {MAX_KEYWORDS} keywords.")
    return Criteria(
        q=_words("q", get["q"], MAX_ANY_WORDS),
        title=_words("title", get["title"], MAX_TITLE_WORDS),
        keywords=keywords,
        author=get["author"],
        creator=get["creator"],
        captured=_date("capture_date", get["capture_date"] or get["creationdate"]),
        stored=_date("storage_date", get["storage_date"]),
    )


# ---------------------------------------------------------------- the plan


@dataclass
class _Reads:
    """Items read so far by this request, against its cap."""

    cap: int
    spent: int = 0

    @property
    def left(self) -> int:
        return self.cap - self.spent


@dataclass
class _Clause:
    key: str  # what it asks, for the cursor's signature
    terms: tuple[str, ...]  # postings that satisfy it
    count: float  # images that satisfy it (math.inf: too many terms to drive from)
    test: Callable[[ImageRecord, set[str]], bool] = field(repr=False)


def _counts(terms: list[str], reads: _Reads) -> dict[str, int]:
    """The counters of `terms` (0 when none), in one BatchGet."""
    keys = {counter_of(t): t for t in terms}
    found = {t: 0 for t in terms}
    if keys:
        for item in ImageTerm.batch_get([(FACET_PREFIX + f, v) for f, v in keys]):
            reads.spent += 1
            found[keys[(item.term[len(FACET_PREFIX):], item.sort_key)]] = max(0, int(item.facet_count or 0))
    return found


def _expansions(word: str, reads: _Reads) -> tuple[list[tuple[str, int]], bool]:
    """The (term, count) of names holding `word`, and whether they are all of them."""
    items = list(ImageTerm.query(FACET_PREFIX + "word", ImageTerm.sort_key.startswith(f"{word} "),
                                 limit=MAX_EXPANSIONS + 1, page_size=MAX_EXPANSIONS + 1))
    reads.spent += len(items)
    found = [(i.sort_key.split(" ", 1)[1], int(i.facet_count or 0)) for i in items if (i.facet_count or 0) > 0]
    return found[:MAX_EXPANSIONS], len(items) <= MAX_EXPANSIONS


def _clauses(criteria: Criteria, reads: _Reads) -> list[_Clause]:
    plain = criteria.terms()
    base = {w: (f"title:{w}", f"keyword:{w}") for w in criteria.q}
    counts = _counts(plain + [t for pair in base.values() for t in pair], reads)
    clauses = [_Clause(t, (t,), counts[t], lambda r, terms, t=t: t in terms) for t in plain]
    for word, pair in base.items():
        names, complete = _expansions(word, reads)
        count = sum(counts[t] for t in pair) + sum(n for _, n in names) if complete else math.inf
        terms = tuple(dict.fromkeys([*pair, *(t for t, _ in names)]))
        clauses.append(_Clause(f"any:{word}", terms, count, lambda r, _terms, w=word: w in any_words(r)))
    return clauses


def _signature(clauses: list[_Clause]) -> str:
    return hashlib.sha256(json.dumps(sorted(c.key for c in clauses)).encode()).hexdigest()[:16]


# ---------------------------------------------------------------- drivers


class _Postings:
    """One term's postings in list order after `after`, read a page at a time."""

    def __init__(self, term: str, forward: bool, after: str | None):
        self.term, self.forward, self.last = term, forward, after
        self.buffer: deque[tuple[str, str]] = deque()
        self.done = False

    def fill(self, n: int, reads: _Reads) -> None:
        if self.done or self.buffer:
            return
        start = {"term": {"S": self.term}, "sort_key": {"S": self.last}} if self.last else None
        items = list(ImageTerm.query(self.term, scan_index_forward=self.forward, limit=n, page_size=n,
                                     last_evaluated_key=start))
        reads.spent += len(items)
        self.buffer.extend((p.sort_key, p.image_id) for p in items)
        if items:
            self.last = items[-1].sort_key
        self.done = len(items) < n


class _Merged:
    """The postings of a clause's terms merged in list order, each image once."""

    def __init__(self, terms: tuple[str, ...], forward: bool, after: str | None):
        self.streams = [_Postings(t, forward, after) for t in terms]
        self.forward = forward

    @property
    def exhausted(self) -> bool:
        return all(s.done and not s.buffer for s in self.streams)

    def _within(self, key: str, bound: str) -> bool:
        return key <= bound if self.forward else key >= bound

    def next(self, n: int, reads: _Reads) -> list[tuple[str, str, ImageRecord | None]]:
        live = [s for s in self.streams if s.buffer or not s.done]
        each = max(2, math.ceil(n / max(1, len(live))))
        for stream in live:
            stream.fill(max(1, min(each, reads.left)), reads)
        # Only keys up to the last one read from every unfinished stream are surely in order.
        bounds = [s.buffer[-1][0] for s in self.streams if not s.done and s.buffer]
        bound = (min(bounds) if self.forward else max(bounds)) if bounds else None
        pending = sorted({p for s in self.streams for p in s.buffer}, reverse=not self.forward)
        taken = [p for p in pending if bound is None or self._within(p[0], bound)][:n]
        if taken:
            for stream in self.streams:
                while stream.buffer and self._within(stream.buffer[0][0], taken[-1][0]):
                    stream.buffer.popleft()
        return [(key, image_id, None) for key, image_id in taken]


class _Listed:
    """Every image in list order after `after` (the by_created index holds whole records)."""

    def __init__(self, forward: bool, after: str | None):
        self.forward, self.last, self.exhausted = forward, after, False

    def next(self, n: int, reads: _Reads) -> list[tuple[str, str, ImageRecord | None]]:
        start = None
        if self.last:
            start = {"listed": {"S": LISTED}, "created_key": {"S": self.last},
                     "id": {"S": self.last.rsplit("#", 1)[-1]}}
        records = list(ImageRecord.by_created.query(LISTED, scan_index_forward=self.forward, limit=n, page_size=n,
                                                    last_evaluated_key=start))
        reads.spent += len(records)
        if records:
            self.last = records[-1].created_key
        self.exhausted = len(records) < n
        return [(r.created_key, r.id, r) for r in records]


def _records(ids: list[str], reads: _Reads) -> dict[str, ImageRecord]:
    found = {r.id: r for r in ImageRecord.batch_get(ids)} if ids else {}
    reads.spent += len(found)
    return found


# ---------------------------------------------------------------- the query


def image_find(*, criteria: Criteria, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None,
               order: str = "newest") -> Page:
    """Images with everything `criteria` asks, newest (or oldest) first, reading at most
    read_cap(limit) items; a short page with a cursor means the budget ran out first."""
    order = parse_order(order)
    reads = _Reads(read_cap(limit))
    clauses = _clauses(criteria, reads)
    start = decode_cursor(cursor, {"q": _signature(clauses), "order": order})
    after = start["sort"] if start else None
    forward = order == "oldest"
    drive = min(clauses, key=lambda c: (c.count, c.key)) if clauses else None
    if drive is None or drive.count == math.inf:
        drive = None
        driver: _Merged | _Listed = _Listed(forward, after)
    else:
        driver = _Merged(drive.terms, forward, after)
    checks = [c for c in clauses if c is not drive]
    found: list[ImageRecord] = []
    last, more = after, False
    while len(found) <= limit and not more:
        # A candidate costs its posting and its record; with nothing to check, only the
        # page's records are read and one more posting tells whether there is a next page.
        per = 1 if drive is None else 2
        n = min(limit + 1 - len(found), reads.left // per)
        if n <= 0 and last == after:
            n = 1  # never answer without progress (BUDGET_FLOOR leaves room; this is a guard)
        if n <= 0:
            break
        candidates = driver.next(n, reads)
        if not candidates:
            break
        wanted = candidates if checks or drive is None else candidates[: limit - len(found)]
        records = _records([i for _, i, r in wanted if r is None], reads)
        for index, (key, image_id, record) in enumerate(candidates):
            if index >= len(wanted):
                more = True  # a posting beyond the page: a match, so there is a next page
                break
            record = record or records.get(image_id)
            if record is not None and record.state == READY:
                terms = terms_of(record) if checks else set()
                if all(c.test(record, terms) for c in checks):
                    found.append(record)
            if len(found) > limit:
                break
            last = key
    if len(found) > limit:
        found, last = found[:limit], found[limit - 1].created_key
    elif not more and driver.exhausted:
        return Page(found, None)
    return Page(found, encode_cursor({"q": _signature(clauses), "order": order, "sort": last}))
