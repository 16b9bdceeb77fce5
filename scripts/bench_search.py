"""`make bench`: items read by lists and searches, ours beside the seed's full-table Scan.

For each size N it loads N image records and their search postings and counters, made by
the catalog's own code (terms_of, facets_of), into the in-process emulator (moto; nothing
leaves the machine), then runs each query once with our engine (the first page of 25, or
the fifth) and once as the seed's Lambdas did (a Scan of the whole table with a filter
expression, every page). Items read are counted from the responses, as DynamoDB bills
them: ScannedCount of Query and Scan plus the items BatchGetItem and GetItem return.

    .venv/bin/python scripts/bench_search.py [--sizes 1000 10000 100000] [--out benchmarks/search.json]

Emulator speed-ups (wall time only; what is read and returned is unchanged): moto's Query
walks and sorts every item of a table and its Scan re-sorts the table for every page, so
the bench gives its Query a per-partition lookup, as DynamoDB has, and caches the sorted
table once loaded (the bench writes nothing after); and as its Scan walks the table again from the start for every 1 MB
page, the bench lets it answer a Scan in one page (the seed's items read stay N; only its
calls are fewer); and its reads answer in plain JSON, as DynamoDB's wire format is, rather
than through moto's generic response serializer (milliseconds per item). Loading goes
straight into moto's tables for sizes over --batch-max: moto's BatchWriteItem handles about 1,000 items a second (request parsing and
per-attribute size checks), which would take over 20 minutes for the 1.3 million items of
100,000 images.
"""

from __future__ import annotations

import argparse
import json
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
from images.catalog import query  # noqa: E402
from images.catalog.facets import FACET_PREFIX  # noqa: E402
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


class Reads:
    """Items read and calls, from the responses (as DynamoDB bills them)."""

    def __init__(self):
        self.items = self.calls = 0

    def __call__(self, http_response, parsed, model, **kwargs):
        if model.name in ("Query", "Scan"):
            self.items += parsed.get("ScannedCount", 0)
        elif model.name == "BatchGetItem":
            self.items += sum(len(v) for v in parsed.get("Responses", {}).values())
        elif model.name == "GetItem":
            self.items += 1 if parsed.get("Item") else 0
        else:
            return
        self.calls += 1


def _clients():
    found = {id(c): c for c in (m._get_connection().connection.client for m in (ImageRecord, ImageTerm))}
    found[id(_seed_table().meta.client)] = _seed_table().meta.client
    return found.values()


@contextmanager
def counting():
    reads = Reads()
    clients = list(_clients())
    for client in clients:
        client.meta.events.register("after-call.dynamodb", reads)
    started = time.perf_counter()
    try:
        yield reads
    finally:
        reads.ms = (time.perf_counter() - started) * 1000
        for client in clients:
            client.meta.events.unregister("after-call.dynamodb", reads)


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
    """(label, our request, the seed's filter, pages to follow first) for size n."""
    find = catalog.image_search
    return [
        ("list, first page", lambda c: catalog.image_list(limit=PAGE, cursor=c), None, 0),
        ("list, fifth page", lambda c: catalog.image_list(limit=PAGE, cursor=c), None, 4),
        ("id = one image", lambda c: find(key="id", value=sample.id), Attr("id").eq(sample.id), 0),
        ("title 'heron'", lambda c: find(key="title", value="heron", limit=PAGE, cursor=c),
         Attr("title").contains("heron"), 0),
        ("keywords 'rare'", lambda c: find(key="keywords", value="rare", limit=PAGE, cursor=c),
         Attr("keywords").contains("rare"), 0),
        ("author 'Rare Author'", lambda c: find(key="author", value="Rare Author", limit=PAGE, cursor=c),
         Attr("author").eq("Rare Author"), 0),
        ("creator 'rarecreator'", lambda c: find(key="creator", value="rarecreator", limit=PAGE, cursor=c),
         Attr("creator").eq("rarecreator"), 0),
        ("creationdate 2020-02", lambda c: find(key="creationdate", value="2020-02", limit=PAGE, cursor=c),
         Attr("capture_date").begins_with("2020-02"), 0),
        ("capture_date 2020-02-02", lambda c: find(key="capture_date", value="2020-02-02", limit=PAGE, cursor=c),
         Attr("capture_date").eq("2020-02-02"), 0),
        (f"storage_date {sample.storage_date}",
         lambda c: find(key="storage_date", value=sample.storage_date, limit=PAGE, cursor=c),
         Attr("storage_date").eq(sample.storage_date), 0),
        ("title 'street number heron'", lambda c: find(key="title", value="street number heron", limit=PAGE,
                                                        cursor=c), _words_all("Street", "number", "heron"), 0),
        ("title 'river bridge'", lambda c: find(key="title", value="river bridge", limit=PAGE, cursor=c),
         _words_all("river", "bridge"), 0),
        ("author 'Ana Díaz' + keyword 'lake'",
         lambda c: query.image_find(criteria=query.Criteria(author="Ana Díaz", keywords=("lake",)), limit=PAGE,
                                    cursor=c),
         Attr("author").eq("Ana Díaz") & Attr("keywords").contains("lake"), 0),
        ("any field 'díaz lake'",
         lambda c: query.image_find(criteria=query.Criteria(q=("díaz", "lake")), limit=PAGE, cursor=c),
         _any_field("Díaz", "lake"), 0),
    ]


