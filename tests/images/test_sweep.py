"""The sweep: leftovers of crashes between S3 and DynamoDB are found, then repaired."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from unittest import mock

import pytest
from django.core.management import call_command

from images import catalog, objects
from images.records import ImageRecord
from images.sweep import sweep
from tests.helpers import make_image

ALICE = catalog.Actor(sub="sub-alice", username="alice")
LATER = datetime.now(timezone.utc) + timedelta(hours=2)


def meta(title="Pier"):
    return catalog.validate_meta(title=title, description="", keywords="", author="Ana", capture_date=None)


def create(title="Pier"):
    return catalog.image_create(owner=ALICE, meta=meta(title), data=make_image("PNG"), original_filename="p.png")


def keys(prefix=""):
    return {k for k, _ in objects.list_objects(prefix)}


def test_a_clean_catalog_reports_nothing(aws):
    create()
    report = sweep(now=LATER)
    assert report.clean and report.lines() == []


def test_orphans_are_reported_then_deleted_and_referenced_objects_kept(aws):
    kept = create()
    # A create that died before its transaction, and a replacement file nobody points at.
    objects.put_object(objects.image_key("f" * 32), b"x", content_type="image/png")
    objects.put_object(objects.thumbnail_key("f" * 32), b"x", content_type="image/jpeg")
    objects.put_object(objects.staging_key(kept.id, "t" * 32), b"x", content_type="image/png")
    objects.put_object(objects.upload_key("u" * 32), b"x", content_type="image/png")
    orphans = {objects.image_key("f" * 32), objects.thumbnail_key("f" * 32),
               objects.staging_key(kept.id, "t" * 32), objects.upload_key("u" * 32)}

    report = sweep(now=LATER)
    assert set(report.orphan_objects) == orphans and not report.deleted
    assert orphans <= keys()  # reporting changes nothing

    repaired = sweep(repair=True, now=LATER)
    assert set(repaired.deleted) == orphans
    assert keys() == {kept.object_key, kept.thumbnail_key}
    assert catalog.image_get(image_id=kept.id).title == "Pier"


def test_recent_unreferenced_objects_are_left_for_the_grace_period(aws):
    objects.put_object(objects.image_key("e" * 32), b"x", content_type="image/png")
    report = sweep(repair=True, grace=timedelta(minutes=60))
    assert report.recent_objects == [objects.image_key("e" * 32)] and not report.deleted
    assert objects.exists(objects.image_key("e" * 32))


def test_an_interrupted_replacement_is_finished(aws):
    record = create()
    new_bytes = make_image("JPEG", size=(30, 20))
    with mock.patch.object(catalog, "finish_replacement", side_effect=RuntimeError("crash")):
        with pytest.raises(RuntimeError):
            catalog.image_update(actor=ALICE, image_id=record.id, meta=meta("Pier 2"), data=new_bytes,
                                 expected_version=record.version)
    stuck = ImageRecord.get(record.id)
    assert stuck.staged_key and objects.get_object(record.object_key)[:4] == b"\x89PNG"

    report = sweep(now=LATER)
    assert report.unfinished_replacements == [record.id] and not report.orphan_objects
    sweep(repair=True, now=LATER)
    fixed = ImageRecord.get(record.id)
    assert fixed.staged_key is None and fixed.title == "Pier 2"
    assert objects.get_object(record.object_key)[:2] == b"\xff\xd8"
    assert not keys(objects.STAGING_PREFIX)


def test_missing_files_are_reported_not_hidden(aws):
    record = create()
    objects.delete_objects(record.object_key)
    report = sweep(repair=True, now=LATER)
    assert report.missing_files == [(record.id, record.object_key)]
    assert catalog.image_get(image_id=record.id)  # the record is left for a person to decide


def test_command_reports_then_repairs(aws):
    objects.put_object(objects.image_key("d" * 32), b"x", content_type="image/png")
    out = io.StringIO()
    call_command("sweep_images", "--grace-minutes", "0", stdout=out)
    assert f"orphan object: {objects.image_key('d' * 32)}" in out.getvalue() and "--repair" in out.getvalue()
    assert objects.exists(objects.image_key("d" * 32))
    out = io.StringIO()
    call_command("sweep_images", "--repair", "--grace-minutes", "0", stdout=out)
    assert "deleted: images/" in out.getvalue()
    assert not objects.exists(objects.image_key("d" * 32))
