"""Representative flows of each deployable, the way it runs in AWS: each Lambda function's
handler called with API Gateway (or EventBridge) events, the portal through Django's test
client and its management commands. `act` marks the calls that are the deployable's; what
happens outside it is set-up (another party, e.g. a browser posting a presigned form)."""

from __future__ import annotations

import contextlib
import functools
import io
import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime, timedelta, timezone
from unittest import mock

from accounts import api as accounts_api
from accounts import cognito
from pynamodb.connection import Connection
from images.api import images as images_api
from images.api import trash as images_api_trash
from images import catalog, export_jobs, maintenance, objects, sweep
from images.records import ImageRecord, ImageTerm
from tests.helpers import api_event, b64, claims_for, make_image

Act = Callable[[], AbstractContextManager]
ALICE = claims_for()
ACTOR = catalog.Actor(sub="sub-alice", username="alice")
PASSWORD = "Right-pass-1"


def call(handler, method: str, path: str, body=None, **kwargs) -> tuple[int, dict]:
    reply = handler(api_event(method, path, body, **kwargs), None)
    return reply["statusCode"], json.loads(reply["body"])


def meta(title: str = "Harbour") -> catalog.ImageMeta:
    return catalog.validate_meta(title=title, description="Boats", keywords="boat,sea", author="Ana",
                                 capture_date="2023-07-01")


def create(title: str = "Harbour") -> ImageRecord:
    return catalog.image_create(owner=ACTOR, meta=meta(title), data=make_image(), original_filename="h.png")


def pending_upload(data: bytes | None = None, token: str = "f" * 32) -> str:
    """A file alice put under uploads/ with a presigned form (the browser's part)."""
    key = objects.upload_key(catalog.upload_owner_tag(ACTOR.sub), token)
    objects.put_object(key, data if data is not None else make_image(), content_type="application/octet-stream")
    return key


def image_body(**fields) -> dict:
    return {"title": "Harbour", "description": "Boats", "keywords": "boat,sea", "author": "Ana",
            "capture_date": "2023-07-01", "filename": "h.png", **fields}


@contextlib.contextmanager
def replies_lost(operation: str = "TransactWriteItems") -> Iterator[None]:
    """Every reply of `operation` is lost after the server acted (a timeout), retries included:
    the code must settle whether its change is in (one read of the history entry)."""
    from botocore.exceptions import ReadTimeoutError
    from moto.core.botocore_stubber import BotocoreStubber

    real = BotocoreStubber.__call__

    def call_then_drop(self, event_name, request, **kwargs):
        answer = real(self, event_name, request, **kwargs)
        if event_name.endswith(f".{operation}"):
            raise ReadTimeoutError(endpoint_url=request.url)
        return answer

    with mock.patch.object(BotocoreStubber, "__call__", call_then_drop), mock.patch("botocore.endpoint.time.sleep"):
        yield


def cleanup_left(title: str) -> ImageRecord:
    """An image whose file was replaced, then the old file's removal failed (the CDN was down):
    the cleanup item is left for a retry or the sweep."""
    from botocore.exceptions import ClientError

    record = create(title)
    down = ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, "CreateInvalidation")
    with mock.patch.object(objects, "invalidate", side_effect=down):
        catalog.image_update(actor=ACTOR, image_id=record.id, meta=meta(title + " 2"),
                             data=make_image("JPEG", size=(30, 20)), expected_version=record.version)
    return ImageRecord.get(record.id)


def missing_upload() -> str:
    return objects.upload_key(catalog.upload_owner_tag(ACTOR.sub), "0" * 32)


# -- the API's functions ---------------------------------------------------------------------

def list_images(act: Act) -> None:
    for title in ("One", "Two", "Three"):
        create(title)
    with act():
        status, first = call(images_api.list_images, "GET", "/images", query={"limit": "2"})
        assert status == 200 and len(first) == 2
        reply = images_api.list_images(api_event("GET", "/images", query={"limit": "2"}), None)
        cursor = reply["headers"]["X-Next-Cursor"]
        status, rest = call(images_api.list_images, "GET", "/images", query={"limit": "2", "cursor": cursor})
        assert status == 200 and len(rest) == 1
        assert call(images_api.list_images, "GET", "/images", query={"order": "oldest"})[0] == 200


