"""Renditions over HTTP: the API's image object names them, the local images URL makes a missing
one (the render function in the emulator) and serves it stored afterwards."""

from __future__ import annotations

import io
import os

import pytest
import requests
from PIL import Image

from tests.e2e.conftest import images_bucket, s3_client
from tests.helpers import b64

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def api(local_stack):
    return local_stack.api_url


@pytest.fixture(scope="module")
def token(api):
    created = requests.post(f"{api}/users", json={"username": "rena", "password": "Rena-pass-1",
                                                   "email": "rena@example.com"}, timeout=30)
    assert created.status_code in (200, 201), created.text
    reply = requests.post(f"{api}/users/token", json={"username": "rena", "password": "Rena-pass-1"}, timeout=30)
    return reply.json()["id_token"]


def _photo(size: tuple[int, int]) -> bytes:
    # Noise of its own: the catalog asks before storing a picture it already has.
    im = Image.frombytes("RGB", (size[0] // 8, size[1] // 8), os.urandom(size[0] // 8 * size[1] // 8 * 3))
    out = io.BytesIO()
    im.resize(size).save(out, "JPEG", quality=85)
    return out.getvalue()


def test_a_rendition_is_made_once_then_served_stored(api, token, local_stack):
    auth = {"Authorization": f"Bearer {token}"}
    created = requests.post(f"{api}/images", headers=auth, timeout=30, json={
        "title": "Harbour", "description": "Quay", "keywords": "sea", "author": "Rena", "capture_date": "2024-05-01",
        "filename": "harbour.jpg", "image_content": b64(_photo((700, 400)))})
    assert created.status_code == 201, created.text
    offered = created.json()["image"]["renditions"]
    assert {(r["width"], r["format"]) for r in offered} == {
        (w, f) for w in (160, 320, 640) for f in ("avif", "webp", "jpg")}  # none wider than 700
    url = next(r["url"] for r in offered if (r["width"], r["format"]) == (320, "webp"))

    first = requests.get(url, timeout=60)
    assert first.status_code == 200 and first.headers["Content-Type"] == "image/webp"
    assert "immutable" in first.headers["Cache-Control"]
    assert first.headers["X-Content-Type-Options"] == "nosniff"
    with Image.open(io.BytesIO(first.content)) as im:
        assert (im.format, im.size) == ("WEBP", (320, 183))

    key = url.split(f"/{images_bucket(local_stack)}/", 1)[1]
    stored = s3_client(local_stack).head_object(Bucket=images_bucket(local_stack), Key=key)
    again = requests.get(url, timeout=30)
    assert again.status_code == 200 and again.content == first.content
    assert again.headers["ETag"] == stored["ETag"]  # moto's stored object, not a new render

    # Outside the set, or wider than the original: refused, nothing stored.
    for bad in (url.replace("/320.webp", "/300.webp"), url.replace("/320.webp", "/320.gif"),
                url.replace("/320.webp", "/1280.webp")):
        assert requests.get(bad, timeout=30).status_code == 404, bad
    prefix = key.rsplit("/", 1)[0] + "/"
    listed = s3_client(local_stack).list_objects_v2(Bucket=images_bucket(local_stack), Prefix=prefix)
    assert [o["Key"] for o in listed["Contents"]] == [key]
