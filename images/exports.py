"""Exports of a selection of images, produced as they are read: metadata as CSV, files as a
zip streamed from S3 one chunk at a time. Django-free."""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator

from botocore.exceptions import ClientError

from common.config import get_config
from images import catalog, objects
from images.spreadsheet import csv_lines
from images.filenames import UniqueNames, record_download_name
from images.records import ImageRecord

CSV_FIELDS = ("id", "title", "description", "keywords", "author", "creator", "capture_date", "storage_date",
              "filename", "original_filename", "object_url")


class _Pipe:
    """A write-only stream whose writes are collected and handed out by drain()."""

    def __init__(self):
        self._chunks: list[bytes] = []

    def write(self, data) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        out = b"".join(self._chunks)
        self._chunks.clear()
        return out


def zip_stream(records: Iterable[ImageRecord]) -> Iterator[bytes]:
    """The files as a zip, produced as it is sent: one S3 chunk in memory at a time. Entries
    are named after the files' original names, made unique."""
    pipe = _Pipe()
    names = UniqueNames()
    config = get_config()
    missing = []
    with zipfile.ZipFile(pipe, mode="w", compression=zipfile.ZIP_STORED) as archive:
        for record in records:
            try:
                body = objects.s3().get_object(Bucket=config.images_bucket, Key=record.object_key)["Body"]
            except ClientError:
                missing.append(record)
                continue
            stamp = record.updated_at.timetuple()[:6] if record.updated_at else (1980, 1, 1, 0, 0, 0)
            info = zipfile.ZipInfo(names.take(record_download_name(record)), date_time=stamp)
            info.compress_type = zipfile.ZIP_STORED
            with archive.open(info, mode="w") as entry:
                for chunk in body.iter_chunks(64 * 1024):
                    entry.write(chunk)
                    yield pipe.drain()
            yield pipe.drain()
        if missing:
            note = "".join(f"{r.filename}: the file of “{r.title}” could not be read.\n" for r in missing)
            archive.writestr(names.take("MISSING.txt"), note)
    yield pipe.drain()


def csv_rows(records: Iterable[ImageRecord]) -> Iterator[str]:
    """The records' metadata as CSV lines (images/spreadsheet.py: BOM, formula guard)."""
    items = (catalog.image_to_dict(record) for record in records)
    return csv_lines(CSV_FIELDS, ([item[f] for f in CSV_FIELDS] for item in items))