def search_images(act: Act) -> None:
    older = create()
    record = create()
    with act():
        reply = images_api.search_images(api_event("GET", "/images/title/harbour", query={"limit": "1"},
                                                   path_parameters={"key": "title", "value": "harbour"},
                                                   resource="/images/{key}/{value}"), None)
        cursor = reply["headers"]["X-Next-Cursor"]  # signed with the cursor secret
        status, rest = call(images_api.search_images, "GET", "/images/title/harbour", query={"limit": "1", "cursor": cursor},
                            path_parameters={"key": "title", "value": "harbour"}, resource="/images/{key}/{value}")
        assert status == 200 and [i["id"] for i in rest] == [older.id], rest
        for key, value in (("title", "harbour"), ("keywords", "boat"), ("author", "ana"), ("id", record.id),
                           ("capture_date", "2023-07-01")):
            status, found = call(images_api.search_images, "GET", f"/images/{key}/{value}",
                                 path_parameters={"key": key, "value": value}, resource="/images/{key}/{value}")
            assert status == 200 and record.id in [i["id"] for i in found], (key, found)


def create_upload(act: Act) -> None:
    with act():
        status, form = call(images_api.create_upload, "POST", "/images/uploads", claims=ALICE)
    assert status == 201 and form["upload_key"].startswith(objects.UPLOADS_PREFIX)


def create_image(act: Act) -> None:
    key = pending_upload()
    with act():
        status, body = call(images_api.create_image, "POST", "/images", image_body(image_content=b64(make_image())),
                            claims=ALICE)
        assert status == 201, body
        status, body = call(images_api.create_image, "POST", "/images", image_body(upload_key=key), claims=ALICE)
        assert status == 201, body
        # A retried create: the same Idempotency-Key gives the first answer (Powertools records).
        once = {"Idempotency-Key": "retry-1"}
        first = call(images_api.create_image, "POST", "/images", image_body(image_content=b64(make_image())),
                     claims=ALICE, headers=once)
        again = call(images_api.create_image, "POST", "/images", image_body(image_content=b64(make_image())),
                     claims=ALICE, headers=once)
        assert first == again and first[0] == 201, (first, again)
        # Refusing duplicates: the content's claims are read, then written with the image.
        status, body = call(images_api.create_image, "POST", "/images", image_body(
            image_content=b64(make_image("JPEG", size=(50, 40))), on_duplicate="refuse"), claims=ALICE)
        assert status == 201, body
        refused_once = call(images_api.create_image, "POST", "/images", image_body(image_content=b64(b"x")),
                            claims=ALICE, headers={"Idempotency-Key": "retry-2"})
        assert refused_once[0] == 400, refused_once
        # The commit's reply is lost: one read of the history entry settles it.
        with replies_lost():
            status, body = call(images_api.create_image, "POST", "/images",
                                image_body(image_content=b64(make_image())), claims=ALICE)
        assert status == 201, body
    refused = pending_upload(b"<html>not an image</html>", token="e" * 32)
    with act():
        status, body = call(images_api.create_image, "POST", "/images", image_body(upload_key=refused), claims=ALICE)
        assert status == 400, body
        # A missing or expired upload is the client's mistake: the documented 400 (finding 2).
        status, body = call(images_api.create_image, "POST", "/images", image_body(upload_key=missing_upload()),
                            claims=ALICE)
        assert status == 400 and body["status"] == "fail", body
        # A failed transaction after the files are stored removes them again.
        with mock.patch.object(Connection, "transact_write_items", side_effect=RuntimeError("crash")):
            status, _ = call(images_api.create_image, "POST", "/images", image_body(image_content=b64(make_image())),
                             claims=ALICE)
        assert status == 500


