"""Representative flows of each deployable, the way it runs in AWS: each Lambda function's
handler called with API Gateway (or EventBridge) events, the portal through Django's test
client and its management commands. `act` marks the calls that are the deployable's; what
happens outside it is set-up (another party, e.g. a browser posting a presigned form)."""

from __future__ import annotations

import functools
import io
import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta, timezone
from unittest import mock

from accounts import api as accounts_api
from accounts import cognito
from pynamodb.connection import Connection
from images import api as images_api
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
    record = create()
    with act():
        for key, value in (("title", "harbour"), ("keywords", "boat"), ("author", "ana"), ("id", record.id),
                           ("capture_date", "2023-07-01")):
            status, found = call(images_api.search_images, "GET", f"/images/{key}/{value}",
                                 path_parameters={"key": key, "value": value}, resource="/images/{key}/{value}")
            assert status == 200 and [i["id"] for i in found] == [record.id], (key, found)


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


def interrupted_replacement(title: str) -> ImageRecord:
    """An image whose new file was staged, then the process died before the copy."""
    record = create(title)
    with mock.patch.object(catalog.services, "finish_replacement", side_effect=RuntimeError("crash")):
        try:
            catalog.image_update(actor=ACTOR, image_id=record.id, meta=meta(title + " 2"),
                                 data=make_image("JPEG", size=(30, 20)), expected_version=record.version)
        except RuntimeError:
            pass
    return ImageRecord.get(record.id)


def delete_image(act: Act) -> None:
    record = create()
    staged = interrupted_replacement("Staged")
    assert staged.staged_key
    with act():
        for image_id in (record.id, staged.id):
            status, body = call(images_api.delete_image, "DELETE", "/images", {"id": image_id}, claims=ALICE)
            assert status == 200, body
        status, body = call(images_api.delete_image, "DELETE", "/images", {"id": record.id}, claims=ALICE)
        assert status == 404, body
    assert not objects.exists(staged.staged_key)


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
    objects.put_object(objects.image_key("d" * 32), b"x", content_type="image/png")  # orphans
    objects.put_object(objects.upload_key("0" * 16, "1" * 32), b"x", content_type="image/png")
    replaced = interrupted_replacement("Replaced")
    objects.put_object(objects.thumbnail_key("d" * 32), b"x", content_type="image/jpeg")
    lost = create("Lost")
    objects.delete_objects(lost.object_key)  # a file gone: reported, not repaired
    restored = interrupted_replacement("Restored")  # files gone, but the staged ones restore them
    objects.delete_objects(restored.object_key, restored.thumbnail_key)
    ImageTerm("facet:keyword", "zero", label="zero", facet_count=0).save()  # a counter left over
    ImageTerm("facet:author", "ana").delete()  # a counter lost
    later = functools.partial(sweep.sweep, now=datetime.now(timezone.utc) + timedelta(days=1))
    with act(), mock.patch.object(maintenance, "sweep", later):
        summary = maintenance.lambda_handler({"source": "aws.events", "detail": {}}, None)
    assert summary["needs_attention"] is True and not summary["failures"], summary
    assert ImageRecord.get(kept.id) and not ImageRecord.get(replaced.id).staged_key
    assert not objects.exists(objects.image_key("d" * 32))


# -- the portal (Beanstalk instances) --------------------------------------------------------

def portal_commands(act: Act) -> None:
    """The runbook's commands on an instance: create_user (a refused password leaves no user
    behind, finding 4) and sweep_images --repair (a staged file gone missing, finding 3)."""
    from django.core.management import CommandError, call_command

    record = interrupted_replacement("Staged")
    objects.delete_objects(record.object_key, record.thumbnail_key)  # files lost: the staged ones restore them
    objects.put_object(objects.upload_key("0" * 16, "2" * 32), b"x", content_type="image/png")  # abandoned
    other = interrupted_replacement("Gone")
    objects.delete_objects(other.staged_key, other.object_key)  # file and staged file gone (finding 3)
    objects.put_object(objects.thumbnail_key("e" * 32), b"x", content_type="image/jpeg")  # an orphan
    out = io.StringIO()
    with act():
        call_command("create_user", "root", "--email", "root@example.com", "--password", PASSWORD, "--staff",
                     stdout=out)
        try:
            call_command("create_user", "weakling", "--email", "w@example.com", "--password", "weak", stdout=out)
        except CommandError as exc:
            assert "password" in str(exc).lower(), exc
        else:
            raise AssertionError("a weak password was accepted")
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

    def upload(fmt: str = "PNG") -> SimpleUploadedFile:
        return SimpleUploadedFile("p.png", make_image(fmt), content_type="image/png")

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
        added = client.post(reverse("images:add"), {"title": "Harbour", "keywords": "boat", "author": "Ana",
                                                    "capture_date": "2020-01-02", "image": upload()})
        assert added.status_code == 302, added
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
                                       "image": upload("JPEG")})
        assert changed.status_code == 302, changed
        version = catalog.image_get(image_id=record.id).version
        assert client.post(reverse("images:delete", args=[record.id]), {"version": version}).status_code == 302
        change_password = reverse("accounts:password_change")
        assert client.post(change_password, {"old_password": PASSWORD, "password1": "New-pass-2!",
                                             "password2": "New-pass-2!"}).status_code == 302
        assert client.post(reverse("accounts:logout")).status_code == 302
        reset = client.post(reverse("accounts:password_reset"), {"username": "alice"})
        assert reset.status_code == 302
        done = client.post(reset.url, {"username": "alice", "code": code("alice"), "password1": "New-pass-3!",
                                       "password2": "New-pass-3!"})
        assert done.status_code == 302, done
