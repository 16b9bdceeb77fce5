"""Races and faults between writers (issue 21), each replayed as a fixed schedule: one writer is
paused at a chosen point while another runs to the end, then the first goes on. Each ends in a
clean answer (success, 404 or 409; 503 with Retry-After for a busy AWS), never a 500 nor a lost file."""

from __future__ import annotations

import json
import re
import threading
from contextlib import contextmanager
from unittest import mock

import boto3
import pytest
from botocore.exceptions import ReadTimeoutError
from django.urls import reverse
from moto.core.botocore_stubber import BotocoreStubber

from common.config import get_config
from common.errors import NotFound
from images import catalog, objects
from images.api import images as api
from images.api import trash as api_trash
from images.catalog import cleanup, trash, uploads
from images.records import ImageRecord
from tests.helpers import api_event, b64, claims_for, make_image

ALICE = catalog.Actor(sub="sub-alice", username="alice")
STAFF = catalog.Actor(sub="sub-sam", username="sam", is_staff=True)
CLAIMS = claims_for()


def create(color=(200, 30, 30)):
    meta = catalog.validate_meta(title="Lighthouse", description="", keywords="sea", author="Ana",
                                 capture_date=None)
    return catalog.image_create(owner=ALICE, meta=meta, data=make_image("PNG", color=color), original_filename="l.png")


def call(handler, method, path, body=None, **kwargs):
    reply = handler(api_event(method, path, body, claims=kwargs.pop("claims", CLAIMS), **kwargs), None)
    return reply["statusCode"], json.loads(reply["body"]), reply["headers"]


@contextmanager
def first_call_runs(module, name, before):
    """Patch module.name so that its first call runs `before()` first (the other writer's turn)."""
    real = getattr(module, name)
    state = {"done": False}

    def wrapped(*args, **kwargs):
        if not state["done"]:
            state["done"] = True
            before()
        return real(*args, **kwargs)

    with mock.patch.object(module, name, wrapped):
        yield


def test_two_deletes_at_once_keep_the_file(aws):
    record = create()
    original = objects.get_object(record.object_key)
    # Delete A has copied its objects to the trash and is about to commit when delete B runs whole.
    with first_call_runs(trash, "commit", lambda: trash.image_delete(actor=ALICE, image_id=record.id)):
        with pytest.raises((catalog.ImageConflict, NotFound)):
            trash.image_delete(actor=ALICE, image_id=record.id)
    trashed = ImageRecord.get(record.id)
    assert objects.exists(trashed.object_key) and objects.exists(trashed.thumbnail_key)
    restored = catalog.image_restore(actor=ALICE, image_id=record.id)
    assert objects.get_object(restored.object_key) == original


def test_a_delete_racing_a_replacement_is_a_conflict(aws):
    record = create()
    replace = lambda: catalog.image_edit(actor=ALICE, image_id=record.id, changes={},  # noqa: E731
                                         data=make_image("PNG", color=(1, 2, 3)))
    # The delete has read version 1; the replacement commits and removes version 1's objects.
    with first_call_runs(trash, "_copy", replace):
        status, body, _ = call(api.delete_image, "DELETE", "/images", {"id": record.id})
    assert status == 409, body
    current = catalog.image_get(image_id=record.id)
    assert current.version == 2 and objects.exists(current.object_key)


@pytest.mark.parametrize("purger", ["staff", "retention sweep"])
def test_a_restore_racing_a_purge_is_not_found(aws, purger):
    record = create()
    catalog.image_delete(actor=ALICE, image_id=record.id)
    if purger == "staff":
        purge = lambda: catalog.image_purge(actor=STAFF, image_id=record.id)  # noqa: E731
    else:
        purge = lambda: trash.purge_expired(retention_days=-1)  # noqa: E731
    with first_call_runs(trash, "_copy", purge):
        status, body, _ = call(api_trash.restore_image, "POST", "/images/restore", {"id": record.id})
    assert status == 404, body
    assert not list(objects.list_objects(objects.IMAGES_PREFIX))


# ------------------------------------------------------------------ faults in reads