def update_image(act: Act) -> None:
    record = create()
    twin = create("Twin")
    key = pending_upload(make_image("JPEG", size=(30, 20)))
    with act():
        status, body = call(images_api.update_image, "PUT", "/images",
                            {"id": record.id, "title": "Renamed", "author": "Bea", "keywords": "sea"}, claims=ALICE)
        assert status == 200, body
        status, body = call(images_api.update_image, "PUT", "/images",
                            {"id": record.id, "image_content": b64(make_image("JPEG", size=(40, 30)))}, claims=ALICE)
        assert status == 200, body
        status, body = call(images_api.update_image, "PUT", "/images", {"id": record.id, "upload_key": key},
                            claims=ALICE)
        assert status == 200, body
        status, body = call(images_api.update_image, "PUT", "/images",
                            {"id": record.id, "upload_key": missing_upload()}, claims=ALICE)
        assert status == 400 and body["status"] == "ERROR", body
        status, body = call(images_api.update_image, "PUT", "/images", {"id": record.id, "version": 1,
                                                                          "title": "Stale"}, claims=ALICE)
        assert status == 409, body
        with replies_lost():
            status, body = call(images_api.update_image, "PUT", "/images", {"id": record.id, "title": "Settled"},
                                claims=ALICE)
        assert status == 200, body
        # The file of another image (create() makes the same bytes): refused on request.
        status, body = call(images_api.update_image, "PUT", "/images", {"id": record.id, "on_duplicate": "refuse",
                                                                          "image_content": b64(make_image())},
                            claims=ALICE)
        assert status == 409 and body["duplicate_of"]["id"] == twin.id, body


def delete_image(act: Act) -> None:
    record = create()
    other = create("Other")
    failing = create("Failing")
    with act():
        status, body = call(images_api.delete_image, "DELETE", "/images", {"id": record.id}, claims=ALICE)
        assert status == 200, body
        status, body = call(images_api.delete_image, "DELETE", "/images", {"id": record.id}, claims=ALICE)
        assert status == 404, body
        with replies_lost():
            status, body = call(images_api.delete_image, "DELETE", "/images", {"id": other.id}, claims=ALICE)
        assert status == 200, body
        # A failed transaction after the trash copies are made removes them again.
        with mock.patch.object(Connection, "transact_write_items", side_effect=RuntimeError("crash")):
            status, _ = call(images_api.delete_image, "DELETE", "/images", {"id": failing.id}, claims=ALICE)
        assert status == 500
    assert not objects.exists(record.object_key) and not objects.exists(other.object_key)


def trashed(title: str = "Trashed") -> ImageRecord:
    record = create(title)
    catalog.image_delete(actor=ACTOR, image_id=record.id)
    return ImageRecord.get(record.id)


STAFF = claims_for("sub-sam", "sam", groups="staff")


def list_trash(act: Act) -> None:
    for title in ("One", "Two", "Three"):
        trashed(title)
    with act():
        reply = images_api_trash.list_trash(api_event("GET", "/images/trash", query={"limit": "2"}, claims=ALICE), None)
        assert reply["statusCode"] == 200 and len(json.loads(reply["body"])) == 2, reply
        status, rest = call(images_api_trash.list_trash, "GET", "/images/trash", claims=STAFF,
                            query={"cursor": reply["headers"]["X-Next-Cursor"], "limit": "2"})
        assert status == 400  # a cursor of alice's trash is not staff's
        status, rest = call(images_api_trash.list_trash, "GET", "/images/trash", claims=ALICE,
                            query={"cursor": reply["headers"]["X-Next-Cursor"], "limit": "2"})
        assert status == 200 and len(rest) == 1, rest


def restore_image(act: Act) -> None:
    record, failing, lost = trashed(), trashed("Failing"), trashed("Lost")
    with act():
        status, body = call(images_api_trash.restore_image, "POST", "/images/restore", {"id": record.id}, claims=ALICE)
        assert status == 200, body
        with replies_lost():
            status, body = call(images_api_trash.restore_image, "POST", "/images/restore", {"id": lost.id},
                                claims=ALICE)
        assert status == 200, body
        with mock.patch.object(Connection, "transact_write_items", side_effect=RuntimeError("crash")):
            status, _ = call(images_api_trash.restore_image, "POST", "/images/restore", {"id": failing.id},
                             claims=ALICE)
        assert status == 500
    assert objects.exists(catalog.image_get(image_id=record.id).object_key)


