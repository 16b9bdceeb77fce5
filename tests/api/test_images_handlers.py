"""The /images handlers called directly with API Gateway REST proxy events."""

from __future__ import annotations

import json

import pytest

from images.api import images as api
from tests.helpers import api_event, b64, claims_for, make_image

ALICE = claims_for()
BOB = claims_for(sub="sub-bob", username="bob")
STAFF = claims_for(sub="sub-sam", username="sam", groups="[staff]")


def call(handler, *args, **kwargs):
    reply = handler(api_event(*args, **kwargs), None)
    return reply["statusCode"], json.loads(reply["body"]), reply["headers"]


def post_image(claims=ALICE, **fields):
    body = dict(title="Harbour", description="Boats", keywords="boat,sea", author="Ana",
                creator="mallory", capture_date="2023-07-01", filename="x.png", image_content=b64(make_image()))
    body.update(fields)
    return call(api.create_image, "POST", "/images", body, claims=claims)


def test_post_registers_with_creator_from_the_token(aws):
    status, body, _ = post_image()
    assert status == 201 and body["status"] == "success" and body["msg"]
    assert f"/images/{body['id']}/" in body["object_url"] and body["object_url"].endswith(".png")
    status, listed, _ = call(api.list_images, "GET", "/images", claims=ALICE)
    assert status == 200 and [i["id"] for i in listed] == [body["id"]]
    assert listed[0]["creator"] == "alice" and listed[0]["keywords"] == "boat,sea"


@pytest.mark.parametrize(
    "fields, status",
    [
        ({"title": ""}, 400),
        ({"image_content": "not base64!"}, 400),
        ({"image_content": b64(b"<html><script>alert(1)</script></html>")}, 400),
        ({"image_content": None}, 400),
        ({"capture_date": "yesterday"}, 400),
    ],
)
def test_bad_post_is_a_4xx_with_the_seed_body_and_changes_nothing(aws, fields, status):
    got, body, _ = post_image(**fields)
    assert got == status and body["status"] == "fail" and body["msg"]
    assert call(api.list_images, "GET", "/images", claims=ALICE)[1] == []


def test_body_not_json_is_400(aws):
    reply = api.create_image(api_event("POST", "/images", "{not json", claims=ALICE), None)
    assert reply["statusCode"] == 400 and json.loads(reply["body"])["status"] == "fail"


def test_oversized_request_is_413_with_the_seed_body(aws):
    body = {"title": "Big", "author": "A", "image_content": "A" * (api.MAX_REQUEST_BYTES + 10)}
    status, reply, _ = call(api.create_image, "POST", "/images", body, claims=ALICE)
    assert status == 413 and reply["status"] == "fail" and "4.4 MB" in reply["msg"]


def test_without_claims_is_401(aws):
    status, body, _ = call(api.create_image, "POST", "/images", {"title": "x"})
    assert status == 401 and body["status"] == "fail"


def test_put_updates_and_returns_ok(aws):
    image_id = post_image()[1]["id"]
    status, body, _ = call(api.update_image, "PUT", "/images",
                           {"id": image_id, "title": "New title", "keywords": "a,b", "creator": "mallory"}, claims=ALICE)
    assert status == 200 and body["status"] == "OK" and body["message"]
    found = call(api.search_images, "GET", f"/images/id/{image_id}", claims=ALICE,
                 path_parameters={"key": "id", "value": image_id}, resource="/images/{key}/{value}")[1]
    assert found[0]["title"] == "New title" and found[0]["keywords"] == "a,b" and found[0]["creator"] == "alice"
    assert found[0]["author"] == "Ana"  # left out of the body: kept


def test_put_replaces_the_file(aws):
    image_id = post_image()[1]["id"]
    jpeg = make_image("JPEG")
    status, body, _ = call(api.update_image, "PUT", "/images", {"id": image_id, "image_content": b64(jpeg)}, claims=ALICE)
    assert status == 200 and body["image"]["content_type"] == "image/jpeg"


@pytest.mark.parametrize(
    "claims, body, status",
    [
        (BOB, {"title": "Mine"}, 403),
        (ALICE, {"title": "Stale", "version": 7}, 409),
        (ALICE, {"title": ""}, 400),
    ],
)
def test_put_refusals_use_the_status_error_body(aws, claims, body, status):
    image_id = post_image()[1]["id"]
    got, reply, _ = call(api.update_image, "PUT", "/images", {"id": image_id, **body}, claims=claims)
    assert got == status and reply["status"] == "ERROR" and reply["message"]


def test_put_unknown_id_is_404(aws):
    status, body, _ = call(api.update_image, "PUT", "/images", {"id": "0" * 32, "title": "x"}, claims=ALICE)
    assert status == 404 and body["status"] == "ERROR"


