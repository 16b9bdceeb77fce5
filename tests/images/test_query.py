"""The bounded query engine (images.catalog.query): combined filters, any-field words, the
per-request read budget, word order, cursors; and a small run of `make bench`."""

from __future__ import annotations

import importlib.util

import pytest

from images import catalog
from images.catalog import query
from images.catalog.query import Criteria, criteria_from, image_find, rcu_cap
from images.records import ImageRecord, ImageTerm
from local.stack import ROOT
from tests.helpers import make_image

ALICE = catalog.Actor(sub="sub-alice", username="alice")
BOB = catalog.Actor(sub="sub-bob", username="bob.martí")

_spec = importlib.util.spec_from_file_location("bench_search", ROOT / "scripts" / "bench_search.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def create(owner=ALICE, **values):
    fields = dict(title="Sunset", description="", keywords="", author="Ana Díaz", capture_date="2024-05-17")
    fields.update(values)
    return catalog.image_create(owner=owner, meta=catalog.validate_meta(**fields), data=make_image())


def ids(page):
    return [r.id for r in page.items]


def everything(criteria, limit=2, order="newest"):
    """Every image found, following cursors; and the most RCU one request spent."""
    found, cursor, most = [], None, 0
    while True:
        with bench.counting() as reads:
            page = image_find(criteria=criteria, limit=limit, cursor=cursor, order=order)
        most = max(most, reads.rcu)
        found += ids(page)
        cursor = page.next_cursor
        if not cursor:
            return found, most


def test_filters_combine_and_page_without_repeats(aws):
    both = [create(title=f"Lake {i}", keywords="lake,blue") for i in range(3)]
    create(keywords="lake", author="Luis Vidal")
    create(keywords="sea")
    found, _ = everything(criteria_from({"author": "ana díaz", "keywords": "Lake"}))
    assert found == [r.id for r in reversed(both)]
    oldest, _ = everything(criteria_from({"author": "Ana Díaz", "keywords": "lake,blue"}), order="oldest")
    assert oldest == [r.id for r in both]
    dated, _ = everything(criteria_from({"keywords": "lake", "capture_date": "2024-05"}))
    assert len(dated) == 4


def test_any_field_words_match_title_keywords_author_and_creator(aws):
    mine = create(title="Harbour at dawn", keywords="golden hour,boats")
    bobs = create(owner=BOB, title="Market", keywords="fruit", author="Marta Puig")
    create(title="Harbour", author="Luis Vidal")

    def q(text):
        return sorted(everything(criteria_from({"q": text}))[0])

    assert q("harbour díaz") == [mine.id]  # title word + author word, any order
    assert q("DÍAZ harbour") == [mine.id]
    assert q("golden boats") == [mine.id]  # a word of a keyword of several words, and a keyword
    assert q("martí fruit") == [bobs.id]  # a word of the creator
    assert q("puig") == [bobs.id]
    assert q("harbour nowhere") == []


def test_the_budget_bounds_every_request_and_cursors_reach_every_match(aws):
    """Two common words whose images rarely meet: pages may come short, never over budget."""
    rng = bench.random.Random(0)
    records = [bench.make_record(i, 600, rng) for i in range(600)]
    bench.load(*bench.items_of(records), direct=False)
    wanted = [r.id for r in sorted(records, key=lambda r: r.created_key, reverse=True)
              if {"river", "bridge"} <= set(r.title.lower().split())]
    found, most = everything(Criteria(title=("river", "bridge")), limit=5)
    assert found == wanted and len(wanted) == 1
    assert most <= rcu_cap(5)
    # Word order does not change the plan, so not the cost either.
    costs = []
    for title in ("street number heron", "heron number street", "number heron street"):
        with bench.counting() as reads:
            page = catalog.image_search(key="title", value=title)
        costs.append((reads.rcu, reads.calls, ids(page)))
    assert costs[0] == costs[1] == costs[2] and costs[0][0] < 5


def test_a_cursor_is_bound_to_its_query_and_order(aws):
    for _ in range(3):
        create(keywords="lake")
    page = image_find(criteria=Criteria(keywords=("lake",)), limit=1)
    with pytest.raises(catalog.InvalidField):
        image_find(criteria=Criteria(keywords=("lake",), author="Ana Díaz"), limit=1, cursor=page.next_cursor)
    with pytest.raises(catalog.InvalidField):
        image_find(criteria=Criteria(keywords=("lake",)), limit=1, cursor=page.next_cursor, order="oldest")
    assert len(ids(image_find(criteria=Criteria(keywords=("lake",)), limit=1, cursor=page.next_cursor))) == 1


@pytest.mark.parametrize("params", [
    {"capture_date": "2024-5"}, {"storage_date": "yesterday"}, {"q": "!!!"},
    {"q": "a b c d e f g"}, {"capture_date": "2024", "creationdate": "2023"},
])
def test_bad_criteria_are_invalid_input(params):
    with pytest.raises(catalog.InvalidField):
        criteria_from(params)


def test_counters_follow_edits_and_deletes(aws):
    record = create(title="Red kite", keywords="bird of prey")
    counter = lambda field, value: ImageTerm.get(f"facet:{field}", value).facet_count  # noqa: E731
    assert counter("title", "kite") == 1 and counter("word", "prey keyword:bird of prey") == 1
    catalog.image_update(actor=ALICE, image_id=record.id, meta=catalog.validate_meta(
        title="Red fox", description="", keywords="", author="Ana Díaz", capture_date=None))
    assert ImageTerm.count("facet:title", ImageTerm.sort_key == "kite") == 0
    assert counter("title", "fox") == 1
    catalog.image_delete(actor=ALICE, image_id=record.id)
    assert ImageTerm.count("facet:title", ImageTerm.sort_key == "fox") == 0
    assert ImageRecord.get(record.id).state == "trashed"  # in the trash, counted nowhere


def test_bench_small_run_keeps_the_budget_and_agrees_with_the_seed():
    """`make bench` at a small size (BatchWriteItem loading): every query of both designs, every
    request of ours within the RCU cap, the same images as the seed's filter. (About 10 s.)"""
    rows = bench.run_size(400, direct=False, follow=200)
    assert {r["query"] for r in rows} >= {"list, first page", "list, fifth page", "id = one image",
                                          "any field 'díaz lake'", "author 'Ana Díaz' + keyword 'lake'",
                                          "title 'river bridge'"}
    for row in rows:
        assert row["most_rcu"] <= query.rcu_cap(bench.PAGE), row
        assert row["seed_calls"] == 1 and 30 < row["seed_rcu"] < 35, row  # 400 records of ~645 bytes
        if row["query"].startswith(("list", "id")):
            assert row["results"] == (1 if row["query"].startswith("id") else bench.PAGE), row
            continue
        assert row["whole_complete"] and row["whole_results"] == row["seed_results"], row
        assert row["empty_pages"] == 0, row


def test_reindex_turns_old_postings_into_folded_ones(aws):
    """A catalog indexed before search folded accents: reindex_search rewrites its postings."""
    from images.reindex import reindex_search

    record = create(title="Café terrace", author="Ana Díaz")
    ImageTerm("title:cafe", record.created_key).delete()  # as the old code wrote it
    ImageTerm("title:café", record.created_key, image_id=record.id).save()
    assert ids(image_find(criteria=criteria_from({"q": "cafe"}))) == []
    report = reindex_search()
    assert (report.images, report.deleted) == (1, 2)  # the old forms title:café and author:ana díaz
    assert ids(image_find(criteria=criteria_from({"q": "cafe"}))) == [record.id]
    assert ImageTerm.count("title:café") == 0


@pytest.mark.parametrize("value", ["2023-13", "2023-02-30", "2023-00", "2023-04-31"])
def test_impossible_dates_are_invalid(value):
    with pytest.raises(catalog.InvalidField):
        criteria_from({"capture_date": value})


@pytest.mark.parametrize("starved", [False, True])
def test_the_merge_join_agrees_with_a_filter_of_every_record_both_ways(aws, monkeypatch, starved):
    """Random titles, keywords and authors; every combination's pages, newest and oldest first,
    three at a time, are exactly the records that match, in order, each request within the
    cap; `starved`, every request runs out of budget at once (one small read, then a cursor
    from wherever it stopped). (About 7 s each.)"""
    if starved:
        monkeypatch.setattr(query, "RCU_BASE", 0)
    rng = bench.random.Random(7)
    records = []
    for i in range(150):
        record = bench.make_record(i, 150, rng)
        record.title = " ".join(rng.sample(["river", "bridge", "Café", "lake", "tower"], rng.randint(1, 3)))
        record.keywords = rng.sample(["lake", "city", "crème"], rng.randint(1, 2))
        records.append(record)
    bench.load(*bench.items_of(records), direct=True)
    cases = [Criteria(title=("river", "bridge")), Criteria(title=("cafe",), keywords=("creme",)),
             Criteria(q=("lake", "bridge", "tower")), Criteria(q=("díaz",), title=("café",)),
             Criteria(keywords=("city",), captured="2017")]
    for criteria in cases[::2] if starved else cases:  # starved: fewer, for time
        for order in ("newest", "oldest"):
            expected = [r.id for r in sorted(records, key=lambda r: r.created_key, reverse=order == "newest")
                        if _matches_by_hand(r, criteria)]
            found, most = everything(criteria, limit=3, order=order)
            assert found == expected and expected, (criteria, order)
            assert starved or most <= rcu_cap(3)


def _matches_by_hand(record, criteria):
    from images.catalog.terms import any_words, terms_of

    return set(criteria.terms()) <= terms_of(record) and set(criteria.q) <= any_words(record)


def test_a_request_out_of_budget_right_after_a_match_goes_on_after_it(aws, monkeypatch):
    """Both lists' first pages (32 postings) all match; the budget ends there: the next request
    starts after the last match, never at it (no image twice). (About 3 s.)"""
    monkeypatch.setattr(query, "RCU_BASE", 0)
    rng = bench.random.Random(3)
    records = [bench.make_record(i, 40, rng) for i in range(40)]
    for record in records:
        record.title = "Alpha beta"
    bench.load(*bench.items_of(records), direct=True)
    found, _ = everything(Criteria(title=("alpha", "beta")), limit=35)
    assert found == [r.id for r in sorted(records, key=lambda r: r.created_key, reverse=True)]


def test_the_date_prefix_takes_ascii_digits_only():
    from images.catalog.base import DATE_PREFIX

    assert all(DATE_PREFIX.match(v) for v in ("2023", "2023-04", "2023-04-05"))
    assert not any(DATE_PREFIX.match(v) for v in ("２０２３", "٢٠٢٣-04", "2023\n", "2023-4", "23-04-05"))