def purge_image(act: Act) -> None:
    record, lost = trashed(), trashed("Lost")
    with act():
        status, body = call(images_api_trash.purge_image, "POST", "/images/purge", {"id": record.id}, claims=STAFF)
        assert status == 200, body
        with replies_lost():
            status, body = call(images_api_trash.purge_image, "POST", "/images/purge", {"id": lost.id}, claims=STAFF)
        assert status == 200, body
    assert not objects.exists(record.object_key)


def image_history(act: Act) -> None:
    record = create()
    catalog.image_edit(actor=ACTOR, image_id=record.id, changes={"title": "Renamed"})
    with act():
        path = {"path_parameters": {"id": record.id}, "resource": "/images/history/{id}"}
        reply = images_api_trash.image_history(api_event("GET", f"/images/history/{record.id}", query={"limit": "1"},
                                                         claims=ALICE, **path), None)
        assert reply["statusCode"] == 200, reply
        status, rest = call(images_api_trash.image_history, "GET", f"/images/history/{record.id}", claims=ALICE,
                            query={"cursor": reply["headers"]["X-Next-Cursor"]}, **path)
        assert status == 200 and [e["action"] for e in rest] == ["edit"], rest


def create_user(act: Act) -> None:
    with act():
        status, body = call(accounts_api.create_user, "POST", "/users",
                            {"username": "dave", "password": PASSWORD, "email": "dave@example.com"})
        assert status == 201, body
        status, body = call(accounts_api.create_user, "POST", "/users",
                            {"username": "weak", "password": "weak", "email": "weak@example.com"})
        assert status == 400, body


def pre_sign_up(act: Act) -> None:
    from accounts import triggers
    from accounts.pool import INSTANT_SIGN_UP_METADATA

    event = {"triggerSource": "PreSignUp_SignUp", "userName": "dave", "response": {},
             "request": {"userAttributes": {"email": "dave@example.com"}, "clientMetadata": INSTANT_SIGN_UP_METADATA}}
    with act():
        assert triggers.pre_sign_up(event, None) is event


def create_token(act: Act) -> None:
    cognito.admin_create_user("erin", "erin@example.com", PASSWORD)
    with act():
        status, body = call(accounts_api.create_token, "POST", "/users/token", {"username": "erin", "password": "Wrong-1x!"})
        assert status == 401, body
        status, body = call(accounts_api.create_token, "POST", "/users/token", {"username": "erin", "password": PASSWORD})
        assert status == 200, body


# -- the scheduled sweep ---------------------------------------------------------------------

def maintenance_sweep(act: Act) -> None:
    kept = create("Kept")
    objects.put_object(objects.image_key("d" * 32, "t" * 32, "png"), b"x", content_type="image/png")  # orphans
    objects.put_object(objects.upload_key("0" * 16, "1" * 32), b"x", content_type="image/png")
    replaced = cleanup_left("Replaced")
    objects.put_object(objects.thumbnail_key("d" * 32, "t" * 32), b"x", content_type="image/jpeg")
    lost = create("Lost")
    objects.delete_objects(lost.object_key)  # a file gone: reported, not repaired
    ImageTerm("facet:keyword", "zero", label="zero", facet_count=0).save()  # a counter left over
    ImageTerm("facet:author", "ana").delete()  # a counter lost
    expired = trashed("Expired")  # purged: in the trash longer than the retention period
    later = functools.partial(sweep.sweep, now=datetime.now(timezone.utc) + timedelta(days=31))
    # The purge's reply is lost (its only transaction): one read of its history entry settles it.
    with act(), mock.patch.object(maintenance, "sweep", later), replies_lost():
        summary = maintenance.lambda_handler({"source": "aws.events", "detail": {}}, None)
    assert summary["needs_attention"] is True and not summary["failures"], summary
    assert ImageRecord.get(kept.id) and ImageRecord.get(replaced.id).title == "Replaced 2"
    assert not catalog.cleanup.pending() and not objects.exists(objects.image_key("d" * 32, "t" * 32, "png"))
    assert summary["counts"]["purged"] == 1 and not objects.exists(expired.object_key)


# -- the portal (Beanstalk instances) --------------------------------------------------------

