"""The REST API over HTTP through the local gateway, with real tokens from the local Cognito."""

from __future__ import annotations

import pytest
import requests

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
    assert requests.get(url, timeout=30).headers["Content-Type"] == "image/jpeg"

    deleted = requests.delete(f"{api}/images", headers=auth, json={"id": image_id}, timeout=30)
    assert deleted.status_code == 200 and deleted.json()["status"] == "success"
    # Gone from the list and from search (other tests' images may share the stack).
    for path in ("/images?limit=100", "/images/keywords/light", f"/images/id/{image_id}"):
        found = requests.get(f"{api}{path}", headers=auth, timeout=30)
        assert found.status_code == 200 and image_id not in [i["id"] for i in found.json()], path
    assert requests.get(url, timeout=30).status_code in (403, 404)


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
