"""The scheduled sweep's Lambda handler: it repairs, summarises, and never fails for findings."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from unittest import mock

import pytest
from botocore.exceptions import ClientError

from common.config import get_config
from images import catalog, maintenance, objects, sweep
from images.catalog import cleanup
from images.records import ImageRecord
from tests.helpers import make_image

ALICE = catalog.Actor(sub="sub-alice", username="alice")
SCHEDULED_EVENT = {"version": "0", "source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}


def meta(title="Pier"):
    return catalog.validate_meta(title=title, description="", keywords="", author="Ana", capture_date=None)


def create(title="Pier"):
    return catalog.image_create(owner=ALICE, meta=meta(title), data=make_image("PNG"), original_filename="p.png")


CDN_DOWN = ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, "CreateInvalidation")


def interrupted_cleanup():
    """An image whose file was replaced, then the old file's removal failed (the CDN was down)."""
    record = create()
    with mock.patch.object(objects, "invalidate", side_effect=CDN_DOWN):
        catalog.image_update(actor=ALICE, image_id=record.id, meta=meta("Pier 2"),
                             data=make_image("JPEG", size=(30, 20)), expected_version=record.version)
    assert cleanup.pending(record.id)
    return record


def environ(monkeypatch, **values):
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    get_config.cache_clear()


class Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def logged():
    """What images.maintenance logs (without pytest's logging plugin, which `-p no:logging` turns off)."""
    handler = Records()
    logger = logging.getLogger("images.maintenance")
    logger.addHandler(handler)
    yield handler.records
    logger.removeHandler(handler)


def summary_logged(records) -> dict:
    lines = [r.getMessage() for r in records]
    assert len(lines) == 1, lines  # one JSON line per run
    return json.loads(lines[0])


def test_the_handler_repairs_an_orphan_and_an_interrupted_cleanup(aws, monkeypatch, logged):
    record = interrupted_cleanup()
    orphan = objects.image_key("f" * 32, "t" * 32, "png")  # a create that died before its transaction
    objects.put_object(orphan, b"x", content_type="image/png")
    environ(monkeypatch, SWEEP_GRACE_MINUTES="0")  # everything is old enough

    summary = maintenance.lambda_handler(SCHEDULED_EVENT, None)

    assert summary["repair"] is True and summary["grace_minutes"] == 0
    assert summary["needs_attention"] is False
    assert summary["counts"] == {
        "orphan_objects": 1, "recent_objects": 0, "pending_cleanups": 1, "missing_files": 0,
        "facet_differences": 0, "deleted": 1, "finished": 1, "recounted": 0, "failures": 0, "purged": 0,
    }
    assert summary["missing_files"] == [] and summary["failures"] == []
    assert summary_logged(logged) == summary
    assert logged[0].levelno == logging.INFO
    json.dumps(summary)  # what Lambda returns must serialise

    # Repaired: the orphan is gone, the old version's files are gone, the new one is served.
    assert not objects.exists(orphan) and not cleanup.pending(record.id)
    fixed = ImageRecord.get(record.id)
    assert fixed.title == "Pier 2" and not objects.exists(record.object_key)
    assert objects.get_object(fixed.object_key)[:3] == b"\xff\xd8\xff"  # the JPEG, not the PNG

    # A second run finds nothing left.
    again = maintenance.lambda_handler(SCHEDULED_EVENT, None)
    assert set(again["counts"].values()) == {0}


def test_the_default_grace_period_leaves_a_write_in_progress_alone(aws, monkeypatch):
    monkeypatch.delenv("SWEEP_GRACE_MINUTES", raising=False)
    monkeypatch.delenv("SWEEP_REPAIR", raising=False)
    get_config.cache_clear()
    recent = objects.image_key("e" * 32, "t" * 32, "png")
    objects.put_object(recent, b"x", content_type="image/png")

    summary = maintenance.lambda_handler(SCHEDULED_EVENT, None)

    assert summary["repair"] is True and summary["grace_minutes"] == 60
    assert summary["counts"]["recent_objects"] == 1 and summary["counts"]["deleted"] == 0
    assert objects.exists(recent)
    # The same default as the sweep's own.
    assert timedelta(minutes=summary["grace_minutes"]) == sweep.sweep.__kwdefaults__["grace"]


def test_sweep_repair_false_only_reports(aws, monkeypatch):
    record = interrupted_cleanup()
    orphan = objects.thumbnail_key("f" * 32, "t" * 32)
    objects.put_object(orphan, b"x", content_type="image/jpeg")
    environ(monkeypatch, SWEEP_GRACE_MINUTES="0", SWEEP_REPAIR="false")

    summary = maintenance.lambda_handler(SCHEDULED_EVENT, None)

    assert summary["repair"] is False and summary["needs_attention"] is True
    assert summary["counts"]["orphan_objects"] == 1 and summary["counts"]["pending_cleanups"] == 1
    assert summary["counts"]["deleted"] == summary["counts"]["finished"] == 0
    assert objects.exists(orphan) and cleanup.pending(record.id)


def test_a_finding_that_cannot_be_repaired_is_reported_not_raised(aws, monkeypatch, logged):
    record = create()
    objects.delete_objects(record.thumbnail_key)  # a READY image whose thumbnail is gone
    environ(monkeypatch, SWEEP_GRACE_MINUTES="0")

    summary = maintenance.lambda_handler(SCHEDULED_EVENT, None)

    assert summary["needs_attention"] is True and summary["counts"]["missing_files"] == 1
    assert summary["missing_files"] == [{"image_id": record.id, "key": record.thumbnail_key}]
    assert summary_logged(logged) == summary
    assert logged[0].levelno == logging.WARNING  # an operator must act: re-upload or delete the image
