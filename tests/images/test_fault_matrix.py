"""The fault matrix (issues 9 and 12): every write (restore and purge from the trash too), through both faces, with each AWS call it makes
failing in turn. For every cell the caller gets a clear answer (success, or an error in the
documented shape: never a 500), no record points at a missing object, nothing half-made is
listed, searched or found by id, and after `sweep --repair` (with AWS healthy again) a second
sweep finds nothing. The matrix is printed, cases by outcome."""

from __future__ import annotations

import json
from collections import defaultdict
from contextlib import contextmanager
from datetime import timedelta
from unittest import mock

import boto3
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError
from django.urls import reverse
from moto.core.botocore_stubber import BotocoreStubber

from accounts.models import User
from common.config import get_config
from images import catalog, objects
from images.api import images as api
from images.api import trash as api_trash
from images.catalog import cleanup
from images.records import READY, TRASHED, ImageRecord
from images.sweep import sweep
from tests.helpers import api_event, b64, claims_for, make_image

ALICE = catalog.Actor(sub="sub-alice", username="alice")
CLAIMS = claims_for()
STAFF = catalog.Actor(sub="sub-sam", username="sam", is_staff=True, face="portal")
STAFF_CLAIMS = claims_for("sub-sam", "sam", groups="staff")


class _Raw:
    def __init__(self, body: bytes):
        self.body = body

    def stream(self, **kwargs):
        yield self.body


def error_response(status: int, service: str, code: str) -> AWSResponse:
    """An AWS error answer as the service sends it (botocore parses it as from the wire)."""
    if service == "dynamodb":
        body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "injected"}).encode()
        headers = {"Content-Type": "application/x-amz-json-1.0"}
    else:
        body = f"<Error><Code>{code}</Code><Message>injected</Message></Error>".encode()
        headers = {"Content-Type": "application/xml"}
    return AWSResponse("https://fault", status, headers, _Raw(body))


# name -> (service, operation, kind): "fail" answers an error every time, "drop" lets the
# first request be served and loses its reply (a timeout after the server side wrote).
FAULTS = {
    "S3 put fails": ("s3", "PutObject", ("fail", 500, "InternalError")),
    "S3 put reply lost": ("s3", "PutObject", ("drop",)),
    "S3 copy fails": ("s3", "CopyObject", ("fail", 500, "InternalError")),
    "S3 copy reply lost": ("s3", "CopyObject", ("drop",)),
    "transaction fails": ("dynamodb", "TransactWriteItems", ("fail", 500, "InternalServerError")),
    "transaction throttled": ("dynamodb", "TransactWriteItems", ("fail", 400, "ThrottlingException")),
    "transaction reply lost": ("dynamodb", "TransactWriteItems", ("drop",)),
    "S3 delete fails": ("s3", "DeleteObjects", ("fail", 500, "InternalError")),
    "CDN invalidation fails": ("cloudfront", "CreateInvalidation", ("fail", 503, "ServiceUnavailable")),
    # Reads (issue 21): the record's read, the queries (duplicates, facets, sessions), an object's read.
    "record read throttled": ("dynamodb", "GetItem", ("fail", 400, "ThrottlingException")),
    "record read times out": ("dynamodb", "GetItem", ("timeout",)),
    "query fails": ("dynamodb", "Query", ("fail", 500, "InternalServerError")),
    "S3 get fails": ("s3", "GetObject", ("fail", 500, "InternalError")),
}


@contextmanager
def injected(fault: str):
    service, operation, kind = FAULTS[fault]
    real = BotocoreStubber.__call__
    seen = {"n": 0}

    def call(self, event_name, request, **kwargs):
        if event_name != f"before-send.{service}.{operation}":
            return real(self, event_name, request, **kwargs)
        seen["n"] += 1
        if kind[0] == "fail":
            return error_response(kind[1], service, kind[2])
        if kind[0] == "timeout":
            raise ReadTimeoutError(endpoint_url=request.url)
        answer = real(self, event_name, request, **kwargs)
        if seen["n"] == 1:
            raise ReadTimeoutError(endpoint_url=request.url)
        return answer

    # botocore's backoff between retries is real time: skip it here.
    with mock.patch.object(BotocoreStubber, "__call__", call), mock.patch("botocore.endpoint.time.sleep"):
        yield seen