def run_size(n: int, *, direct: bool, follow: int) -> list[dict]:
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
        sample = records[len(records) // 2]
        catalog.image_list(limit=1)  # the emulator's sorted copies are made here, not in a measured request
        _seed_table().scan(Limit=1)
        for label, ours, condition, skip in queries(sample, n):
            cursor = None
            for _ in range(skip):
                cursor = ours(cursor).next_cursor
            with counting() as mine:
                page = ours(cursor)
            with counting() as seed:
                matched = seed_scan(condition)
            row = {"query": label, "n": n, "results": len(page.items), "ours_items_read": mine.items,
                   "ours_calls": mine.calls, "ours_ms": round(mine.ms, 1), "seed_items_read": seed.items,
                   "seed_ms": round(seed.ms, 1), "seed_results": len(matched),
                   "ours_cap": query.read_cap(PAGE)}
            if condition is not None and page.next_cursor and follow:
                row.update(follow_through(ours, page, follow))
            rows.append(row)
            print(_line(row), flush=True)
    return rows


def follow_through(ours, page, most: int) -> dict:
    """Follow the cursors to the end: what the whole result costs, in requests and items."""
    found, requests, cursor = len(page.items), 1, page.next_cursor
    with counting() as reads:
        while cursor and requests < most:
            page = ours(cursor)
            found, requests, cursor = found + len(page.items), requests + 1, page.next_cursor
    return {"all_pages_results": found, "all_pages_requests": requests, "all_pages_complete": cursor is None,
            "all_pages_items_read": reads.items}


HEADER = (f"{'N':>7}  {'query':<34} {'results':>7} {'ours read':>9} {'calls':>5} {'ours ms':>8} "
          f"{'seed read':>9} {'seed ms':>8}")


def _line(row: dict) -> str:
    return (f"{row['n']:>7}  {row['query']:<34} {row['results']:>7} {row['ours_items_read']:>9} "
            f"{row['ours_calls']:>5} {row['ours_ms']:>8.1f} {row['seed_items_read']:>9} {row['seed_ms']:>8.1f}")


def markdown(rows: list[dict]) -> str:
    """The README's table: one size."""
    out = ["| query | results | ours: items read | calls | ms | seed's scan: items read | ms "
           "| whole result: requests, items read |", "|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        whole = (f"{r['all_pages_requests']}, {r['all_pages_items_read'] + r['ours_items_read']:,}"
                 + ("" if r["all_pages_complete"] else " (stopped)")) if "all_pages_requests" in r else ""
        out.append(f"| {r['query']} | {r['results']} | {r['ours_items_read']} | {r['ours_calls']} | "
                   f"{r['ours_ms']:.0f} | {r['seed_items_read']:,} | {r['seed_ms']:.0f} | {whole} |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/search.json"))
    parser.add_argument("--batch-max", type=int, default=10000,
                        help="load through BatchWriteItem up to this size, straight into the emulator above it")
    parser.add_argument("--follow", type=int, default=2000, help="requests to follow to count a whole result")
    args = parser.parse_args()
    print(HEADER, flush=True)
    rows = []
    for n in args.sizes:
        rows += run_size(n, direct=n > args.batch_max, follow=args.follow)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}\n\n{markdown([r for r in rows if r['n'] == max(args.sizes)])}")


if __name__ == "__main__":
    main()