@contextmanager
def failing(operation: str, kind: str):
    """Every `operation` call (e.g. "dynamodb.Query") fails: throttled, 5xx or a timeout."""
    from tests.images.test_fault_matrix import error_response

    real = BotocoreStubber.__call__
    service = operation.split(".")[0]

    def send(self, event_name, request, **kwargs):
        if event_name != f"before-send.{operation}":
            return real(self, event_name, request, **kwargs)
        if kind == "timeout":
            raise ReadTimeoutError(endpoint_url=request.url)
        if kind == "throttled":
            return error_response(400, service, "ThrottlingException" if service == "dynamodb" else "SlowDown")
        return error_response(500, service, "InternalServerError" if service == "dynamodb" else "InternalError")

    with mock.patch.object(BotocoreStubber, "__call__", send), mock.patch("botocore.endpoint.time.sleep"):
        yield


def _upload(actor):
    started = catalog.upload_start(actor)
    objects.s3().put_object(Bucket=objects.get_config().images_bucket, Key=started.key, Body=make_image("PNG"))
    return started.key


READS = {
    "list": ("dynamodb.Query", lambda r: call(api.list_images, "GET", "/images")),
    "search": ("dynamodb.Query", lambda r: call(api.search_images, "GET", "/images/title/light",
                                                 path_parameters={"key": "title", "value": "light"})),
    "edit's load": ("dynamodb.GetItem", lambda r: call(api.update_image, "PUT", "/images", {"id": r.id, "title": "X"})),
    "delete's load": ("dynamodb.GetItem", lambda r: call(api.delete_image, "DELETE", "/images", {"id": r.id})),
    "upload read": ("s3.GetObject", lambda r: call(api.create_image, "POST", "/images",
                                                   {"title": "Up", "author": "Ana", "upload_key": _upload(ALICE)})),
}


@pytest.mark.parametrize("kind", ["throttled", "5xx", "timeout"])
@pytest.mark.parametrize("read", list(READS))
def test_a_failing_read_is_a_503_with_retry_after(aws, read, kind):
    record = create()
    operation, run = READS[read]
    if read == "upload read":
        key = _upload(ALICE)
        run = lambda r: call(api.create_image, "POST", "/images", {"title": "Up", "author": "Ana", "upload_key": key})  # noqa: E731
    with failing(operation, kind):
        status, body, headers = run(record)
    assert status == 503 and headers.get("Retry-After"), (status, body)
    assert body.get("status") in ("fail", "ERROR") and (body.get("msg") or body.get("message")), body
    assert catalog.image_get(image_id=record.id).version == 1


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["list", "change"])
def test_a_failing_read_in_the_portal_is_a_503_with_retry_after(client, aws, page):
    from tests.images.test_views import user

    record = create()
    client.force_login(user(ALICE))
    client.raise_request_exception = False  # as a browser sees it (the session read fails too)
    url = reverse("images:list") if page == "list" else reverse("images:change", args=[record.id])
    with failing("dynamodb.Query" if page == "list" else "dynamodb.GetItem", "throttled"):
        reply = client.get(url)
    assert reply.status_code == 503 and reply["Retry-After"]


# ------------------------------------------------------------------ idempotency


def test_a_failed_upload_removal_after_the_commit_does_not_make_a_second_image(aws):
    key = _upload(ALICE)
    body = {"title": "Once", "author": "Ana", "upload_key": key}
    headers = {"Idempotency-Key": "k-upload-removal"}
    real = objects.delete_objects

    def refuse_the_upload(*keys):
        if key in keys:
            raise objects.DeleteFailed("injected")
        return real(*keys)

    with mock.patch.object(objects, "delete_objects", refuse_the_upload):
        first = call(api.create_image, "POST", "/images", body, headers=headers)
    second = call(api.create_image, "POST", "/images", body, headers=headers)
    assert first[0] == 201, first
    assert second[0] == 201 and second[1]["id"] == first[1]["id"], second
    assert len(catalog.image_list(limit=100).items) == 1


