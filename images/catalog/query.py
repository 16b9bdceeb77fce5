"""Queries of several terms at a bounded read capacity per request. Django-free.

A query (Criteria) is a conjunction of clauses; a clause is satisfied by any of its posting
terms. A title word, a keyword, an author, a creator or a date prefix is a clause of one
term; a word of the any-field search is a clause of its title word, its keyword and every
author, creator and multi-word keyword holding it (the word index, facets "word").

Cost, as DynamoDB bills it (images.catalog.capacity): a Query's items are rounded up to 4 KB
once per call, so about 33 postings (121 bytes each) cost what one record costs read by
BatchGetItem (each item rounded up on its own). So the engine reads postings, not records, to
decide: every clause's postings are sorted by the same key (the image's created_key), and a
conjunction is a leapfrog merge-join over them, read by Query pages: a list behind the
candidate seeks forward with a key condition (`sort_key >= candidate`), as Lucene's
conjunctions advance, and pages grow while a list keeps being read (each list at most its
fair share of the budget left: what a request reads past where it stops is read again by
the next). Records are read only for the matches that make the page. The planner reads the clauses' counters first (one
BatchGet) and joins a clause's postings when they cost less than checking the records of the
rarest clause's candidates (count <= JOIN_RATIO x the rarest's); a clause beyond that, or one
that stands for too many names (an any-field word in more than MAX_EXPANSIONS), is checked
on the candidates' records; with no clause to join, the list of every image (whole records,
read by Query) drives. Word order cannot change the plan: it depends on the counts alone.

Budget: one request spends at most `rcu_cap(limit)` RCU (eventually consistent; 50 for a page
of 25, with records under 4 KB), planning included. When it runs out before the page is
full, the page holds what was found and the cursor continues from the first key not yet
decided, as DynamoDB's own `Limit` does: the client goes on.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from images.catalog import capacity
from images.catalog.base import DEFAULT_PAGE_SIZE, Page
from images.catalog.criteria import PARAMS, Criteria, criteria_from  # noqa: F401 (re-exported)
from images.catalog.cursors import decode_cursor, encode_cursor
from images.catalog.facets import FACET_PREFIX, counter_of
from images.catalog.terms import any_words, terms_of
from images.catalog.validation import parse_order
from images.records import LISTED, READY, ImageRecord, ImageTerm

# The budget: RCU one request may spend besides its page's records, and what one record read by
# BatchGetItem costs (under 4 KB, eventually consistent).
RCU_BASE = 37.5
RECORD_RCU = 0.5
# Bytes of a posting besides its term (attribute names, a created_key of up to 64 bytes, an
# image id): what the planner assumes before a Query; the meter counts what was read.
POSTING_BYTES = len("term") + len("sort_key") + 64 + len("image_id") + 32
LISTED_BYTES = 2048  # a record read by the list's Query, for the same planning
JOIN_RATIO = 32  # postings one record read costs, about: join a clause up to this many x the rarest
FIRST_PAGE = 32  # postings of a list's first Query (one 4 KB unit); each further Query reads twice as many
MAX_PAGE = 4000  # postings of one Query (about 500 KB, under DynamoDB's 1 MB page), for lists of like counts
MAX_STREAMS = 24  # posting lists one join reads at once (the rest of the clauses are checked on records)
MAX_EXPANSIONS = 16  # names (authors, creators, keywords) one any-field word may stand for


def rcu_cap(limit: int) -> float:
    """RCU one request spends at most: the budget and the page's records."""
    return RCU_BASE + limit * RECORD_RCU


# ---------------------------------------------------------------- the plan


class _Spent(Exception):
    """The request's budget cannot pay for the next read."""


