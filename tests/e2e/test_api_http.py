"""The REST API over HTTP through the local gateway, with real tokens from the local Cognito."""

from __future__ import annotations

import io
import os

import pytest
import requests
from PIL import Image

from tests.e2e.conftest import images_bucket, s3_client
from tests.helpers import b64, make_image

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def api(local_stack):
    return local_stack.api_url


@pytest.fixture(scope="module")
def token(api):
    created = requests.post(f"{api}/users", json={"username": "carol", "password": "Carol-pass-1",
                                                   "email": "carol@example.com"}, timeout=30)
    assert created.status_code in (200, 201), created.text
    assert created.json()["status"] == "success"
    reply = requests.post(f"{api}/users/token", json={"username": "carol", "password": "Carol-pass-1"}, timeout=30)
    assert reply.status_code == 200 and reply.json()["status"] == "success"
    return reply.json()["id_token"]


def test_wrong_password_and_unknown_user_get_the_same_fail(api, token):
    wrong = requests.post(f"{api}/users/token", json={"username": "carol", "password": "Nope-pass-1"}, timeout=30)
    unknown = requests.post(f"{api}/users/token", json={"username": "nobody", "password": "Nope-pass-1"}, timeout=30)
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() and wrong.json()["status"] == "fail"


@pytest.mark.parametrize("header", [None, "", "Bearer ", "Bearer not.a.jwt", "garbage"])
def test_secured_routes_need_a_valid_token(api, header):
    headers = {} if header is None else {"Authorization": header}
    for method, path in [("GET", "/images"), ("POST", "/images"), ("PUT", "/images"), ("DELETE", "/images"),
                         ("GET", "/images/title/x")]:
        reply = requests.request(method, f"{api}{path}", headers=headers, json={}, timeout=30)
        assert reply.status_code == 401, (method, path)
        assert reply.json()["status"] == "fail"


def test_a_token_signed_by_another_key_is_refused(api, token):
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[::-1]}"
    assert requests.get(f"{api}/images", headers={"Authorization": forged}, timeout=30).status_code == 401


def test_unknown_route_is_refused_like_api_gateway(api):
    assert requests.get(f"{api}/nowhere", timeout=30).status_code == 403


def test_image_lifecycle_over_http(api, token, local_stack):
    auth = {"Authorization": f"Bearer {token}"}
    data = make_image("PNG", size=(80, 60))
    created = requests.post(f"{api}/images", headers=auth, timeout=30, json={
        "title": "Lighthouse at dusk", "description": "North pier", "keywords": "coast,Light",
        "author": "Dan Roe", "creator": "someone-else", "capture_date": "2022-09-14",
        "filename": "holiday.photo.png", "image_content": b64(data)})
    assert created.status_code == 201, created.text
    body = created.json()
    image_id, url = body["id"], body["object_url"]

    # The public URL serves the exact bytes, typed from the content, without credentials.
    public = requests.get(url, timeout=30)
    assert public.status_code == 200 and public.content == data
    assert public.headers["Content-Type"] == "image/png"
    assert public.headers["X-Content-Type-Options"] == "nosniff"
    bucket_url = url.rsplit("/images/", 1)[0]
    assert requests.get(bucket_url, timeout=30).status_code == 403  # not listable

    listed = requests.get(f"{api}/images", headers={"Authorization": token}, timeout=30).json()
    assert listed[0]["id"] == image_id and listed[0]["creator"] == "carol"
    for key, value in [("id", image_id), ("title", "dusk lighthouse"), ("creator", "carol"), ("author", "dan roe"),
                       ("keywords", "light"), ("creationdate", "2022-09"), ("capture_date", "2022")]:
        found = requests.get(f"{api}/images/{key}/{value}", headers=auth, timeout=30)
        assert found.status_code == 200 and [i["id"] for i in found.json()] == [image_id], (key, value)

    changed = requests.put(f"{api}/images", headers=auth, timeout=30,
                           json={"id": image_id, "title": "Lighthouse at dawn", "image_content": b64(make_image("JPEG"))})
    assert changed.status_code == 200 and changed.json()["status"] == "OK"
    assert requests.get(f"{api}/images/title/dawn", headers=auth, timeout=30).json()[0]["id"] == image_id
    # The new file has a URL of its own, cacheable for good; the old one stops serving at once.
    new_url = changed.json()["image"]["object_url"]
    served = requests.get(new_url, timeout=30)
    assert new_url != url and served.headers["Content-Type"] == "image/jpeg"
    assert "immutable" in served.headers["Cache-Control"]
    assert requests.get(url, timeout=30).status_code in (403, 404)
    url = new_url

    deleted = requests.delete(f"{api}/images", headers=auth, json={"id": image_id}, timeout=30)
    assert deleted.status_code == 200 and deleted.json()["status"] == "success"
    # Gone from the list and from search (other tests' images may share the stack).
    for path in ("/images?limit=100", "/images/keywords/light", f"/images/id/{image_id}"):
        found = requests.get(f"{api}{path}", headers=auth, timeout=30)
        assert found.status_code == 200 and image_id not in [i["id"] for i in found.json()], path
    assert requests.get(url, timeout=30).status_code in (403, 404)  # gone the moment the delete answered


