"""The merge-join of images.catalog.query: posting lists read by Query pages within a request's
read budget, and the list of every image for a query with nothing to join. Django-free.

A Stream reads one term's postings in list order, a page at a time, seeking forward with a
key condition; a Union is a clause's streams (any of its terms); a Join leapfrogs the unions
to the keys in all of them; Listed walks the by_created index. Every read is paid from the
request's Budget; Spent stops the request where the next one goes on (a Position).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from images.catalog import capacity
from images.records import LISTED, ImageRecord, ImageTerm

# What one record read by BatchGetItem costs (under 4 KB, eventually consistent).
RECORD_RCU = 0.5
# Bytes of a posting besides its term (attribute names, a created_key of up to 64 bytes, an
# image id): what a read assumes before its Query; the meter counts what was read.
POSTING_BYTES = len("term") + len("sort_key") + 64 + len("image_id") + 32
LISTED_BYTES = 2048  # a record read by the list's Query, for the same planning
FIRST_PAGE = 32  # postings of a list's first Query (one 4 KB unit); each further Query reads twice as many
MAX_PAGE = 4000  # postings of one Query (about 500 KB, under DynamoDB's 1 MB page), for lists of like counts


class Spent(Exception):
    """The request's budget cannot pay for the next read."""


@dataclass
class Budget:
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


# ---------------------------------------------------------------- positions

# A position in list order: a key, and whether the key itself is still to come. A cursor holds
# it as its "sort": the key after the last one decided, or "@" + the first key not yet decided.


@dataclass(frozen=True)
class Position:
    key: str
    inclusive: bool

    @classmethod
    def of(cls, sort: str | None) -> "Position | None":
        if not sort:
            return None
        return cls(sort[1:], True) if sort.startswith("@") else cls(sort, False)

    def sort(self) -> str:
        return f"@{self.key}" if self.inclusive else self.key


# ---------------------------------------------------------------- postings


class Stream:
    """One term's postings in list order from a position, read by Query pages."""

    def __init__(self, term: str, forward: bool, start: Position | None, budget: Budget, most: int):
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
            raise Spent
        condition = None
        if self.start:
            key, at = self.start.key, self.start.inclusive
            condition = ((ImageTerm.sort_key >= key if at else ImageTerm.sort_key > key) if self.forward
                         else (ImageTerm.sort_key <= key if at else ImageTerm.sort_key < key))
        items = list(ImageTerm.query(self.term, condition, scan_index_forward=self.forward, limit=n, page_size=n))
        self.buffer.extend((p.sort_key, p.image_id) for p in items)
        if items:
            self.start = Position(items[-1].sort_key, False)
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
            self.start = Position(target, True)


class Union:
    """A clause's streams: the keys of any of its terms, in list order."""

    def __init__(self, terms: tuple[str, ...], forward: bool, start: Position | None, budget: Budget,
                 most: int):
        self.streams = [Stream(t, forward, start, budget, most) for t in terms]
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


class Join:
    """The keys in every clause's postings (a leapfrog merge-join), from a position."""

    def __init__(self, clauses: list, forward: bool, start: Position | None, budget: Budget):
        # A list much longer than the rarest is mostly sought past: its pages grow less.
        rarest = max(1.0, min(c.count for c in clauses))
        self.budget = budget
        self.unions = [Union(c.terms, forward, start, budget,
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
        """The next (key, image id) in every clause; None at the end. Spent leaves `at` where
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
                    self.at = Position(target, True)  # every key before the candidate is decided
        # No list is ahead of the target, and none behind it (each sought it): a match. Its
        # record must fit in the budget, or the next request starts at it.
        if self.budget.progress and self.budget.left() < RECORD_RCU:
            raise Spent
        image_id = self.unions[0].image_id(target)
        for union in self.unions:
            union.seek(target)
            for stream in union.streams:
                if stream.buffer and stream.buffer[0][0] == target:
                    stream.buffer.popleft()
        self.at = Position(target, False)
        self.budget.progress = True
        return target, image_id


class Listed:
    """Every image in list order from a position (the by_created index holds whole records)."""

    def __init__(self, forward: bool, start: Position | None, budget: Budget):
        self.forward, self.budget = forward, budget
        self.at = start
        self.buffer: deque[ImageRecord] = deque()
        self.exhausted = False
        self.done = False

    def next(self) -> ImageRecord | None:
        if not self.buffer and not self.done:
            n = self.budget.items(LISTED_BYTES, MAX_PAGE)
            if n == 0:
                raise Spent
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
        self.at = Position(record.created_key, False)
        self.budget.progress = True
        return record
