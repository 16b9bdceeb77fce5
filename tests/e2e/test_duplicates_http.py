"""Duplicate detection over the real stack (issue 12), through both ways of sending a file (the
base64 body and a presigned upload registered by upload_key): the same bytes and the same
pixels with another EXIF are reported as duplicate_of, "keep" (the default) stores both,
on_duplicate "refuse" is a 409 that stores nothing and removes the upload, a match in the trash
says so, another user's image counts (duplicates are catalog-wide), and PUT checks a new file."""

from __future__ import annotations

import hashlib
import io
import os
import uuid

import boto3
import pytest
import requests
from PIL import Image

from tests.e2e.conftest import create_user
from tests.helpers import b64, jpeg_with_artist

pytestmark = pytest.mark.e2e

PASSWORD = "Dupes-pass-1"
ROUTES = ("base64", "upload")


def _login(stack, username: str) -> dict:
    create_user(stack, username, PASSWORD)
    reply = requests.post(f"{stack.api_url}/users/token", json={"username": username, "password": PASSWORD},
                          timeout=30)
    assert reply.status_code == 200, reply.text
    return {"Authorization": reply.json()["id_token"]}


@pytest.fixture(scope="module")
def users(local_stack):
    """(owner's name, owner's auth, another user's auth)."""
    owner = f"dora{uuid.uuid4().hex[:6]}"
    return owner, _login(local_stack, owner), _login(local_stack, f"otto{uuid.uuid4().hex[:6]}")


def noise() -> Image.Image:
    """A picture no other test of the session has (the catalog, and so its duplicates, is shared)."""
    return Image.frombytes("RGB", (48, 32), os.urandom(48 * 32 * 3))


