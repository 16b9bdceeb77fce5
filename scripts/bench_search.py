"""`make bench`: read capacity (RCU), DynamoDB calls and requests of lists and searches,
ours beside the seed's full-table Scan.

For each size N it loads N image records and their search postings and counters, made by
the catalog's own code (terms_of, facets_of), into the in-process emulator (moto; nothing
leaves the machine), then runs each query with our engine: the first page of 25 (or the
fifth), then every further page its cursors lead to (the whole result). Capacity is metered
by DynamoDB's rules (images.catalog.capacity: eventually consistent, GetItem and each item of
a BatchGetItem rounded up to 4 KB, a Query's total rounded once) from the items each response
carries. The seed's design, a Scan of the whole table with a filter expression, costs the
same for every query: the table's items in 1 MB calls, each rounded once (scan_cost); the
filtered Scan is run too, for its results. The merge-join bound of a search is what reading
every clause's posting lists by Query pages, plus the matching records, costs.

    .venv/bin/python scripts/bench_search.py [--sizes 1000 10000 100000] [--out benchmarks/search.json]

Emulator speed-ups (wall time only; what is read and returned is unchanged): moto's Query
walks and sorts every item of a table and its Scan re-sorts the table for every page, so
the bench gives its Query a per-partition lookup, as DynamoDB has, and caches the sorted
table once loaded (the bench writes nothing after); and as its Scan walks the table again from the start for every 1 MB
page, the bench lets it answer a Scan in one page (the seed's calls and RCU are computed as
DynamoDB pages it); and its reads answer in plain JSON, as DynamoDB's wire format is, rather
than through moto's generic response serializer (milliseconds per item). Loading goes
straight into moto's tables for sizes over --batch-max: moto's BatchWriteItem handles about 1,000 items a second (request parsing and
per-attribute size checks), which would take over 20 minutes for the 1.3 million items of
100,000 images.

One module on purpose: a benchmark script whose data generation, queries, seed baseline and report
are read together to judge the figures; nothing in it is imported by the product.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from local.stack import LOCAL_AWS_ENV  # noqa: E402

os.environ.update(LOCAL_AWS_ENV)
os.environ.pop("AWS_ENDPOINT_URL", None)

import boto3  # noqa: E402
from boto3.dynamodb.conditions import Attr  # noqa: E402
from moto import mock_aws  # noqa: E402
from moto.core.responses import ActionResult  # noqa: E402
from moto.dynamodb.models import dynamodb_backends  # noqa: E402
from moto.dynamodb.models.dynamo_type import DynamoType, Item  # noqa: E402
from moto.dynamodb.models import table as moto_table  # noqa: E402
from moto.dynamodb.models.table import Table  # noqa: E402
from moto.dynamodb.models.dynamo_type import LimitedSizeDict  # noqa: E402

from common.config import get_config  # noqa: E402
from images import catalog  # noqa: E402
from images.catalog import capacity, query  # noqa: E402
from images.catalog.facets import FACET_PREFIX  # noqa: E402
from images.catalog.terms import words  # noqa: E402
from images.records import LISTED, READY, ImageRecord, ImageTerm  # noqa: E402
from local import bootstrap  # noqa: E402

PAGE = 25
RARE = 5  # images found by the narrow searches, whatever N
FIRST = ("Ana", "Luis", "Marta", "Jordi", "Laia", "Pau", "Eva", "Iker", "Nuria", "Marc")
LAST = ("Díaz", "Puig", "Soler", "Vidal", "Serra", "Font", "Roca", "Pons", "Mas", "Ferrer")
START = datetime(2024, 1, 1, tzinfo=timezone.utc)


# ---------------------------------------------------------------- data


def make_record(i: int, n: int, rng: random.Random) -> ImageRecord:
    """Image i of n: `heron`, keyword `rare`, author `Rare Author`, creator `rarecreator` and
    capture date 2020-02-02 on RARE images; `street` on half, `river` and `bridge` on a third
    each and both on one in 3,000; author Ana Díaz on about 12 %, keyword `lake` on 10 %."""
    rare = i % max(1, n // RARE) == 0
    created = START + timedelta(minutes=i)
    image_id = uuid.UUID(int=rng.getrandbits(128), version=4).hex
    title = " ".join(filter(None, ("Street" if i % 2 == 0 else "Avenue", "river" if i % 3 == 0 else "",
                                   "bridge" if i % 3 == 1 or i % 3000 == 0 else "", "heron" if rare else "",
                                   f"number {i}")))
    keywords = (["lake" if i % 10 == 3 else "city"] + (["golden hour"] if i % 7 == 0 else [])
                + (["rare"] if rare else []))
    author = "Rare Author" if rare else ("Ana Díaz" if i % 10 == 1 or i % 50 == 3 else
                                         f"{rng.choice(FIRST)} {rng.choice(LAST)}")
    captured = "2020-02-02" if rare else f"{2015 + i % 9}-{1 + i % 12:02d}-{1 + i % 28:02d}"
    return ImageRecord(
        id=image_id, state=READY, listed=LISTED, created_key=f"{created.isoformat()}#{image_id}",
        created_at=created, updated_at=created, title=title, description="", keywords=keywords, author=author,
        creator="rarecreator" if rare else f"user{i % 40}", owner_sub="bench", capture_date=captured,
        storage_date=created.date().isoformat(), filename=f"{image_id}.jpg", object_key=f"images/{image_id}",
        thumbnail_key=f"thumbnails/{image_id}.jpg", content_type="image/jpeg", byte_size=1, width=1, height=1,
        sha256="0" * 64, version=1,
    )


def items_of(records: list[ImageRecord]) -> tuple[list[ImageRecord], list[ImageTerm]]:
    """The records, their postings and the counters, by the catalog's own functions."""
    postings, counts, labels = [], Counter(), {}
    for record in records:
        postings += [ImageTerm(t, record.created_key, image_id=record.id) for t in catalog.terms_of(record)]
        for key, label in catalog.facets_of(record).items():
            counts[key] += 1
            labels.setdefault(key, label)
    counters = [ImageTerm(FACET_PREFIX + f, v, label=labels[(f, v)], facet_count=c) for (f, v), c in counts.items()]
    return records, postings + counters


