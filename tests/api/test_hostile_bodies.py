"""Hostile JSON bodies to every route that reads one: nested too deep (json.loads would recurse
into RecursionError, a 500) or holding a lone surrogate (valid JSON, no Unicode: it failed inside
the DynamoDB write). Each is the route's documented 400 body, logged at info, and changes nothing.
Runs in about 3 s."""

from __future__ import annotations

import json
import logging

import pytest

from accounts import api as accounts_api
from common.lambda_http import MAX_JSON_DEPTH, json_body
from images.api import images as api
from images.api import trash as api_trash
from tests.api.test_images_handlers import ALICE, call, post_image
from tests.helpers import api_event

DEEP = {
    "100,000 [": "[" * 100_000,
    "3,000 nested objects": '{"a":' * 3000 + "1" + "}" * 3000,
    "deep value in a valid object": '{"title": ' + "[" * 5000 + "]" * 5000 + "}",
    "one level too deep": '{"title": ' + "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH + "}",
}
# (handler, method, path, the failure body's shape)
ROUTES = [
    (api.create_image, "POST", "/images", "status_msg"),
    (api.update_image, "PUT", "/images", "ok_error"),
    (api.delete_image, "DELETE", "/images", "status_msg"),
    (api_trash.restore_image, "POST", "/images/restore", "status_msg"),
    (api_trash.purge_image, "POST", "/images/purge", "status_msg"),
    (accounts_api.create_user, "POST", "/users", "status_msg"),
    (accounts_api.create_token, "POST", "/users/token", "status_msg"),
]


def _fails_as_documented(body: dict, shape: str) -> None:
    if shape == "status_msg":
        assert body["status"] == "fail" and body["msg"]
    else:
        assert body["status"] == "ERROR" and body["message"]


@pytest.mark.parametrize("raw", DEEP.values(), ids=DEEP.keys())
@pytest.mark.parametrize("route", ROUTES, ids=[r[2] + " " + r[1] for r in ROUTES])
def test_deep_json_is_the_routes_400_logged_at_info(aws, caplog, route, raw):
    handler, method, path, shape = route
    with caplog.at_level(logging.INFO):
        status, body, _ = call(handler, method, path, raw, claims=ALICE)
    assert status == 400
    _fails_as_documented(body, shape)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


SURROGATES = ['"\\ud800x"', '"x\\udfff"', '"\\udc00\\ud800"']


@pytest.mark.parametrize("text", SURROGATES)
@pytest.mark.parametrize("field", ["title", "author", "keywords", "description", "filename", "capture_date"])
def test_lone_surrogate_in_any_post_field_is_400_and_nothing_stored(aws, field, text):
    raw = json.dumps({"title": "Harbour", "image_content": "x"})[:-1] + f', "{field}": {text}}}'
    status, body, _ = call(api.create_image, "POST", "/images", raw, claims=ALICE)
    assert status == 400 and body["status"] == "fail" and "Unicode" in body["msg"]
    assert call(api.list_images, "GET", "/images", claims=ALICE)[1] == []


def test_lone_surrogate_in_put_or_key_is_400_and_nothing_changes(aws):
    image_id = post_image()[1]["id"]
    for raw in (json.dumps({"id": image_id, "version": 1})[:-1] + ', "title": "\\ud800x"}',
                json.dumps({"id": image_id, "version": 1})[:-1] + ', "\\ud800": "x"}'):
        status, body, _ = call(api.update_image, "PUT", "/images", raw, claims=ALICE)
        assert status == 400 and body["status"] == "ERROR"
    assert call(api.list_images, "GET", "/images", claims=ALICE)[1][0]["title"] == "Harbour"


@pytest.mark.parametrize("handler", [accounts_api.create_user, accounts_api.create_token])
def test_lone_surrogate_in_credentials_is_400(aws, handler):
    raw = '{"username": "\\ud800x", "password": "Passw0rd!x", "email": "a@example.com"}'
    status, body, _ = call(handler, "POST", "/users", raw)
    assert status == 400 and body["status"] == "fail"


@pytest.mark.parametrize("raw", ['{"a": [1, [2], {"b": [3]}], "c": "[[[[[[[[[[[[{{{{{{{{{{{"}',
                                 '{"t": "\\"[[[[[[[[[[[[[[[\\\\"}', '{"a": "\\u00e9\\ud83d\\ude00"}'])
def test_shallow_bodies_and_brackets_inside_strings_parse(raw):
    assert json_body(api_event("POST", "/x", raw)) == json.loads(raw)