def test_staff_may_delete_others_images_and_others_may_not(aws):
    image_id = post_image()[1]["id"]
    status, body, _ = call(api.delete_image, "DELETE", "/images", {"id": image_id}, claims=BOB)
    assert status == 403 and body["status"] == "fail"
    status, body, _ = call(api.delete_image, "DELETE", "/images", {"id": image_id}, claims=STAFF)
    assert status == 200 and body["status"] == "success"
    assert call(api.list_images, "GET", "/images", claims=ALICE)[1] == []


def test_list_paginates_with_link_header(aws):
    made = [post_image(title=f"Photo {i}")[1]["id"] for i in range(3)]
    status, page, headers = call(api.list_images, "GET", "/images", claims=ALICE, query={"limit": "2"})
    assert [i["id"] for i in page] == made[::-1][:2]
    assert headers["Link"].endswith('; rel="next"') and headers["X-Next-Cursor"]
    _, rest, headers = call(api.list_images, "GET", "/images", claims=ALICE,
                            query={"limit": "2", "cursor": page and headers["X-Next-Cursor"]})
    assert [i["id"] for i in rest] == made[::-1][2:] and "Link" not in headers


def test_oldest_first_follows_its_link_and_refuses_a_newest_cursor(aws):
    from urllib.parse import parse_qs, urlsplit

    made = [post_image(title=f"Photo {i}", keywords="boat")[1]["id"] for i in range(3)]
    search = dict(path_parameters={"key": "keywords", "value": "boat"}, resource="/images/{key}/{value}")
    for handler, path, extra in [(api.list_images, "/images", {}),
                                 (api.search_images, "/images/keywords/boat", search)]:
        _, page, headers = call(handler, "GET", path, claims=ALICE, query={"limit": "2", "order": "oldest"}, **extra)
        assert [i["id"] for i in page] == made[:2], path
        link = parse_qs(urlsplit(headers["Link"].split(">")[0].lstrip("<")).query)
        assert link["order"] == ["oldest"]
        _, rest, _ = call(handler, "GET", path, claims=ALICE, query={k: v[0] for k, v in link.items()}, **extra)
        assert [i["id"] for i in rest] == made[2:], path
        status, body, _ = call(handler, "GET", path, claims=ALICE,
                               query={"limit": "2", "cursor": headers["X-Next-Cursor"]}, **extra)
        assert status == 400 and "cursor" in body["msg"], path


@pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "101"}, {"limit": "ten"}, {"cursor": "%%%"},
                                   {"order": "random"}])
def test_bad_paging_is_400(aws, query):
    status, body, _ = call(api.list_images, "GET", "/images", claims=ALICE, query=query)
    assert status == 400 and body["status"] == "fail"


def test_search_by_unknown_key_is_400(aws):
    status, body, _ = call(api.search_images, "GET", "/images/colour/red", claims=ALICE,
                           path_parameters={"key": "colour", "value": "red"}, resource="/images/{key}/{value}")
    assert status == 400 and "title" in body["msg"]