def load(records: list[ImageRecord], terms: list[ImageTerm], *, direct: bool) -> None:
    """Write the items: through BatchWriteItem, or `direct`ly into moto's tables."""
    _SORTED.clear()  # the emulator's sorted copies are made again after loading
    if not direct:
        with ImageRecord.batch_write() as images, ImageTerm.batch_write() as batch:
            for record in records:
                images.save(record)
            for term in terms:
                batch.save(term)
        return
    backend = dynamodb_backends["123456789012"][get_config().aws_region]
    for model, items in ((ImageRecord, records), (ImageTerm, terms)):
        table = backend.get_table(model.Meta.table_name)
        for item in items:
            attrs = item.serialize()
            moto_item = Item.__new__(Item)
            moto_item.hash_key = DynamoType(attrs[table.hash_key_attr])
            moto_item.range_key = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
            moto_item.attrs = LimitedSizeDict()
            dict.update(moto_item.attrs, {k: DynamoType(v) for k, v in attrs.items()})
            if table.range_key_attr:
                table.items[moto_item.hash_key][moto_item.range_key] = moto_item
            else:
                table.items[moto_item.hash_key] = moto_item


# ---------------------------------------------------------------- emulator speed-ups

_SORTED: dict = {}
_all_items, _query, _sorted_items = Table.all_items, Table.query, Table.sorted_items
_execute = ActionResult.execute_result
_PLAIN_JSON = {"Query", "Scan", "GetItem", "BatchGetItem"}


def _cached_sorted_items(self, hash_attrs, range_attrs, items):
    key = (id(self), tuple(hash_attrs), tuple(range_attrs), len(items))
    if key not in _SORTED:
        _SORTED[key] = _sorted_items(self, hash_attrs, range_attrs, items)
    return list(_SORTED[key])  # a copy: Query reverses it in place for newest first


def _json_result(self, context):
    """DynamoDB's reads answer in plain JSON: skip moto's generic serializer (7 ms an item)."""
    if context.service_model.service_name == "dynamodb" and context.operation_model.name in _PLAIN_JSON:
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(self.result)
    return _execute(self, context)


def _cached_all_items(self):
    if id(self) not in _SORTED:
        _SORTED[id(self)] = _all_items(self)
    return _SORTED[id(self)]


def _partition_query(self, hash_key, *args, **kwargs):
    index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
    if index_name:
        return _query(self, hash_key, *args, **kwargs)
    partition = list(self.items.get(hash_key, {}).values())
    self.all_items = lambda: partition
    try:
        return _query(self, hash_key, *args, **kwargs)
    finally:
        del self.all_items


