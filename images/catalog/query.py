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

This module plans and collects a page; the lists are read by images.catalog.merge_join.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from images.catalog import capacity
from images.catalog.base import DEFAULT_PAGE_SIZE, Page
from images.catalog.criteria import PARAMS, Criteria, criteria_from  # noqa: F401 (re-exported)
from images.catalog.cursors import decode_cursor, encode_cursor
from images.catalog.facets import FACET_PREFIX, counter_of
from images.catalog.merge_join import RECORD_RCU, Budget, Join, Listed, Position, Spent
from images.catalog.terms import any_words, terms_of
from images.catalog.validation import parse_order
from images.records import READY, ImageRecord, ImageTerm

# The budget: RCU one request may spend besides its page's records (RECORD_RCU each).
RCU_BASE = 37.5
JOIN_RATIO = 32  # postings one record read costs, about: join a clause up to this many x the rarest
MAX_STREAMS = 24  # posting lists one join reads at once (the rest of the clauses are checked on records)
MAX_EXPANSIONS = 16  # names (authors, creators, keywords) one any-field word may stand for


def rcu_cap(limit: int) -> float:
    """RCU one request spends at most: the budget and the page's records."""
    return RCU_BASE + limit * RECORD_RCU


# ---------------------------------------------------------------- the plan


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
        position = Position.of(start["sort"] if start else None)
        forward = order == "oldest"
        budget = Budget(meter, rcu_cap(limit))
        joined, checks = _plan(clauses)
        found, more = _collect(joined, checks, forward, position, budget, limit)
    if len(found) > limit:
        return Page(found[:limit], encode_cursor({"q": _signature(clauses), "order": order,
                                                  "sort": found[limit - 1].created_key}))
    if more is None:
        return Page(found, None)
    return Page(found, encode_cursor({"q": _signature(clauses), "order": order, "sort": more.sort()}))


def _collect(joined: list[_Clause], checks: list[_Clause], forward: bool, position: Position | None,
             budget: Budget, limit: int) -> tuple[list[ImageRecord], Position | None]:
    """Up to limit + 1 matches from `position`, and where the next request goes on (None: the end)."""
    found: list[ImageRecord] = []
    if not joined:
        listed = Listed(forward, position, budget)
        try:
            while len(found) <= limit:
                record = listed.next()
                if record is None:
                    return found, None
                if _matches(record, checks):
                    found.append(record)
        except Spent:
            pass
        return found, listed.at
    join = Join(joined, forward, position, budget)
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
        except Spent:
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
                    return found, Position(found[-1].created_key, False)
                return found, Position(key, True)  # a match was stale: go on from the one unread
            record = records.get(image_id)
            if _matches(record, joined + checks):
                found.append(record)
            if len(found) > limit:
                return found, None
        if spent:
            return found, join.at
        if join.exhausted:
            return found, None
