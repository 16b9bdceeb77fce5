"""How many images a list or search has, read from the counters (images.catalog.facets) in one
BatchGet: the whole catalog and one filter exactly; several filters at most the rarest one's
count; the words of an any-field search not at all (a word stands for several terms that may
overlap). Django-free."""

from __future__ import annotations

from dataclasses import dataclass

from images.catalog.facets import FACET_PREFIX, TOTAL, counter_of
from images.catalog.query import Criteria
from images.records import ImageTerm


@dataclass(frozen=True)
class Count:
    total: int | None  # every image in the catalog (None: not counted yet; the sweep counts it)
    matching: int | None = None  # images matching the criteria (None: no criteria, or not known)
    exact: bool = True  # False: `matching` is an upper bound


def image_count(criteria: Criteria | None = None) -> Count:
    """The catalog's count and, for criteria, how many images match them."""
    terms = criteria.terms() if criteria else []
    keys = list(dict.fromkeys([TOTAL, *(counter_of(t) for t in terms)]))
    found = {(item.term[len(FACET_PREFIX):], item.sort_key): max(0, int(item.facet_count or 0))
             for item in ImageTerm.batch_get([(FACET_PREFIX + field, value) for field, value in keys])}
    total = found.get(TOTAL)
    if not terms:
        return Count(total)
    matching = min(found.get(counter_of(t), 0) for t in terms)
    return Count(total, matching, exact=len(terms) == 1 and not criteria.q)