def test_a_crash_before_the_answer_is_saved_does_not_make_a_second_image(aws):
    body = {"title": "Once", "author": "Ana", "image_content": b64(make_image("PNG"))}
    headers = {"Idempotency-Key": "k-crash"}

    class Crash(BaseException):
        """The process dies after the commit, before Powertools saves the answer."""

    from aws_lambda_powertools.utilities.idempotency.persistence import base

    with mock.patch.object(base.BasePersistenceLayer, "save_success", side_effect=Crash):
        with pytest.raises(Crash):
            api.create_image(api_event("POST", "/images", body, claims=CLAIMS, headers=headers), None)
    # The in-progress record expires (IN_PROGRESS_SECONDS later): here it is removed, as if expired.
    table = boto3.resource("dynamodb", region_name=get_config().aws_region).Table(get_config().idempotency_table)
    for item in table.scan()["Items"]:
        table.delete_item(Key={"id": item["id"]})
    retry = call(api.create_image, "POST", "/images", body, headers=headers)
    assert retry[0] == 201, retry
    assert len(catalog.image_list(limit=100).items) == 1


def test_one_upload_key_three_times_at_once_makes_one_image(aws):
    key = _upload(ALICE)
    meet = threading.Barrier(3, timeout=30)
    real = uploads._take_upload

    def read_then_meet(owner, upload_key):
        data = real(owner, upload_key)
        meet.wait()  # all three hold the upload before any of them commits
        return data

    answers = []
    with mock.patch.object(uploads, "_take_upload", read_then_meet):
        threads = [threading.Thread(target=lambda: answers.append(
            call(api.create_image, "POST", "/images", {"title": "Up", "author": "Ana", "upload_key": key}))) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert all(status in (201, 409) for status, _, _ in answers), answers
    assert len({body["id"] for status, body, _ in answers if status == 201}) == 1, answers
    assert len(catalog.image_list(limit=100).items) == 1


# ------------------------------------------------------------------ the portal


@pytest.mark.django_db
def test_the_add_form_renders_its_token_and_a_second_send_stores_nothing(client, aws):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.images.test_views import user

    client.force_login(user(ALICE))
    page = client.get(reverse("images:add")).content.decode()
    found = re.search(r'name="request_token" value="([0-9a-f]{32})"', page)
    assert found, "the add form does not render its one-time token"
    data = make_image("PNG", color=(9, 9, 9))
    for _ in range(2):
        reply = client.post(reverse("images:add"), {
            "title": "Twice", "author": "Ana", "on_duplicate": "keep", "request_token": found.group(1),
            "image": SimpleUploadedFile("t.png", data, content_type="image/png")})
        assert reply.status_code == 302
    assert len(catalog.image_list(limit=100).items) == 1


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["set_author", "delete_selected"])
def test_a_bulk_confirmation_carries_versions(client, aws, action):
    from tests.images.test_views import user

    record = create()
    client.force_login(user(ALICE))
    data = {"action": action, "_selected_action": [record.id]}
    page = client.post(reverse("images:action"), data).content.decode()
    versions = dict(re.findall(r'name="(version_[0-9a-f]{32})" value="(\d+)"', page))
    assert versions == {f"version_{record.id}": "1"}, "the confirmation carries no versions"
    catalog.image_edit(actor=STAFF, image_id=record.id, changes={"author": "Someone else"})
    client.post(reverse("images:action"), {**data, **versions, "post": "yes", "author": "Zed"})
    current = catalog.image_get(image_id=record.id)  # neither overwritten nor deleted
    assert current.author == "Someone else" and current.version == 2


# ------------------------------------------------------------------ cleanup and caching


def test_a_retried_delete_finishes_the_pending_cleanup(aws):
    record = create()
    public = [record.object_key, record.thumbnail_key]
    with mock.patch.object(objects, "delete_objects", side_effect=objects.DeleteFailed("injected")):
        assert catalog.image_delete(actor=ALICE, image_id=record.id) is False
    assert cleanup.pending(record.id) and objects.exists(public[0])
    status, body, _ = call(api.delete_image, "DELETE", "/images", {"id": record.id})
    assert status == 404, body
    assert not cleanup.pending(record.id) and not any(objects.exists(k) for k in public)


def test_files_are_cached_by_browsers_for_a_day_and_by_the_cdn_until_invalidated(aws):
    record = create()
    head = objects.s3().head_object(Bucket=objects.get_config().images_bucket, Key=record.object_key)
    directives = dict(d.strip().partition("=")[::2] for d in head["CacheControl"].split(","))
    assert int(directives["max-age"]) <= 86400 and int(directives["s-maxage"]) >= 86400, head["CacheControl"]
