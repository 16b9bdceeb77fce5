"""The sweep: leftovers of crashes between S3 and DynamoDB are found, then repaired."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from unittest import mock

from botocore.exceptions import ClientError
from django.core.management import call_command

from images import catalog, objects
from images.records import ImageRecord, ImageTerm
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
    # A create that died before its transaction, a replacement file nobody points at, an
    # upload never registered.
    orphans = {objects.image_key("f" * 32, "t" * 32, "png"), objects.thumbnail_key("f" * 32, "t" * 32),
               objects.image_key(kept.id, "n" * 32, "jpg"), objects.upload_key("a" * 16, "u" * 32)}
    for key in orphans:
        objects.put_object(key, b"x", content_type="image/png")

    report = sweep(now=LATER)
    assert set(report.orphan_objects) == orphans and not report.deleted
    assert orphans <= keys()  # reporting changes nothing

    repaired = sweep(repair=True, now=LATER)
    assert set(repaired.deleted) == orphans
    assert keys() == {kept.object_key, kept.thumbnail_key}
    assert catalog.image_get(image_id=kept.id).title == "Pier"


def test_recent_unreferenced_objects_are_left_for_the_grace_period(aws):
    key = objects.image_key("e" * 32, "t" * 32, "png")
    objects.put_object(key, b"x", content_type="image/png")
    report = sweep(repair=True, grace=timedelta(minutes=60))
    assert report.recent_objects == [key] and not report.deleted
    assert objects.exists(key)


def test_an_interrupted_cleanup_is_finished(aws):
    record = create()
    new_bytes = make_image("JPEG", size=(30, 20))
    down = ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, "CreateInvalidation")
    with mock.patch.object(objects, "invalidate", side_effect=down):
        catalog.image_update(actor=ALICE, image_id=record.id, meta=meta("Pier 2"), data=new_bytes,
                             expected_version=record.version)
    updated = catalog.image_get(image_id=record.id)
    assert updated.title == "Pier 2" and updated.version == record.version + 1  # committed before the crash

    report = sweep(now=LATER)
    assert len(report.pending_cleanups) == 1 and not report.orphan_objects and not report.clean
    assert sweep(repair=True, now=LATER).finished == report.pending_cleanups
    assert keys() == {updated.object_key, updated.thumbnail_key}
    assert sweep(now=LATER).clean


def test_missing_files_are_reported_not_hidden(aws):
    record = create()
    objects.delete_objects(record.object_key)
    report = sweep(repair=True, now=LATER)
    assert report.missing_files == [(record.id, record.object_key)]
    assert catalog.image_get(image_id=record.id)  # the record is left for a person to decide


def test_command_reports_then_repairs(aws):
    key = objects.image_key("d" * 32, "t" * 32, "png")
    objects.put_object(key, b"x", content_type="image/png")
    out = io.StringIO()
    call_command("sweep_images", "--grace-minutes", "0", stdout=out)
    assert f"orphan object: {key}" in out.getvalue() and "--repair" in out.getvalue()
    assert objects.exists(key)
    out = io.StringIO()
    call_command("sweep_images", "--repair", "--grace-minutes", "0", stdout=out)
    assert "deleted: images/" in out.getvalue()
    assert not objects.exists(key)


def counters():
    return {(t.term, t.sort_key): int(t.facet_count) for t in ImageTerm.scan() if t.term.startswith("facet:")}


def test_facet_counts_left_off_by_a_crash_are_reported_then_recounted(aws):
    kept = create()
    good = counters()
    # A create whose count update never ran, and a delete whose count update never ran.
    with mock.patch.object(catalog.services, "apply_facet_changes"):
        create()
        gone = catalog.image_create(owner=catalog.Actor(sub="sub-bob", username="bob"),
                                    meta=catalog.validate_meta(title="Gone", description="", keywords="lost",
                                                               author="Ana", capture_date="2020-02-02"),
                                    data=make_image("PNG"))
    catalog.apply_facet_changes(catalog.facet_changes({}, catalog.facets_of(gone)))
    with mock.patch.object(catalog.trash, "apply_facet_changes"):
        catalog.image_delete(actor=catalog.Actor(sub="sub-bob", username="bob"), image_id=gone.id)
    ImageTerm("facet:keyword", "zero", label="zero", facet_count=0).save()  # a counter left at zero
    assert counters() != good

    report = sweep(now=LATER)
    found = {(d.field, d.value): (d.stored, d.actual) for d in report.facet_differences}
    assert found == {
        ("creator", "alice"): (1, 2),
        ("creator", "bob"): (1, 0),
        ("keyword", "lost"): (1, 0),
        ("keyword", "zero"): (0, 0),
        ("captured", "2020"): (1, 0),
        ("captured", "2020-02"): (1, 0),
        # The query planner's counters (images.catalog.query) are recounted alike.
        ("day", "2020-02-02"): (1, 0),
        ("title", "gone"): (1, 0),
        ("title", "pier"): (1, 2),
        ("word", "alice creator:alice"): (1, 2),
        ("word", "bob creator:bob"): (1, 0),
    }
    assert not report.clean and any(line.startswith("facet count off: facet creator 'alice'")
                                     for line in report.lines())
    assert counters()[("facet:creator", "alice")] == 1  # reporting changes nothing

    repaired = sweep(repair=True, now=LATER)
    assert len(repaired.recounted) == 11 and not repaired.failures
    sidebar = {key: n for key, n in counters().items() if key[0] in ("facet:author", "facet:creator")}
    assert sidebar == {("facet:author", "ana"): 2, ("facet:creator", "alice"): 2}
    assert counters()[("facet:title", "pier")] == 2 and ("facet:title", "gone") not in counters()
    assert catalog.facet_values(field="creator") == [("alice", "alice", 2)]
    assert sweep(now=LATER).clean
    assert kept.id in {r.id for r in catalog.image_list().items}


def test_a_missing_counter_is_recreated_with_its_label(aws):
    create()
    ImageTerm("facet:author", "ana").delete()
    sweep(repair=True, now=LATER)
    assert catalog.facet_values(field="author") == [("ana", "Ana", 1)]


def test_a_counter_that_moves_during_the_recount_is_not_overwritten(aws):
    create()
    ImageTerm("facet:author", "ana").update(actions=[ImageTerm.facet_count.add(5)])  # drifted to 6
    real_scan = ImageRecord.scan

    def scan_then_concurrent_create(*args, **kwargs):
        yield from real_scan(*args, **kwargs)
        create("Concurrent")  # lands after the counters were read and the records scanned

    with mock.patch.object(ImageRecord, "scan", side_effect=scan_then_concurrent_create):
        report = sweep(repair=True, now=LATER)
    assert any("changed meanwhile" in f for f in report.failures)
    assert counters()[("facet:author", "ana")] == 7  # the drift plus the new image, not forced to 1
    assert sweep(repair=True, now=LATER).recounted  # a second run fixes it
    assert counters()[("facet:author", "ana")] == 2


def test_command_recounts_facets(aws):
    create()
    ImageTerm("facet:author", "ana").update(actions=[ImageTerm.facet_count.add(3)])
    out = io.StringIO()
    call_command("sweep_images", stdout=out)
    assert "facet count off: facet author 'ana' (Ana): counter 4, 1 images" in out.getvalue()
    out = io.StringIO()
    call_command("sweep_images", "--repair", stdout=out)
    assert "recounted: facet author 'ana'" in out.getvalue() and "Nothing left to repair" in out.getvalue()
    assert counters()[("facet:author", "ana")] == 1