@contextmanager
def fast_emulator():
    Table.all_items, Table.query, Table.sorted_items = _cached_all_items, _partition_query, _cached_sorted_items
    ActionResult.execute_result = _json_result
    page_limit, moto_table.RESULT_SIZE_LIMIT = moto_table.RESULT_SIZE_LIMIT, 10**12
    try:
        yield
    finally:
        Table.all_items, Table.query, Table.sorted_items = _all_items, _query, _sorted_items
        ActionResult.execute_result = _execute
        moto_table.RESULT_SIZE_LIMIT = page_limit
        _SORTED.clear()


# ---------------------------------------------------------------- counting


def _clients():
    found = {id(c): c for c in (m._get_connection().connection.client for m in (ImageRecord, ImageTerm))}
    found[id(_seed_table().meta.client)] = _seed_table().meta.client
    return found.values()


@contextmanager
def counting():
    """A capacity meter of every DynamoDB call (ours and the seed's client), and the wall time."""
    for client in _clients():
        capacity.watch_client(client)
    started = time.perf_counter()
    with capacity.metering() as meter:
        try:
            yield meter
        finally:
            meter.ms = (time.perf_counter() - started) * 1000


MB = 1 << 20


def scan_cost(items: list[dict]) -> tuple[int, float]:
    """(calls, RCU) of a Scan reading `items` (wire form) as DynamoDB pages it: up to 1 MB a
    call, each call's total rounded up to 4 KB once. A filter expression changes neither."""
    calls, rcu, size = 0, 0.0, 0
    for item in items:
        item_size = capacity.wire_item_size(item)
        if size and size + item_size > MB:
            calls, rcu, size = calls + 1, rcu + capacity.size_rcu(size), 0
        size += item_size
    return calls + 1, rcu + capacity.size_rcu(size)


_TABLE = {}


def _seed_table():
    if "t" not in _TABLE:
        _TABLE["t"] = boto3.resource("dynamodb", region_name=get_config().aws_region).Table(get_config().images_table)
    return _TABLE["t"]