# ---------------------------------------------------------------------------- the writes


def _api(handler, method, body, claims=CLAIMS):
    reply = handler(api_event(method, "/images", body, claims=claims), None)
    body = json.loads(reply["body"])
    assert reply["statusCode"] != 500, body
    if reply["statusCode"] >= 400:  # the documented failure shapes
        assert body.get("status") in ("fail", "ERROR") and (body.get("msg") or body.get("message")), body
        if reply["statusCode"] == 503:
            assert reply["headers"]["Retry-After"]
    return reply["statusCode"]


def _portal(client, url, data):
    client.raise_request_exception = False  # as a browser sees it: a session read may fail too
    reply = client.post(url, data)
    assert reply.status_code != 500
    return reply.status_code


def _form(record, **changes):
    values = {"title": record.title, "description": record.description, "keywords": ",".join(record.keywords),
              "author": record.author, "capture_date": record.capture_date or "", "version": record.version}
    values.update(changes)
    return values


def _upload(data, name="new.gif"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="image/gif")


WRITES = {
    ("api", "create"): lambda c, r: _api(api.create_image, "POST",
                                         {"title": "New", "author": "Ana", "image_content": b64(make_image("GIF"))}),
    ("api", "edit"): lambda c, r: _api(api.update_image, "PUT", {"id": r.id, "title": "Edited"}),
    ("api", "replace"): lambda c, r: _api(api.update_image, "PUT",
                                          {"id": r.id, "image_content": b64(make_image("GIF", color=(1, 2, 3)))}),
    ("api", "delete"): lambda c, r: _api(api.delete_image, "DELETE", {"id": r.id}),
    ("portal", "create"): lambda c, r: _portal(c, reverse("images:add"), {
        "title": "New", "author": "Ana", "image": _upload(make_image("GIF")), "request_token": "t" * 32}),
    ("portal", "edit"): lambda c, r: _portal(c, reverse("images:change", args=[r.id]), _form(r, title="Edited")),
    ("portal", "replace"): lambda c, r: _portal(c, reverse("images:change", args=[r.id]),
                                                _form(r, image=_upload(make_image("GIF", color=(1, 2, 3))))),
    ("portal", "delete"): lambda c, r: _portal(c, reverse("images:delete", args=[r.id]), {"version": r.version}),
    ("api", "restore"): lambda c, r: _api(api_trash.restore_image, "POST", {"id": r.id}),
    ("api", "purge"): lambda c, r: _api(api_trash.purge_image, "POST", {"id": r.id}, claims=STAFF_CLAIMS),
    ("portal", "restore"): lambda c, r: _portal(c, reverse("images:trash_action"), {"one": r.id}),
    ("portal", "purge"): lambda c, r: _portal(c, reverse("images:trash_action"), {
        "action": "purge_selected", "_selected_action": [r.id], "post": "yes"}),
}
FROM_TRASH = ("restore", "purge")


def _ready() -> list[ImageRecord]:
    return [r for r in ImageRecord.scan(consistent_read=True) if r.state == READY]


def _check_nothing_half_made() -> None:
    for record in ImageRecord.scan(consistent_read=True):
        if record.state == TRASHED:  # in the trash: its private copies are there, nothing public
            assert objects.exists(record.object_key) and objects.exists(record.thumbnail_key), record.id
            assert record.object_key.startswith(objects.TRASH_PREFIX)
    ready = _ready()
    for record in ready:
        assert objects.exists(record.object_key) and objects.exists(record.thumbnail_key), record.id
        assert catalog.image_get(image_id=record.id).version == record.version
    listed = {r.id for r in catalog.image_list(limit=100).items}
    assert listed == {r.id for r in ready}
    for title in ("new", "edited", "before"):
        assert {r.id for r in catalog.image_search(key="title", value=title, limit=100).items} <= listed


