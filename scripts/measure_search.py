"""Measure how many DynamoDB items a listing or a search reads, for catalogs of several sizes.

The claim to check: items read grow with the results asked for, not with the table. Runs
in-process against moto (nothing leaves the machine), seeding records and search postings
straight into the tables (the bytes in S3 play no part in reading).

    .venv/bin/python scripts/measure_search.py [--sizes 100 1000 5000]
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from local.stack import LOCAL_AWS_ENV  # noqa: E402

os.environ.update(LOCAL_AWS_ENV)
os.environ.pop("AWS_ENDPOINT_URL", None)

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402

from common.config import get_config  # noqa: E402
from images import catalog  # noqa: E402
from images.records import LISTED, READY, ImageRecord, ImageTerm  # noqa: E402
from local import bootstrap  # noqa: E402

RARE = 5  # images that match the narrow searches, whatever the table size


class ReadCounter:
    """Count the items DynamoDB reads (ScannedCount of queries/scans, items of batch gets)."""

    def __init__(self):
        self.items = 0
        self.calls = 0

    def __call__(self, http_response, parsed, model, **kwargs):
        if model.name in ("Query", "Scan"):
            self.items += parsed.get("ScannedCount", 0)
            self.calls += 1
        elif model.name == "BatchGetItem":
            self.items += sum(len(v) for v in parsed.get("Responses", {}).values())
            self.calls += 1
        elif model.name == "GetItem":
            self.items += 1 if parsed.get("Item") else 0
            self.calls += 1


def seed(size: int) -> str:
    """Write `size` images (RARE of them findable by the narrow searches); return a rare id."""
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    rare_id = ""
    with ImageRecord.batch_write() as images, ImageTerm.batch_write() as terms:
        for i in range(size):
            rare = i % (size // RARE) == 0
            now = start + timedelta(minutes=i)
            image_id = uuid.uuid4().hex
            rare_id = rare_id or (image_id if rare else "")
            record = ImageRecord(
                id=image_id, state=READY, listed=LISTED, created_key=f"{now.isoformat()}#{image_id}",
                created_at=now, updated_at=now, title=f"{'Heron' if rare else 'Street'} number {i}",
                description="", keywords=["rare" if rare else "common"], author="Rare Author" if rare else "Someone",
                creator="bench", owner_sub="bench", capture_date="2020-02-02" if rare else "2021-03-03",
                storage_date=now.date().isoformat(), filename=f"{image_id}.jpg", object_key=f"images/{image_id}",
                thumbnail_key=f"thumbnails/{image_id}.jpg", content_type="image/jpeg", byte_size=1, width=1,
                height=1, sha256="0" * 64, version=1,
            )
            images.save(record)
            for term in catalog.terms_of(record):
                terms.save(ImageTerm(term, record.created_key, image_id=image_id))
    return rare_id


def measure(label: str, run) -> tuple[str, int, int, int]:
    counter = ReadCounter()
    clients = {id(c): c for c in (m._get_connection().connection.client for m in (ImageRecord, ImageTerm))}
    for client in clients.values():
        client.meta.events.register("after-call.dynamodb", counter)
    try:
        page = run()
    finally:
        for client in clients.values():
            client.meta.events.unregister("after-call.dynamodb", counter)
    return label, len(page.items), counter.items, counter.calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000])
    args = parser.parse_args()
    print(f"{'table size':>10}  {'request':<34} {'results':>7} {'items read':>10} {'calls':>5}")
    for size in args.sizes:
        with mock_aws():
            get_config.cache_clear()
            bootstrap.ensure_tables()
            # The PynamoDB connection caches its client: make a fresh one inside this mock.
            for model in (ImageRecord, ImageTerm):
                model._connection = None
            boto3.setup_default_session()
            rare_id = seed(size)
            rows = [
                measure("list, first page of 25", lambda: catalog.image_list(limit=25)),
                measure("search id", lambda: catalog.image_search(key="id", value=rare_id)),
                measure("search title 'heron'", lambda: catalog.image_search(key="title", value="heron")),
                measure("search keywords 'rare'", lambda: catalog.image_search(key="keywords", value="rare")),
                measure("search author 'rare author'", lambda: catalog.image_search(key="author", value="rare author")),
                measure("search creationdate 2020-02", lambda: catalog.image_search(key="creationdate", value="2020-02")),
                measure("search keywords 'common', page 25",
                        lambda: catalog.image_search(key="keywords", value="common", limit=25)),
            ]
            for label, results, items, calls in rows:
                print(f"{size:>10}  {label:<34} {results:>7} {items:>10} {calls:>5}")


if __name__ == "__main__":
    main()