def seed_scan(condition) -> list[dict]:
    """The seed's design: Scan the whole table with a filter expression, every page."""
    kwargs = {"FilterExpression": condition} if condition is not None else {}
    found, start = [], None
    while True:
        page = _seed_table().scan(**kwargs, **({"ExclusiveStartKey": start} if start else {}))
        found += page["Items"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return found


# ---------------------------------------------------------------- the queries


def _words_all(*words):
    """The seed had no search for several words: the nearest Scan, every word contained in the title."""
    condition = None
    for word in words:
        part = Attr("title").contains(word)
        condition = part if condition is None else condition & part
    return condition


def _any_field(*words):
    condition = None
    for word in words:
        part = (Attr("title").contains(word) | Attr("keywords").contains(word) | Attr("author").contains(word)
                | Attr("creator").contains(word))
        condition = part if condition is None else condition & part
    return condition


def queries(sample: ImageRecord, n: int):
    """(label, our request, the seed's filter, pages to follow first, criteria) for size n."""
    find = catalog.image_search

    def seed_key(key, value, condition):
        return (f"{key} {value!r}" if key in ("title", "keywords", "author", "creator") else f"{key} {value}",
                lambda c: find(key=key, value=value, limit=PAGE, cursor=c), condition, 0,
                query.criteria_from({key: value}))

    return [
        ("list, first page", lambda c: catalog.image_list(limit=PAGE, cursor=c), None, 0, None),
        ("list, fifth page", lambda c: catalog.image_list(limit=PAGE, cursor=c), None, 4, None),
        ("id = one image", lambda c: find(key="id", value=sample.id), Attr("id").eq(sample.id), 0, None),
        seed_key("title", "heron", Attr("title").contains("heron")),
        seed_key("keywords", "rare", Attr("keywords").contains("rare")),
        seed_key("author", "Rare Author", Attr("author").eq("Rare Author")),
        seed_key("creator", "rarecreator", Attr("creator").eq("rarecreator")),
        seed_key("creationdate", "2020-02", Attr("capture_date").begins_with("2020-02")),
        seed_key("capture_date", "2020-02-02", Attr("capture_date").eq("2020-02-02")),
        seed_key("storage_date", sample.storage_date, Attr("storage_date").eq(sample.storage_date)),
        seed_key("title", "street number heron", _words_all("Street", "number", "heron")),
        seed_key("title", "river bridge", _words_all("river", "bridge")),
        ("author 'Ana Díaz' + keyword 'lake'",
         lambda c: query.image_find(criteria=query.Criteria(author="Ana Díaz", keywords=("lake",)), limit=PAGE,
                                    cursor=c),
         Attr("author").eq("Ana Díaz") & Attr("keywords").contains("lake"), 0,
         query.Criteria(author="Ana Díaz", keywords=("lake",))),
        ("any field 'díaz lake'",
         lambda c: query.image_find(criteria=query.Criteria(q=("díaz", "lake")), limit=PAGE, cursor=c),
         _any_field("Díaz", "lake"), 0, query.Criteria(q=("díaz", "lake"))),
    ]


def posting_lists(terms: list[ImageTerm]) -> dict[str, list[dict]]:
    """Each posting term's items (wire form); the counters aside."""
    found: dict[str, list[dict]] = {}
    for item in terms:
        if not item.term.startswith(FACET_PREFIX):
            found.setdefault(item.term, []).append(item.serialize())
    return found


def _clause_terms(criteria: query.Criteria, lists: dict[str, list[dict]]) -> list[list[str]]:
    """The posting terms of each clause: a structured filter's term, or every term of a title
    word, keyword, author or creator holding an any-field word."""
    clauses = [[t] for t in criteria.terms()]
    for word in criteria.q:
        clauses.append([t for t in lists if t.split(":", 1)[0] in ("title", "keyword", "author", "creator")
                        and word in words(t.split(":", 1)[1])])
    return clauses


def merge_join_bound(criteria, lists, record_sizes: list[int]) -> tuple[int, float]:
    """(calls, RCU) of the merge-join bound: every clause's posting lists read by Query pages
    (up to 1 MB a call, rounded once), plus the matching records (the seed's Scan's items) read by BatchGetItem."""
    calls, rcu = math.ceil(len(record_sizes) / 100), sum(capacity.size_rcu(size) for size in record_sizes)
    for clause in _clause_terms(criteria, lists):
        for term in clause:
            c, r = scan_cost(lists.get(term, []))
            calls, rcu = calls + c, rcu + r
    return calls, rcu


def run_size(n: int, *, direct: bool, follow: int, seed_scan_max: int = 10000) -> list[dict]:
    """Load n images into a fresh emulator and measure every query; `follow` caps the
    requests followed through to count a whole result's cost."""
    rows = []
    with mock_aws(), fast_emulator():
        get_config.cache_clear()
        bootstrap.ensure_tables()
        for model in (ImageRecord, ImageTerm):  # the connection caches a client: make one inside this mock
            model._connection = None
        _TABLE.clear()
        boto3.setup_default_session()
        rng = random.Random(n)
        started = time.perf_counter()
        records, terms = items_of([make_record(i, n, rng) for i in range(n)])
        load(records, terms, direct=direct)
        print(f"N={n}: loaded {len(records)} records and {len(terms)} postings and counters in "
              f"{time.perf_counter() - started:.1f} s ({'straight into the emulator' if direct else 'BatchWriteItem'})",
              flush=True)
        lists = posting_lists(terms)
        by_id = {r.id: r for r in records}
        sample = records[len(records) // 2]
        catalog.image_list(limit=1)  # the emulator's sorted copies are made here, not in a measured request
        seed_calls, seed_rcu = scan_cost([r.serialize() for r in records])  # any Scan reads the whole table
        cap = query.rcu_cap(PAGE) if hasattr(query, "rcu_cap") else None
        for label, ours, condition, skip, criteria in queries(sample, n):
            cursor = None
            for _ in range(skip):
                cursor = ours(cursor).next_cursor
            with counting() as mine:
                page = ours(cursor)
            row = {"query": label, "n": n, "results": len(page.items), "first_rcu": mine.rcu,
                   "first_calls": mine.calls, "first_ms": round(mine.ms, 1), "whole_requests": 1,
                   "whole_results": len(page.items), "whole_rcu": mine.rcu, "whole_calls": mine.calls,
                   "most_rcu": mine.rcu, "empty_pages": 0,
                   "whole_complete": page.next_cursor is None if condition is not None else None,
                   "seed_calls": seed_calls, "seed_rcu": seed_rcu, "rcu_cap": cap}
            if condition is not None:
                matched = None
                if n <= seed_scan_max:
                    with counting() as seed:
                        matched = seed_scan(condition)
                    row.update(seed_results=len(matched), seed_ms=round(seed.ms, 1))
                found = [r.id for r in page.items]
                if page.next_cursor and follow:
                    row.update(follow_through(ours, page, follow, row, found))
                if criteria is not None:
                    # Above seed_scan_max the filtered Scan (minutes in the emulator) is not run: the
                    # bound's matching records are then ours (they agree with the seed's below it).
                    sizes = ([capacity.item_size(i) for i in matched] if matched is not None
                             else [capacity.wire_item_size(by_id[i].serialize()) for i in found])
                    row["bound_calls"], row["bound_rcu"] = merge_join_bound(criteria, lists, sizes)
            rows.append(row)
            print(_line(row), flush=True)
    return rows


def follow_through(ours, page, most: int, row: dict, found_ids: list[str]) -> dict:
    """Follow the cursors to the end: what the whole result costs, in requests, calls and RCU
    (the images found are added to `found_ids`)."""
    found, requests, cursor = row["whole_results"], 1, page.next_cursor
    rcu, calls, top, empty = row["whole_rcu"], row["whole_calls"], row["most_rcu"], 0
    while cursor and requests < most:
        with counting() as meter:
            page = ours(cursor)
        found, requests, cursor = found + len(page.items), requests + 1, page.next_cursor
        found_ids += [r.id for r in page.items]
        rcu, calls, top = rcu + meter.rcu, calls + meter.calls, max(top, meter.rcu)
        empty += 1 if cursor and not page.items else 0
    return {"whole_results": found, "whole_requests": requests, "whole_complete": cursor is None,
            "whole_rcu": rcu, "whole_calls": calls, "most_rcu": top, "empty_pages": empty}


HEADER = (f"{'N':>7}  {'query':<34} {'results':>7} {'first RCU':>9} {'calls':>5} {'whole: req':>10} "
          f"{'calls':>5} {'RCU':>8} {'max RCU':>7} {'bound':>7} {'seed RCU':>8} {'ms':>6}")


def _line(row: dict) -> str:
    bound = f"{row['bound_rcu']:>7g}" if "bound_rcu" in row else f"{'':>7}"
    return (f"{row['n']:>7}  {row['query']:<34} {row.get('whole_results', row['results']):>7} "
            f"{row['first_rcu']:>9g} {row['first_calls']:>5} {row['whole_requests']:>10} {row['whole_calls']:>5} "
            f"{row['whole_rcu']:>8g} {row['most_rcu']:>7g} {bound} {row['seed_rcu']:>8g} {row['first_ms']:>6.0f}")


def markdown(rows: list[dict]) -> str:
    """The README's table: one size."""
    out = ["| query | results | first page: RCU, calls | whole result: requests, calls, RCU | most RCU in a request "
           "| merge-join bound: RCU | seed's Scan: calls, RCU |", "|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        whole = "(one page)" if r["whole_complete"] is None else (
            f"{r['whole_requests']}, {r['whole_calls']}, {r['whole_rcu']:,g}"
            + ("" if r["whole_complete"] else " (stopped)"))
        bound = f"{r['bound_rcu']:,g}" if "bound_rcu" in r else ""
        out.append(f"| {r['query']} | {r['whole_results']} | {r['first_rcu']:g}, {r['first_calls']} | {whole} | "
                   f"{r['most_rcu']:g} | {bound} | {r['seed_calls']}, {r['seed_rcu']:,g} |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/search.json"))
    parser.add_argument("--batch-max", type=int, default=10000,
                        help="load through BatchWriteItem up to this size, straight into the emulator above it")
    parser.add_argument("--follow", type=int, default=2000, help="requests to follow to count a whole result")
    parser.add_argument("--seed-scan-max", type=int, default=10000,
                        help="run the seed's filtered Scan (for its results) up to this size")
    args = parser.parse_args()
    print(HEADER, flush=True)
    rows = []
    for n in args.sizes:
        rows += run_size(n, direct=n > args.batch_max, follow=args.follow, seed_scan_max=args.seed_scan_max)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    for n in args.sizes:
        print(f"\nN={n}\n{markdown([r for r in rows if r['n'] == n])}")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
