"""POST /users and POST /users/token, called with API Gateway REST proxy events."""

from __future__ import annotations

import json

import pytest

from accounts import api, cognito
from accounts.tokens import verify_id_token
from tests.helpers import api_event

from .conftest import PASSWORD, last_code


def call(handler, path, body, source_ip="198.51.100.1"):
    event = api_event("POST", path, body)
    event["requestContext"]["identity"] = {"sourceIp": source_ip}
    result = handler(event, None)
    return result["statusCode"], json.loads(result["body"])


def test_create_user_then_get_a_token_at_once(aws):
    status, body = call(api.create_user, "/users", {"username": "zoe", "password": PASSWORD, "email": "zoe@example.com"})
    assert status == 201 and body["status"] == "success" and body["msg"]
    status, body = call(api.create_token, "/users/token", {"username": "zoe", "password": PASSWORD})
    assert status == 200 and body["status"] == "success"
    assert verify_id_token(body["id_token"])["cognito:username"] == "zoe"


def test_create_user_can_require_confirmation(aws, monkeypatch):
    from common.config import get_config

    monkeypatch.setenv("API_SIGNUP_REQUIRES_CONFIRMATION", "true")
    get_config.cache_clear()
    status, body = call(api.create_user, "/users", {"username": "yan", "password": PASSWORD, "email": "yan@example.com"})
    assert status == 201 and "Confirm" in body["msg"]
    status, body = call(api.create_token, "/users/token", {"username": "yan", "password": PASSWORD})
    assert status == 403 and body["status"] == "fail"
    cognito.confirm_sign_up("yan", last_code("yan"))
    assert call(api.create_token, "/users/token", {"username": "yan", "password": PASSWORD})[0] == 200


@pytest.mark.parametrize("body", [
    None, "not json", "[1]", {}, {"username": "a", "password": PASSWORD},
    {"username": "a", "password": PASSWORD, "email": "not-an-email"},
    {"username": "has space", "password": PASSWORD, "email": "a@example.com"},
    {"username": 7, "password": PASSWORD, "email": "a@example.com"},
])
def test_create_user_bad_input_is_400(aws, body):
    status, answer = call(api.create_user, "/users", body)
    assert status == 400 and answer["status"] == "fail" and answer["msg"]


def test_create_user_existing_username_is_409(aws, alice):
    status, body = call(api.create_user, "/users", {"username": "alice", "password": PASSWORD, "email": "x@example.com"})
    assert status == 409 and body == {"status": "fail", "msg": cognito.UsernameExists.default_message}


def test_create_user_weak_password_is_400_with_the_rules(aws):
    status, body = call(api.create_user, "/users", {"username": "wes", "password": "weakpass", "email": "w@example.com"})
    assert status == 400 and body["status"] == "fail" and "At least 8 characters" in body["msg"]
    assert "confirm" not in body["msg"], body["msg"]  # moto's "does not confirm to" typo, mapped


@pytest.mark.parametrize("credentials", [{"username": "alice", "password": "Wrong-pass-1"},
                                         {"username": "nobody", "password": PASSWORD}])
def test_wrong_password_and_unknown_user_get_the_same_401(aws, alice, credentials):
    status, body = call(api.create_token, "/users/token", credentials)
    assert status == 401 and body == {"status": "fail", "msg": "Incorrect username or password."}


@pytest.mark.parametrize("body", [None, {}, {"username": "alice"}, {"password": PASSWORD}])
def test_create_token_bad_input_is_400(aws, body):
    assert call(api.create_token, "/users/token", body)[0] == 400


def test_create_token_is_rate_limited_with_retry_after(aws, alice):
    for _ in range(aws.signin_max_failures_per_pair):
        assert call(api.create_token, "/users/token", {"username": "alice", "password": "Wrong-pass-1"})[0] == 401
    event = api_event("POST", "/users/token", {"username": "ALICE", "password": PASSWORD})  # any case: one account
    event["requestContext"]["identity"] = {"sourceIp": "198.51.100.1"}
    result = api.create_token(event, None)
    body = json.loads(result["body"])
    assert result["statusCode"] == 429 and body["status"] == "fail"
    assert body["msg"].startswith("Too many failed sign-in attempts. Try again in ")
    # One slot comes back every window/limit seconds (3 minutes with the defaults).
    retry_after = int(result["headers"]["Retry-After"])
    assert 0 < retry_after <= aws.signin_window_seconds / aws.signin_max_failures_per_pair
    # A colleague at the same address, and alice from another address, still sign in.
    assert call(api.create_token, "/users/token", {"username": "alice", "password": PASSWORD},
                source_ip="203.0.113.9")[0] == 200