@dataclass
class _Budget:
    """RCU spent by this request (metered), against its cap."""

    meter: capacity.Meter
    cap: float
    reserve: float = 0.0  # kept for the records of the matches found and not yet read
    progress: bool = False  # whether the request has moved past where it started

    def left(self) -> float:
        return self.cap - self.reserve - self.meter.rcu

    def items(self, item_bytes: int, most: int) -> int:
        """How many items of `item_bytes` one Query may read now (0: none). Until the request
        has moved, one small page: a request never answers where it started (a guard: the
        planner keeps the join's first reads far under the cap)."""
        units = int(self.left() / RECORD_RCU)  # 4 KB units, eventually consistent
        n = max(0, min(most, units * capacity.UNIT // item_bytes))
        return n if n or self.progress else min(most, FIRST_PAGE)


@dataclass
class _Clause:
    key: str  # what it asks, for the cursor's signature
    terms: tuple[str, ...]  # postings that satisfy it
    count: float  # images that satisfy it (math.inf: too many terms to join)
    test: Callable[[ImageRecord, set[str]], bool] = field(repr=False)


def _counts(terms: list[str]) -> dict[str, int]:
    """The counters of `terms` (0 when none), in one BatchGet."""
    keys = {counter_of(t): t for t in terms}
    found = {t: 0 for t in terms}
    if keys:
        for item in ImageTerm.batch_get([(FACET_PREFIX + f, v) for f, v in keys]):
            found[keys[(item.term[len(FACET_PREFIX):], item.sort_key)]] = max(0, int(item.facet_count or 0))
    return found


def _expansions(word: str) -> tuple[list[tuple[str, int]], bool]:
    """The (term, count) of names holding `word`, and whether they are all of them."""
    items = list(ImageTerm.query(FACET_PREFIX + "word", ImageTerm.sort_key.startswith(f"{word} "),
                                 limit=MAX_EXPANSIONS + 1, page_size=MAX_EXPANSIONS + 1))
    found = [(i.sort_key.split(" ", 1)[1], int(i.facet_count or 0)) for i in items if (i.facet_count or 0) > 0]
    return found[:MAX_EXPANSIONS], len(items) <= MAX_EXPANSIONS


def _clauses(criteria: Criteria) -> list[_Clause]:
    plain = criteria.terms()
    base = {w: (f"title:{w}", f"keyword:{w}") for w in criteria.q}
    wanted = plain + [t for pair in base.values() for t in pair]
    # One clause needs no plan: its counters would cost a read and change nothing.
    counts = _counts(wanted) if len(plain) + len(base) > 1 else {t: 0 for t in wanted}
    clauses = [_Clause(t, (t,), counts[t], lambda r, terms, t=t: t in terms) for t in plain]
    for word, pair in base.items():
        names, complete = _expansions(word)
        count = sum(counts[t] for t in pair) + sum(n for _, n in names) if complete else math.inf
        terms = tuple(dict.fromkeys([*pair, *(t for t, _ in names)]))
        clauses.append(_Clause(f"any:{word}", terms, count, lambda r, _terms, w=word: w in any_words(r)))
    return clauses


def _plan(clauses: list[_Clause]) -> tuple[list[_Clause], list[_Clause]]:
    """(clauses joined by their postings, clauses checked on records), by their counts."""
    finite = [c for c in clauses if c.count != math.inf]
    if not finite:
        return [], clauses
    rarest = min(c.count for c in finite)
    joined: list[_Clause] = []
    lists = 0  # each costs a Query (0.5 RCU at least) before the join can start
    for clause in sorted(finite, key=lambda c: (c.count, c.key)):
        if clause.count <= max(1, rarest) * JOIN_RATIO and lists + len(clause.terms) <= MAX_STREAMS:
            joined.append(clause)
            lists += len(clause.terms)
    return joined, [c for c in clauses if c not in joined]


def _signature(clauses: list[_Clause]) -> str:
    return hashlib.sha256(json.dumps(sorted(c.key for c in clauses)).encode()).hexdigest()[:16]


# ---------------------------------------------------------------- positions

# A position in list order: a key, and whether the key itself is still to come. A cursor holds
# it as its "sort": the key after the last one decided, or "@" + the first key not yet decided.


@dataclass(frozen=True)
class _Position:
    key: str
    inclusive: bool

    @classmethod
    def of(cls, sort: str | None) -> "_Position | None":
        if not sort:
            return None
        return cls(sort[1:], True) if sort.startswith("@") else cls(sort, False)

    def sort(self) -> str:
        return f"@{self.key}" if self.inclusive else self.key


# ---------------------------------------------------------------- postings


class _Stream:
    """One term's postings in list order from a position, read by Query pages."""

    def __init__(self, term: str, forward: bool, start: _Position | None, budget: _Budget, most: int):
        self.term, self.forward, self.budget, self.most = term, forward, budget, most
        self.start = start  # where the next Query starts
        self.buffer: deque[tuple[str, str]] = deque()
        self.done = False
        self.page = FIRST_PAGE
        self.bytes = POSTING_BYTES + len(term.encode())
        self.share = 1  # lists read side by side (set by the join)

    def _before(self, key: str, target: str) -> bool:
        return key < target if self.forward else key > target

    def _read(self) -> None:
        # A fair share of what is left: a page read far beyond where the other lists stop is
        # read again by the next request.
        n = self.budget.items(self.bytes * self.share, self.page)
        if n == 0:
            raise _Spent
        condition = None
        if self.start:
            key, at = self.start.key, self.start.inclusive
            condition = ((ImageTerm.sort_key >= key if at else ImageTerm.sort_key > key) if self.forward
                         else (ImageTerm.sort_key <= key if at else ImageTerm.sort_key < key))
        items = list(ImageTerm.query(self.term, condition, scan_index_forward=self.forward, limit=n, page_size=n))
        self.buffer.extend((p.sort_key, p.image_id) for p in items)
        if items:
            self.start = _Position(items[-1].sort_key, False)
        self.done = len(items) < n
        self.page = min(self.page * 2, self.most)

    def head(self) -> str | None:
        """The next key, reading a page when none is buffered (None: no more)."""
        if not self.buffer and not self.done:
            self._read()
        return self.buffer[0][0] if self.buffer else None

    def seek(self, target: str) -> None:
        """Skip the keys before `target`; past the buffer, the next Query starts at it."""
        while self.buffer and self._before(self.buffer[0][0], target):
            self.buffer.popleft()
        if not self.buffer and not self.done and (self.start is None or self._before(self.start.key, target)):
            self.start = _Position(target, True)


class _Union:
    """A clause's streams: the keys of any of its terms, in list order."""

    def __init__(self, terms: tuple[str, ...], forward: bool, start: _Position | None, budget: _Budget,
                 most: int):
        self.streams = [_Stream(t, forward, start, budget, most) for t in terms]
        self.forward = forward

    def head(self) -> str | None:
        heads = [h for h in (s.head() for s in self.streams) if h is not None]
        if not heads:
            return None
        return min(heads) if self.forward else max(heads)

    def image_id(self, key: str) -> str:
        return next(s.buffer[0][1] for s in self.streams if s.buffer and s.buffer[0][0] == key)

    def seek(self, target: str) -> None:
        for stream in self.streams:
            stream.seek(target)


class _Join:
    """The keys in every clause's postings (a leapfrog merge-join), from a position."""

    def __init__(self, clauses: list[_Clause], forward: bool, start: _Position | None, budget: _Budget):
        # A list much longer than the rarest is mostly sought past: its pages grow less.
        rarest = max(1.0, min(c.count for c in clauses))
        self.budget = budget
        self.unions = [_Union(c.terms, forward, start, budget,
                              max(FIRST_PAGE, int(MAX_PAGE * rarest / max(1.0, c.count)))) for c in clauses]
        streams = [s for u in self.unions for s in u.streams]
        for stream in streams:
            stream.share = len(streams)
        self.forward = forward
        self.at = start  # every key before it is decided
        self.exhausted = False

    def _ahead(self, a: str, b: str) -> bool:
        return a > b if self.forward else a < b

    def next(self) -> tuple[str, str] | None:
        """The next (key, image id) in every clause; None at the end. _Spent leaves `at` where
        the next request goes on."""
        target = self.at.key if self.at and self.at.inclusive else None
        moved = True
        while moved:
            moved = False
            for union in self.unions:
                if target is not None:
                    union.seek(target)
                head = union.head()
                if head is None:
                    self.exhausted = True
                    return None
                if target is None or self._ahead(head, target):
                    target, moved = head, True
                    if self.at is None or self._ahead(target, self.at.key) or not self.at.inclusive:
                        self.budget.progress = True
                    self.at = _Position(target, True)  # every key before the candidate is decided
        # No list is ahead of the target, and none behind it (each sought it): a match. Its
        # record must fit in the budget, or the next request starts at it.
        if self.budget.progress and self.budget.left() < RECORD_RCU:
            raise _Spent
        image_id = self.unions[0].image_id(target)
        for union in self.unions:
            union.seek(target)
            for stream in union.streams:
                if stream.buffer and stream.buffer[0][0] == target:
                    stream.buffer.popleft()
        self.at = _Position(target, False)
        self.budget.progress = True
        return target, image_id


class _Listed:
    """Every image in list order from a position (the by_created index holds whole records)."""

    def __init__(self, forward: bool, start: _Position | None, budget: _Budget):
        self.forward, self.budget = forward, budget
        self.at = start
        self.buffer: deque[ImageRecord] = deque()
        self.exhausted = False
        self.done = False

    def next(self) -> ImageRecord | None:
        if not self.buffer and not self.done:
            n = self.budget.items(LISTED_BYTES, MAX_PAGE)
            if n == 0:
                raise _Spent
            condition = None
            if self.at:
                key = self.at.key
                condition = ((ImageRecord.created_key >= key if self.at.inclusive else ImageRecord.created_key > key)
                             if self.forward else
                             (ImageRecord.created_key <= key if self.at.inclusive else ImageRecord.created_key < key))
            records = list(ImageRecord.by_created.query(LISTED, condition, scan_index_forward=self.forward,
                                                        limit=n, page_size=n))
            self.buffer.extend(records)
            self.done = len(records) < n
        if not self.buffer:
            self.exhausted = True
            return None
        record = self.buffer.popleft()
        self.at = _Position(record.created_key, False)
        self.budget.progress = True
        return record


def _records(ids: list[str]) -> dict[str, ImageRecord]:
    found: dict[str, ImageRecord] = {}
    for start in range(0, len(ids), 100):
        found.update({r.id: r for r in ImageRecord.batch_get(ids[start:start + 100])})
    return found


# ---------------------------------------------------------------- the query


def _matches(record: ImageRecord | None, clauses: list[_Clause]) -> bool:
    if record is None or record.state != READY:
        return False
    terms = terms_of(record)
    return all(c.test(record, terms) for c in clauses)


def image_find(*, criteria: Criteria, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None,
               order: str = "newest") -> Page:
    """Images with everything `criteria` asks, newest (or oldest) first, spending at most
    rcu_cap(limit) RCU; a short page with a cursor means the budget ran out first."""
    order = parse_order(order)
    with capacity.metering() as meter:
        clauses = _clauses(criteria)
        start = decode_cursor(cursor, {"q": _signature(clauses), "order": order})
        position = _Position.of(start["sort"] if start else None)
        forward = order == "oldest"
        budget = _Budget(meter, rcu_cap(limit))
        joined, checks = _plan(clauses)
        found, more = _collect(joined, checks, forward, position, budget, limit)
    if len(found) > limit:
        return Page(found[:limit], encode_cursor({"q": _signature(clauses), "order": order,
                                                  "sort": found[limit - 1].created_key}))
    if more is None:
        return Page(found, None)
    return Page(found, encode_cursor({"q": _signature(clauses), "order": order, "sort": more.sort()}))


def _collect(joined: list[_Clause], checks: list[_Clause], forward: bool, position: _Position | None,
             budget: _Budget, limit: int) -> tuple[list[ImageRecord], _Position | None]:
    """Up to limit + 1 matches from `position`, and where the next request goes on (None: the end)."""
    found: list[ImageRecord] = []
    if not joined:
        listed = _Listed(forward, position, budget)
        try:
            while len(found) <= limit:
                record = listed.next()
                if record is None:
                    return found, None
                if _matches(record, checks):
                    found.append(record)
        except _Spent:
            pass
        return found, listed.at
    join = _Join(joined, forward, position, budget)
    while True:
        wanted = limit + 1 - len(found)
        pending: list[tuple[str, str]] = []
        spent = False
        try:
            while len(pending) < wanted:
                match = join.next()
                if match is None:
                    break
                pending.append(match)
                budget.reserve = len(pending) * RECORD_RCU  # their records, read below
        except _Spent:
            spent = True
        # With nothing to check on records, the match beyond the page needs no record: it only
        # tells that there is a next page.
        room = limit - len(found)
        to_read = pending if checks else pending[:room]
        records = _records([i for _, i in to_read])
        budget.reserve = 0
        for index, (key, image_id) in enumerate(pending):
            if index >= len(to_read):
                if len(found) == limit:
                    return found, _Position(found[-1].created_key, False)
                return found, _Position(key, True)  # a match was stale: go on from the one unread
            record = records.get(image_id)
            if _matches(record, joined + checks):
                found.append(record)
            if len(found) > limit:
                return found, None
        if spent:
            return found, join.at
        if join.exhausted:
            return found, None