def _outcome(status: int, before: ImageRecord, op: str) -> str:
    ready = {r.id: r for r in _ready()}
    exists = bool(ImageRecord.count(before.id, consistent_read=True))
    changed = {
        "restore": before.id in ready,
        "purge": not exists,
        "create": len(ready) == 2,
        "edit": ready.get(before.id) is not None and ready[before.id].version == before.version + 1,
        "replace": ready.get(before.id) is not None and ready[before.id].object_key != before.object_key,
        "delete": before.id not in ready,
    }[op]
    ok = status < 400
    assert ok == changed, (status, op)  # success means done; an error means nothing changed
    if ok and cleanup.pending():
        return "done, file removal pending (sweep finishes)"
    return "done" if ok else f"refused {status}, nothing changed"


def test_the_fault_matrix(aws, _aws_snapshot, db, client, monkeypatch, capsys):
    from local import state

    distribution = boto3.client("cloudfront").create_distribution(DistributionConfig={
        "CallerReference": "images", "Comment": "", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "s3", "DomainName": "bucket.s3.amazonaws.com",
                                              "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "s3", "ViewerProtocolPolicy": "allow-all",
                                 "MinTTL": 0, "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}}},
    })["Distribution"]["Id"]
    monkeypatch.setenv("CLOUDFRONT_DISTRIBUTION_ID", distribution)
    user, _ = User.objects.get_or_create(id=ALICE.sub, defaults={"username": ALICE.username})
    staff, _ = User.objects.get_or_create(id=STAFF.sub, defaults={"username": STAFF.username, "is_staff": True})
    matrix: dict[str, list[str]] = defaultdict(list)
    covered: dict[tuple[str, str], list[str]] = defaultdict(list)
    for fault in FAULTS:
        for (face, op), write in WRITES.items():
            state.load(_aws_snapshot[1])
            get_config.cache_clear()
            client.force_login(staff if op == "purge" else user)
            before = catalog.image_create(owner=ALICE, meta=catalog.validate_meta(
                title="Before", description="", keywords="", author="Ana", capture_date=None), data=make_image())
            if op in FROM_TRASH:
                catalog.image_delete(actor=ALICE, image_id=before.id)
                before = ImageRecord.get(before.id)
            with injected(fault) as hits:
                status = write(client, before)
            cell = f"{face:6} {op:8} | {fault}" + ("" if hits["n"] else "  (this write makes no such call)")
            covered[(face, op)].append(f"{FAULTS[fault][1]}{'' if hits['n'] else ' (none)'}")
            _check_nothing_half_made()
            try:
                matrix[_outcome(status, before, op)].append(cell)
            except AssertionError as exc:
                raise AssertionError(f"{cell}: {exc}") from exc
            sweep(repair=True, grace=timedelta(0))
            second = sweep(grace=timedelta(0))
            assert second.clean, (cell, second.lines())
            _check_nothing_half_made()
    with capsys.disabled():
        print(f"\nFault matrix: {sum(map(len, matrix.values()))} cases")
        for outcome, cells in sorted(matrix.items()):
            print(f"  {outcome}: {len(cells)}")
            for cell in cells:
                print(f"      {cell}")
        print("  AWS calls each write was faulted in (none: it makes no such call):")
        for (face, op), calls in covered.items():
            print(f"      {face:6} {op:8} | {', '.join(dict.fromkeys(calls))}")
    assert set(matrix) <= {"done", "done, file removal pending (sweep finishes)", "refused 503, nothing changed"}
    # Puts and copies that make a file version or a trash copy, and every transaction.
    assert len(matrix["refused 503, nothing changed"]) == 56
    # Replace, delete, restore and purge with S3's delete down; replace and delete with the CDN down
    # (a restore or purge removes trash copies only, which the CDN never served).
    assert len(matrix["done, file removal pending (sweep finishes)"]) == 12