def portal_commands(act: Act) -> None:
    """The runbook's commands on an instance: sweep_images --repair (a cleanup left unfinished,
    a file gone) and disable_user; create_user (a refused password leaves no user behind,
    finding 4) as the operator."""
    from django.core.management import CommandError, call_command

    cleanup_left("Replaced")
    objects.put_object(objects.upload_key("0" * 16, "2" * 32), b"x", content_type="image/png")  # abandoned
    gone = create("Gone")
    objects.delete_objects(gone.object_key)  # a file gone: reported, not repaired
    objects.put_object(objects.thumbnail_key("e" * 32, "t" * 32), b"x", content_type="image/jpeg")  # an orphan
    out = io.StringIO()
    # create_user runs with the operator's credentials, not the instance role's (which may not
    # create users: docs/deploy.md, "The first staff user"), so outside act().
    call_command("create_user", "root", "--email", "root@example.com", "--password", PASSWORD, "--staff",
                 stdout=out)
    try:
        call_command("create_user", "weakling", "--email", "w@example.com", "--password", "weak", stdout=out)
    except CommandError as exc:
        assert "password" in str(exc).lower(), exc
    else:
        raise AssertionError("a weak password was accepted")
    with act():
        call_command("sweep_images", "--repair", "--grace-minutes", "0", stdout=out)
        call_command("disable_user", "root", stdout=out)
    assert "root" in out.getvalue()
    try:
        cognito._client().admin_get_user(UserPoolId=cognito.get_config().cognito_user_pool_id, Username="weakling")
    except cognito._client().exceptions.UserNotFoundException:
        pass
    else:
        raise AssertionError("the refused user was left in the pool")