def _pixels(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        return image.tobytes()


def _bucket_keys(stack, *prefixes: str) -> set[str]:
    s3 = boto3.client("s3", endpoint_url=stack.emulator_url, region_name=stack.env["AWS_REGION"],
                      aws_access_key_id=stack.env["AWS_ACCESS_KEY_ID"],
                      aws_secret_access_key=stack.env["AWS_SECRET_ACCESS_KEY"])
    bucket = stack.env.get("IMAGES_BUCKET", "image-manager-images")  # the code's default locally
    keys = set()
    for prefix in prefixes:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys.update(item["Key"] for item in page.get("Contents", []))
    return keys


def _stored_keys(stack) -> set[str]:
    return _bucket_keys(stack, "images/", "thumbnails/", "trash/")


class Sender:
    """Sends a file to POST or PUT /images one way or the other; remembers the last upload_key."""

    def __init__(self, stack, route: str):
        self.api, self.route, self.upload_key = stack.api_url, route, None

    def _file(self, auth: dict, data: bytes) -> dict:
        if self.route == "base64":
            return {"image_content": b64(data)}
        upload = requests.post(f"{self.api}/images/uploads", headers=auth, timeout=30)
        assert upload.status_code == 201, upload.text
        upload = upload.json()
        form = [(name, (None, value)) for name, value in upload["fields"].items()]
        posted = requests.post(upload["url"], files=[*form, ("file", ("photo.jpg", data, "image/jpeg"))], timeout=60)
        assert posted.status_code == 204, posted.text
        self.upload_key = upload["upload_key"]
        return {"upload_key": self.upload_key}

    def create(self, auth: dict, data: bytes, **fields) -> requests.Response:
        body = {"title": f"Dupe {uuid.uuid4().hex[:8]}", "author": "Dora", "filename": "photo.jpg", **fields}
        return requests.post(f"{self.api}/images", headers=auth, timeout=60, json={**body, **self._file(auth, data)})

    def replace(self, auth: dict, image_id: str, data: bytes, **fields) -> requests.Response:
        return requests.put(f"{self.api}/images", headers=auth, timeout=60,
                            json={"id": image_id, **fields, **self._file(auth, data)})


@pytest.fixture(params=ROUTES)
def send(request, local_stack) -> Sender:
    return Sender(local_stack, request.param)


def _created(reply: requests.Response) -> dict:
    assert reply.status_code == 201, reply.text
    return reply.json()


def _mine(stack, owner: str, auth: dict) -> list[str]:
    reply = requests.get(f"{stack.api_url}/images/creator/{owner}", headers=auth, params={"limit": 100}, timeout=30)
    assert reply.status_code == 200, reply.text
    return [image["id"] for image in reply.json()]


def test_the_same_bytes_twice_are_reported_and_both_kept(local_stack, users, send):
    owner, auth, _ = users
    data = jpeg_with_artist(noise())
    first = _created(send.create(auth, data))
    assert first["duplicate_of"] is None
    second = _created(send.create(auth, data))  # "keep", the default: stored, and told
    assert second["id"] != first["id"] and second["image"]["sha256"] == hashlib.sha256(data).hexdigest()
    match = second["duplicate_of"]
    assert {k: match[k] for k in ("id", "title", "match", "in_trash")} == {
        "id": first["id"], "title": first["image"]["title"], "match": "same_bytes", "in_trash": False}
    assert match["object_url"] == first["object_url"]
    thumbnail = requests.get(match["thumbnail_url"], timeout=30)
    assert thumbnail.status_code == 200 and thumbnail.headers["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(thumbnail.content)).format == "JPEG"
    assert {first["id"], second["id"]} <= set(_mine(local_stack, owner, auth))


def test_the_same_pixels_with_another_exif_are_reported(local_stack, users, send):
    owner, auth, _ = users
    picture = noise()
    plain, tagged = jpeg_with_artist(picture), jpeg_with_artist(picture, artist="Someone Else")
    assert plain != tagged and _pixels(plain) == _pixels(tagged)
    first = _created(send.create(auth, plain))
    second = _created(send.create(auth, tagged))
    assert second["duplicate_of"]["id"] == first["id"] and second["duplicate_of"]["match"] == "same_pixels"
    assert second["image"]["sha256"] != first["image"]["sha256"]
    assert {first["id"], second["id"]} <= set(_mine(local_stack, owner, auth))
    other = _created(send.create(auth, jpeg_with_artist(noise())))
    assert other["duplicate_of"] is None


def test_refuse_is_a_409_with_duplicate_of_and_stores_nothing(local_stack, users, send):
    owner, auth, _ = users
    picture = noise()
    first = _created(send.create(auth, jpeg_with_artist(picture)))
    listed, stored = _mine(local_stack, owner, auth), _stored_keys(local_stack)
    for data, match in ((jpeg_with_artist(picture), "same_bytes"), (jpeg_with_artist(picture, artist="Other"), "same_pixels")):
        refused = send.create(auth, data, on_duplicate="refuse")
        assert refused.status_code == 409, refused.text
        body = refused.json()
        assert body["status"] == "fail" and "nothing was stored" in body["msg"]
        assert body["duplicate_of"]["id"] == first["id"] and body["duplicate_of"]["match"] == match
        assert _mine(local_stack, owner, auth) == listed and _stored_keys(local_stack) == stored
        if send.route == "upload":  # as documented: a registered upload is removed, refused or not
            assert not _bucket_keys(local_stack, send.upload_key)
    kept = _created(send.create(auth, jpeg_with_artist(noise()), on_duplicate="refuse"))  # no match: stored
    assert kept["duplicate_of"] is None and kept["id"] in _mine(local_stack, owner, auth)


def test_a_match_in_the_trash_says_so(local_stack, users, send):
    owner, auth, _ = users
    data = jpeg_with_artist(noise())
    deleted = _created(send.create(auth, data))
    reply = requests.delete(f"{local_stack.api_url}/images", headers=auth, json={"id": deleted["id"]}, timeout=30)
    assert reply.status_code == 200, reply.text
    refused = send.create(auth, data, on_duplicate="refuse")
    assert refused.status_code == 409, refused.text
    match = refused.json()["duplicate_of"]
    assert match["id"] == deleted["id"] and match["in_trash"] is True and "trash" in refused.json()["msg"]
    assert match["object_url"] is None and match["thumbnail_url"] is None  # a trashed file is not served
    kept = _created(send.create(auth, data))
    assert kept["duplicate_of"]["id"] == deleted["id"] and kept["duplicate_of"]["in_trash"] is True
    assert deleted["id"] not in _mine(local_stack, owner, auth)


def test_another_users_image_is_a_duplicate_too(local_stack, users, send):
    owner, auth, other = users
    picture = noise()
    theirs = _created(send.create(other, jpeg_with_artist(picture, artist="Otto")))
    mine = _created(send.create(auth, jpeg_with_artist(picture)))
    assert mine["duplicate_of"]["id"] == theirs["id"] and mine["duplicate_of"]["match"] == "same_pixels"
    refused = send.create(auth, jpeg_with_artist(picture, artist="Otto"), on_duplicate="refuse")
    assert refused.status_code == 409 and refused.json()["duplicate_of"]["match"] == "same_bytes"
    assert refused.json()["duplicate_of"]["id"] == theirs["id"]


def test_a_replaced_file_is_checked_too(local_stack, users, send):
    owner, auth, _ = users
    picture = noise()
    original = _created(send.create(auth, jpeg_with_artist(picture)))
    target = _created(send.create(auth, jpeg_with_artist(noise())))["image"]
    stored = _stored_keys(local_stack)
    refused = send.replace(auth, target["id"], jpeg_with_artist(picture, artist="Other"), on_duplicate="refuse")
    assert refused.status_code == 409, refused.text
    body = refused.json()
    assert body["status"] == "ERROR" and body["duplicate_of"]["id"] == original["id"]
    assert body["duplicate_of"]["match"] == "same_pixels"
    now = requests.get(f"{local_stack.api_url}/images/id/{target['id']}", headers=auth, timeout=30).json()[0]
    assert (now["sha256"], now["version"], now["object_url"]) == (target["sha256"], target["version"],
                                                                  target["object_url"])
    assert _stored_keys(local_stack) == stored
    if send.route == "upload":
        assert not _bucket_keys(local_stack, send.upload_key)

    replaced = send.replace(auth, target["id"], jpeg_with_artist(picture, artist="Other"))
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["duplicate_of"]["id"] == original["id"]
    assert replaced.json()["image"]["sha256"] == hashlib.sha256(jpeg_with_artist(picture, artist="Other")).hexdigest()
    edited = requests.put(f"{local_stack.api_url}/images", headers=auth, timeout=30,
                          json={"id": target["id"], "title": "No new file"})
    assert edited.status_code == 200 and "duplicate_of" not in edited.json()  # no file, nothing to compare
