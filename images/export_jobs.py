"""Exports built off the request path: a request records a job and returns at once; a
background thread reads the images and writes the CSV or zip straight into S3 as it goes
(multipart upload, one part in memory), updating the job's progress; the person then gets
a presigned link. No request waits on S3 for longer than one call. Django-free.

A job that stops reporting progress (its process was restarted) is shown as failed after
STALE_AFTER; the person starts it again. Finished files live under exports/ for a day
(a lifecycle rule in infra/s3.tf) and the job records expire by DynamoDB TTL.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta, timezone

from pynamodb.exceptions import DoesNotExist

from common.config import get_config
from common.errors import NotFound
from images import catalog, exports, objects
from images.records import ExportJob, ImageRecord

log = logging.getLogger(__name__)

EXPORTS_PREFIX = "exports/"
KINDS = {"csv": ("text/csv; charset=utf-8", "csv"), "zip": ("application/zip", "zip")}
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
STALE_AFTER = timedelta(minutes=2)
KEEP_FOR = timedelta(days=1)
PROGRESS_EVERY = 1.0  # seconds between progress writes
PAGE = 100


class MultipartWriter:
    """A write-only file that uploads what is written to one S3 object as it comes, in parts
    of PART_BYTES (S3's minimum is 5 MiB, but for the last part): memory holds one part."""

    PART_BYTES = 8 * 1024 * 1024

    def __init__(self, key: str, *, content_type: str):
        self.key = key
        self.size = 0
        self._bucket = get_config().images_bucket
        self._client = objects.s3()
        self._upload_id = self._client.create_multipart_upload(
            Bucket=self._bucket, Key=key, ContentType=content_type)["UploadId"]
        self._buffer = bytearray()
        self._parts: list[dict] = []

    def write(self, data) -> int:
        self._buffer += data
        self.size += len(data)
        while len(self._buffer) >= self.PART_BYTES:
            self._send(bytes(self._buffer[: self.PART_BYTES]))
            del self._buffer[: self.PART_BYTES]
        return len(data)

    def flush(self) -> None:
        pass

    def _send(self, body: bytes) -> None:
        number = len(self._parts) + 1
        answer = self._client.upload_part(Bucket=self._bucket, Key=self.key, UploadId=self._upload_id,
                                          PartNumber=number, Body=body)
        self._parts.append({"PartNumber": number, "ETag": answer["ETag"]})

    def close(self) -> None:
        """Send what is left and make the object."""
        if self._buffer or not self._parts:
            self._send(bytes(self._buffer))
            self._buffer.clear()
        self._client.complete_multipart_upload(Bucket=self._bucket, Key=self.key, UploadId=self._upload_id,
                                               MultipartUpload={"Parts": self._parts})

    def abort(self) -> None:
        self._client.abort_multipart_upload(Bucket=self._bucket, Key=self.key, UploadId=self._upload_id)

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if kind is None:
            self.close()
        else:
            self.abort()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def job_start(*, owner: catalog.Actor, kind: str, ids: list[str] | None = None, key: str = "",
              value: str = "", criteria: dict[str, str] | None = None) -> ExportJob:
    """Record an export of the given images (ids), of a search (key, value), of combined
    search and filters (criteria: catalog.QUERY_PARAMS) or of every image."""
    if kind not in KINDS:
        raise catalog.InvalidField("kind", "Export as csv or zip.")
    if key and key not in catalog.SEARCH_KEYS:
        raise catalog.InvalidField("key", f"Search by one of: {', '.join(catalog.SEARCH_KEYS)}.")
    if criteria:
        catalog.criteria_from(criteria)  # refused now rather than when the job runs
    now = _now()
    job = ExportJob(
        id=uuid.uuid4().hex, owner_sub=owner.sub, kind=kind, state=QUEUED,
        selection=json.dumps({"ids": ids} if ids is not None else {"criteria": criteria} if criteria
                             else {"key": key, "value": value}),
        total=len(ids) if ids is not None else None, done_count=0,
        filename=f"images-{now:%Y%m%d-%H%M%S}.{KINDS[kind][1]}",
        created_at=now, updated_at=now, expires_at=now + KEEP_FOR,
    )
    job.save(condition=ExportJob.id.does_not_exist())
    return job


def job_get(*, owner: catalog.Actor, job_id: str) -> ExportJob:
    """The owner's job; NotFound for anyone else's or an unknown one."""
    try:
        job = ExportJob.get(job_id, consistent_read=True) if len(job_id) == 32 else None
    except DoesNotExist:
        job = None
    if job is None or job.owner_sub != owner.sub:
        raise NotFound("No export has that id.")
    if job.state in (QUEUED, RUNNING) and _now() - job.updated_at > STALE_AFTER:
        job.state, job.error = FAILED, "The export stopped (its server was restarted). Start it again."
    return job


def _records(selection: dict) -> Iterator[ImageRecord]:
    if "ids" in selection:
        for image_id in selection["ids"]:
            try:
                yield catalog.image_get(image_id=image_id)
            except NotFound:
                continue
        return
    cursor = None
    while True:
        if selection.get("criteria"):  # a page may come short (the read budget): the cursor goes on
            page = catalog.image_find(criteria=catalog.criteria_from(selection["criteria"]), limit=PAGE,
                                      cursor=cursor)
        elif selection.get("key"):
            page = catalog.image_search(key=selection["key"], value=selection["value"], limit=PAGE, cursor=cursor)
        else:
            page = catalog.image_list(limit=PAGE, cursor=cursor)
        yield from page.items
        cursor = page.next_cursor
        if not cursor:
            return


def _counting(job: ExportJob, records: Iterable[ImageRecord]) -> Iterator[ImageRecord]:
    """The records, writing the job's progress at most every PROGRESS_EVERY seconds."""
    done, last = 0, time.monotonic()
    for record in records:
        yield record
        done += 1
        if time.monotonic() - last >= PROGRESS_EVERY:
            job.update(actions=[ExportJob.done_count.set(done), ExportJob.updated_at.set(_now())])
            last = time.monotonic()
    job.done_count = done


def job_run(job_id: str) -> None:
    """Build the export into S3 and mark the job done (or failed). Never raises: it runs on
    a background thread whose failures only the job record can tell."""
    try:
        job = ExportJob.get(job_id)
        job.update(actions=[ExportJob.state.set(RUNNING), ExportJob.updated_at.set(_now())])
        content_type, _ = KINDS[job.kind]
        key = f"{EXPORTS_PREFIX}{job.id}/{job.filename}"
        records = _counting(job, _records(json.loads(job.selection)))
        with MultipartWriter(key, content_type=content_type) as out:
            if job.kind == "csv":
                for row in exports.csv_rows(records):
                    out.write(row.encode("utf-8"))
            else:
                for chunk in exports.zip_stream(records):
                    out.write(chunk)
        job.update(actions=[ExportJob.state.set(DONE), ExportJob.object_key.set(key),
                            ExportJob.byte_size.set(out.size), ExportJob.done_count.set(job.done_count),
                            ExportJob.updated_at.set(_now())])
    except Exception:  # noqa: BLE001 - told through the job record
        log.exception("export %s failed", job_id)
        try:
            ExportJob(job_id).update(actions=[ExportJob.state.set(FAILED), ExportJob.updated_at.set(_now()),
                                              ExportJob.error.set("The export failed. Try again.")])
        except Exception:  # noqa: BLE001
            log.exception("could not mark export %s failed", job_id)