def test_list_pagination_follows_the_link_header(api, token):
    auth = {"Authorization": token}
    made = []
    for i in range(3):
        reply = requests.post(f"{api}/images", headers=auth, timeout=30, json={
            "title": f"Page {i}", "author": "P", "image_content": b64(make_image())})
        made.append(reply.json()["id"])
    first = requests.get(f"{api}/images?limit=2", headers=auth, timeout=30)
    assert [i["id"] for i in first.json()] == made[::-1][:2]
    second = requests.get(first.links["next"]["url"], headers=auth, timeout=30)
    assert [i["id"] for i in second.json()][:1] == made[::-1][2:3]
    assert requests.get(f"{api}/images?cursor=tampered", headers=auth, timeout=30).status_code == 400
    # Oldest first through the gateway: its Link keeps the order; a newest-first cursor is refused.
    search = f"{api}/images/author/P"
    oldest = requests.get(f"{search}?limit=2&order=oldest", headers=auth, timeout=30)
    assert [i["id"] for i in oldest.json()] == made[:2]
    rest = requests.get(oldest.links["next"]["url"], headers=auth, timeout=30)
    assert [i["id"] for i in rest.json()] == made[2:]
    newest = requests.get(f"{search}?limit=2", headers=auth, timeout=30)
    crossed = requests.get(f"{search}?limit=2&order=oldest&cursor={newest.headers['X-Next-Cursor']}",
                           headers=auth, timeout=30)
    assert crossed.status_code == 400


def test_filters_combine_over_http_and_their_link_keeps_them(api, token):
    """GET /images?author=…&keywords=…&capture_date=…: only images with all three, paged by
    the Link header (which repeats the filters); q= finds words of any field."""
    auth = {"Authorization": token}

    def post(**fields):
        body = {"title": "Combined", "author": "Filter Author", "image_content": b64(make_image()), **fields}
        return requests.post(f"{api}/images", headers=auth, timeout=30, json=body).json()["id"]

    both = [post(keywords="comblake,x", capture_date="2023-04-0{}".format(i + 1)) for i in range(3)]
    post(keywords="comblake", capture_date="2022-04-01")  # another year
    post(keywords="other", capture_date="2023-04-01")  # another keyword
    post(author="Someone Else", keywords="comblake", capture_date="2023-04-01")  # another author
    query = "author=filter%20author&keywords=CombLake&capture_date=2023-04&limit=2"
    first = requests.get(f"{api}/images?{query}", headers=auth, timeout=30)
    assert first.status_code == 200 and [i["id"] for i in first.json()] == both[::-1][:2]
    assert "author=filter+author" in first.links["next"]["url"]
    second = requests.get(first.links["next"]["url"], headers=auth, timeout=30)
    assert [i["id"] for i in second.json()] == both[:1] and "next" not in second.links
    anywhere = requests.get(f"{api}/images?q=comblake%20AUTHOR%20filter&creationdate=2023", headers=auth, timeout=30)
    assert sorted(i["id"] for i in anywhere.json()) == sorted(both)
    bad = requests.get(f"{api}/images?capture_date=April", headers=auth, timeout=30)
    assert bad.status_code == 400 and bad.json()["status"] == "fail"


# ------------------------------------------------------------ presigned uploads


def _noise_png(megabytes: float) -> bytes:
    """A real PNG of random noise (incompressible), about `megabytes` MB."""
    side = int((megabytes * 1024 * 1024 / 3) ** 0.5)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _ask_upload(api, auth) -> dict:
    reply = requests.post(f"{api}/images/uploads", headers=auth, timeout=30)
    assert reply.status_code == 201, reply.text
    return reply.json()


def _post_file(upload: dict, data: bytes, *, fields: dict | None = None) -> requests.Response:
    # The form's fields first, the file last (S3 ignores fields after it), no credentials.
    form = [(name, (None, value)) for name, value in (fields or upload["fields"]).items()]
    return requests.post(upload["url"], files=[*form, ("file", ("big.png", data, "image/png"))], timeout=120)


@pytest.fixture(scope="module")
def other_token(api):
    created = requests.post(f"{api}/users", json={"username": "dave", "password": "Dave-pass-1",
                                                   "email": "dave@example.com"}, timeout=30)
    assert created.status_code in (200, 201), created.text
    return requests.post(f"{api}/users/token", json={"username": "dave", "password": "Dave-pass-1"},
                         timeout=30).json()["id_token"]