def test_unexpected_fault_is_500_without_internals(aws, monkeypatch):
    def boom(**kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("images.catalog.image_list", boom)
    status, body, _ = call(api.list_images, "GET", "/images", claims=ALICE)
    assert status == 500 and "secret" not in body["msg"]


# ------------------------------------------------------------ presigned uploads


def start_upload(claims=ALICE, data: bytes | None = None):
    import boto3

    from common.config import get_config

    status, body, _ = call(api.create_upload, "POST", "/images/uploads", claims=claims)
    assert status == 201, body
    if data is not None:  # what the client's POST to the presigned form does
        boto3.client("s3").put_object(Bucket=get_config().images_bucket, Key=body["upload_key"], Body=data)
    return body


def test_create_upload_answers_a_presigned_post_form(aws):
    body = start_upload()
    assert body["status"] == "success" and body["msg"]
    assert body["upload_key"].startswith("uploads/") and body["fields"]["key"] == body["upload_key"]
    assert body["url"] and body["fields"]["policy"] and body["expires_in"] == 900
    assert body["max_bytes"] == aws.image_max_bytes > api.MAX_REQUEST_BYTES
    assert call(api.create_upload, "POST", "/images/uploads")[0] == 401


def test_post_registers_an_uploaded_file(aws):
    data = make_image("JPEG", size=(90, 70))
    key = start_upload(data=data)["upload_key"]
    status, body, _ = post_image(image_content=None, upload_key=key)
    assert status == 201 and body["image"]["content_type"] == "image/jpeg" and body["image"]["byte_size"] == len(data)
    assert post_image(image_content=None, upload_key=key)[0] == 400  # consumed


@pytest.mark.parametrize("claims, fields, status", [
    (ALICE, {"image_content": b64(make_image())}, 400),  # both
    (ALICE, {"image_content": None, "upload_key": 7}, 400),
    (ALICE, {"image_content": None, "upload_key": "uploads/../images/x"}, 400),
    (ALICE, {"image_content": None, "upload_key": "uploads/" + "0" * 16 + "/" + "0" * 32}, 403),  # not hers
    (BOB, {"image_content": None}, 403),  # Alice's upload
])
def test_bad_upload_keys_are_refused_with_the_seed_body(aws, claims, fields, status):
    key = start_upload(data=make_image())["upload_key"]
    got, body, _ = post_image(claims=claims, **{"upload_key": key, **fields})
    assert got == status and body["status"] == "fail" and body["msg"]
    assert call(api.list_images, "GET", "/images", claims=ALICE)[1] == []


def test_an_unknown_upload_is_400(aws):
    key = start_upload()["upload_key"]  # never uploaded
    got, body, _ = post_image(image_content=None, upload_key=key)
    assert got == 400 and body["status"] == "fail" and "expired" in body["msg"]


def test_put_replaces_the_file_from_an_upload(aws):
    image_id = post_image()[1]["id"]
    key = start_upload(data=make_image("WEBP"))["upload_key"]
    status, body, _ = call(api.update_image, "PUT", "/images", {"id": image_id, "upload_key": key}, claims=ALICE)
    assert status == 200 and body["image"]["content_type"] == "image/webp"
    key = start_upload(data=make_image())["upload_key"]
    status, body, _ = call(api.update_image, "PUT", "/images",
                           {"id": image_id, "upload_key": key, "image_content": b64(make_image())}, claims=ALICE)
    assert status == 400 and body["status"] == "ERROR"


def test_list_filters_combine_and_the_link_repeats_them(aws):
    from urllib.parse import parse_qs, urlsplit

    lake = [post_image(title=f"Lake {i}", keywords="lake,blue", author="Ana Díaz")[1]["id"] for i in range(3)]
    post_image(keywords="lake", author="Luis")
    post_image(keywords="sea", author="Ana Díaz")
    query = {"author": "ANA DÍAZ", "keywords": "lake", "capture_date": "2023-07", "limit": "2"}
    _, page, headers = call(api.list_images, "GET", "/images", claims=ALICE, query=query)
    assert [i["id"] for i in page] == lake[::-1][:2]
    link = {k: v[0] for k, v in parse_qs(urlsplit(headers["Link"].split(">")[0].lstrip("<")).query).items()}
    assert {k: link[k] for k in ("author", "keywords", "capture_date")} == {
        "author": "ANA DÍAZ", "keywords": "lake", "capture_date": "2023-07"}
    _, rest, headers = call(api.list_images, "GET", "/images", claims=ALICE, query=link)
    assert [i["id"] for i in rest] == lake[:1] and "Link" not in headers
    _, found, _ = call(api.list_images, "GET", "/images", claims=ALICE, query={"q": "blue díaz"})
    assert sorted(i["id"] for i in found) == sorted(lake)
    # A cursor of one filter is refused by another.
    status, body, _ = call(api.list_images, "GET", "/images", claims=ALICE,
                           query={"keywords": "sea", "cursor": headers.get("X-Next-Cursor") or link["cursor"]})
    assert status == 400 and "cursor" in body["msg"]


def test_search_forgives_accents_and_case(aws):
    cafe = post_image(title="Café terrace", author="Ana Díaz", keywords="crème brûlée")[1]["id"]
    post_image(title="Terrace")
    for query in ({"q": "cafe"}, {"q": "CAFÉ"}, {"title": "cafe terrace"}, {"author": "ana diaz"},
                  {"keywords": "CREME BRULEE"}, {"q": "brulee diaz"}):
        status, found, _ = call(api.list_images, "GET", "/images", claims=ALICE, query=query)
        assert status == 200 and [i["id"] for i in found] == [cafe], query


@pytest.mark.parametrize("query", [{"capture_date": "2023-7"}, {"storage_date": ""}, {"q": "???"},
                                   {"author": "x" * 201}, {"creationdate": "2023", "capture_date": "2022"},
                                   {"capture_date": "2023-13"}, {"capture_date": "2023-02-30"},
                                   {"storage_date": "2023-00"}])
def test_bad_filters_are_400(aws, query):
    status, body, _ = call(api.list_images, "GET", "/images", claims=ALICE, query=query)
    assert status == 400 and body["status"] == "fail"