def portal_pages(act: Act, client) -> None:
    """Sign-up, sign-in, the catalog pages, passwords and sign-out through the portal's views."""
    from django.urls import reverse
    from django.core.files.uploadedfile import SimpleUploadedFile

    from images.views import exports as export_views
    from local import mailbox

    def code(username: str) -> str:
        return [m["code"] for m in mailbox.messages(username) if m["code"]][-1]

    def upload(fmt: str = "PNG", color=(12, 120, 201)) -> SimpleUploadedFile:
        # A picture of its own: the form asks before storing one already in the catalog.
        return SimpleUploadedFile("p.png", make_image(fmt, color=color), content_type="image/png")

    cognito.admin_create_user("alice", "alice@example.com", PASSWORD)
    with act():
        signup = client.post(reverse("accounts:signup"), {"username": "dave", "email": "dave@example.com",
                                                          "password1": PASSWORD, "password2": PASSWORD})
        assert signup.status_code == 302, signup
        client.post(reverse("accounts:resend_code"), {"username": "dave"})
        assert client.post(reverse("accounts:confirm"), {"username": "dave", "code": code("dave")}).status_code == 302
        login = reverse("accounts:login")
        assert client.post(login, {"username": "alice", "password": "Wrong-pass-1"}).status_code == 200
        assert client.post(login, {"username": "alice", "password": PASSWORD}).status_code == 302
        form = {"title": "Harbour", "keywords": "boat", "author": "Ana", "capture_date": "2020-01-02",
                "request_token": "a" * 32}
        before = len(catalog.image_list(limit=100).items)
        added = client.post(reverse("images:add"), {**form, "image": upload()})
        assert added.status_code == 302, added
        resent = client.post(reverse("images:add"), {**form, "image": upload()})  # a double submit: once
        assert resent.status_code == 302 and len(catalog.image_list(limit=100).items) == before + 1, resent
        refused = client.post(reverse("images:add"), {**form, "request_token": "b" * 32,
                                                      "image": SimpleUploadedFile("x.png", b"<svg/>")})
        assert refused.status_code == 200, refused
        record = catalog.image_list().items[0]
        assert client.get(reverse("images:list")).status_code == 200
        assert client.get(reverse("images:list"), {"q": "harbour", "limit": 1}).status_code == 200
        assert client.get(reverse("images:list"), {"author": "ana", "date": "2020"}).status_code == 200
        # Exports: built by job_run (a background thread in the portal; here at once), then
        # fetched through a presigned GetObject URL; a build that fails aborts its upload.
        with mock.patch.object(export_views, "run_in_background", export_jobs.job_run):
            zipped = client.post(reverse("images:action"), {
                "action": "download_zip", "_selected_action": [i.id for i in catalog.image_list().items]})
            status = client.get(zipped["Location"], HTTP_ACCEPT="application/json").json()
            assert status["state"] == "done", status
            assert client.get(status["download_url"]).status_code == 302
            with mock.patch.object(export_jobs.exports, "csv_rows", side_effect=OSError("failed midway")):
                failed = client.post(reverse("images:export_start"), {"kind": "csv"})
            assert client.get(failed["Location"], HTTP_ACCEPT="application/json").json()["state"] == "failed"
        download = client.get(reverse("images:download", args=[record.id]))  # a presigned GetObject URL
        assert download.status_code == 302 and record.object_key in download["Location"], download
        change = reverse("images:change", args=[record.id])
        assert client.get(change).status_code == 200
        changed = client.post(change, {"title": "Harbour 2", "author": "Ana", "version": record.version,
                                       "image": upload("JPEG", color=(31, 161, 92))})
        assert changed.status_code == 302, changed
        with replies_lost():  # the commit's reply is lost: one read of the history entry settles it
            settled = client.post(change, {"title": "Harbour 3", "author": "Ana", "version": record.version + 1})
        assert settled.status_code == 302, settled
        version = catalog.image_get(image_id=record.id).version
        assert client.post(reverse("images:delete", args=[record.id]), {"version": version}).status_code == 302
        assert client.get(reverse("images:trash")).status_code == 200
        assert client.get(reverse("images:trash_thumbnail", args=[record.id])).status_code == 200
        assert client.post(reverse("images:trash_action"), {"one": record.id}).status_code == 302  # restore
        assert client.get(reverse("images:history", args=[record.id])).status_code == 200
        version = catalog.image_get(image_id=record.id).version
        assert client.post(reverse("images:delete", args=[record.id]), {"version": version}).status_code == 302
        catalog.image_purge(actor=catalog.Actor(sub="sub-sam", username="sam", is_staff=True, face="portal"),
                            image_id=record.id)  # staff's purge: the portal's own calls, as staff would make
        change_password = reverse("accounts:password_change")
        assert client.post(change_password, {"old_password": PASSWORD, "password1": "New-pass-2!",
                                             "password2": "New-pass-2!"}).status_code == 302
        assert client.post(reverse("accounts:logout")).status_code == 302
        reset = client.post(reverse("accounts:password_reset"), {"username": "alice"})
        assert reset.status_code == 302
        done = client.post(reset.url, {"username": "alice", "code": code("alice"), "password1": "New-pass-3!",
                                       "password2": "New-pass-3!"})
        assert done.status_code == 302, done


def render(act: Act) -> None:
    from images import render as render_function
    from images.media.renditions import rendition_key

    record = catalog.image_create(owner=ACTOR, meta=meta("Wide"), data=make_image(size=(400, 300)),
                                  original_filename="w.png")
    event = {"rawPath": "/" + rendition_key(record.object_key, 320, "webp"),
             "requestContext": {"http": {"method": "GET"}}}
    with act():
        # A miss (403 without ListBucket), the original read, the rendition stored; then a hit.
        assert render_function.lambda_handler(event, None)["statusCode"] == 200
        assert render_function.lambda_handler(event, None)["statusCode"] == 200
    # A render racing a delete: the file goes (the deleter's call, made on moto directly so it is
    # not this role's) after the render read it; the render takes back what it stored.
    raced = {**event, "rawPath": "/" + rendition_key(record.object_key, 160, "webp")}
    real = render_function._render

    def file_deleted_meanwhile(*args):
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.s3.models import s3_backends

        s3_backends[DEFAULT_ACCOUNT_ID]["global"].delete_object(cognito.get_config().images_bucket, record.object_key)
        return real(*args)
    with mock.patch.object(render_function, "_render", file_deleted_meanwhile), act():
        assert render_function.lambda_handler(raced, None)["statusCode"] == 404