def _keys(stack, prefix: str) -> set[str]:
    listed = s3_client(stack).list_objects_v2(Bucket=images_bucket(stack), Prefix=prefix)
    return {item["Key"] for item in listed.get("Contents", [])}


def test_an_image_too_big_for_base64_goes_through_a_presigned_upload(api, token, local_stack):
    auth = {"Authorization": f"Bearer {token}"}
    data = _noise_png(7)
    assert len(data) > 6 * 1024 * 1024  # more than a Lambda request could carry, even before base64
    upload = _ask_upload(api, auth)
    assert upload["status"] == "success" and upload["expires_in"] == 900 and upload["max_bytes"] >= len(data)
    stored = _post_file(upload, data)
    assert stored.status_code == 204, stored.text

    created = requests.post(f"{api}/images", headers=auth, timeout=120, json={
        "title": "Static noise", "author": "Dan Roe", "filename": "noise.png", "upload_key": upload["upload_key"]})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["image"]["byte_size"] == len(data) and body["image"]["content_type"] == "image/png"
    public = requests.get(body["object_url"], timeout=60)
    assert public.status_code == 200 and public.content == data
    assert public.headers["Content-Type"] == "image/png"
    assert upload["upload_key"] not in _keys(local_stack, "uploads/")  # consumed
    again = requests.post(f"{api}/images", headers=auth, timeout=30, json={
        "title": "Again", "author": "D", "upload_key": upload["upload_key"]})
    assert again.status_code == 400 and again.json()["status"] == "fail"


def test_the_bucket_holds_a_presigned_post_to_its_policy(api, token, local_stack):
    auth = {"Authorization": f"Bearer {token}"}
    upload = _ask_upload(api, auth)
    moved = {**upload["fields"], "key": upload["upload_key"].rsplit("/", 1)[0] + "/" + "0" * 32}
    assert _post_file(upload, make_image(), fields=moved).status_code == 403  # the policy pins the key
    forged = {**upload["fields"], "x-amz-signature": "0" * 64}
    assert _post_file(upload, make_image(), fields=forged).status_code == 403
    assert _post_file(upload, b"").status_code == 400  # content-length-range starts at 1 byte
    assert not _keys(local_stack, "uploads/") & {upload["upload_key"], moved["key"]}
    # Without the form, the bucket stays closed to anonymous writes.
    assert requests.put(f"{upload['url']}/{upload['upload_key']}", data=b"x", timeout=30).status_code == 403


def test_a_non_image_upload_is_refused_and_leaves_nothing(api, token, local_stack):
    auth = {"Authorization": f"Bearer {token}"}
    before = _keys(local_stack, "images/")
    upload = _ask_upload(api, auth)
    assert _post_file(upload, b"<html><script>alert(1)</script></html>" * 1000).status_code == 204
    refused = requests.post(f"{api}/images", headers=auth, timeout=30, json={
        "title": "Not an image", "author": "M", "filename": "x.png", "upload_key": upload["upload_key"]})
    assert refused.status_code == 400 and refused.json()["status"] == "fail"
    assert _keys(local_stack, "images/") == before
    assert upload["upload_key"] not in _keys(local_stack, "uploads/")
    found = requests.get(f"{api}/images/title/image", headers=auth, timeout=30).json()
    assert "Not an image" not in [i["title"] for i in found]


def test_another_users_upload_and_unknown_keys_are_refused(api, token, other_token, local_stack):
    auth, other = {"Authorization": f"Bearer {token}"}, {"Authorization": f"Bearer {other_token}"}
    upload = _ask_upload(api, auth)
    assert _post_file(upload, make_image()).status_code == 204
    stolen = requests.post(f"{api}/images", headers=other, timeout=30, json={
        "title": "Mine now", "author": "D", "upload_key": upload["upload_key"]})
    assert stolen.status_code == 403 and stolen.json()["status"] == "fail"
    assert upload["upload_key"] in _keys(local_stack, "uploads/")  # still the owner's to register

    never = _ask_upload(api, auth)  # asked for, never posted (as if expired)
    for key in (never["upload_key"], "uploads/nope", "images/" + "0" * 32):
        reply = requests.post(f"{api}/images", headers=auth, timeout=30, json={
            "title": "Ghost", "author": "G", "upload_key": key})
        assert reply.status_code == 400 and reply.json()["status"] == "fail", key
    both = requests.post(f"{api}/images", headers=auth, timeout=30, json={
        "title": "Both", "author": "B", "upload_key": upload["upload_key"], "image_content": b64(make_image())})
    assert both.status_code == 400 and both.json()["status"] == "fail"
    mine = requests.post(f"{api}/images", headers=auth, timeout=30, json={
        "title": "Mine", "author": "B", "upload_key": upload["upload_key"]})
    assert mine.status_code == 201, mine.text
