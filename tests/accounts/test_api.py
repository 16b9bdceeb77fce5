"""POST /users and POST /users/token, called with API Gateway REST proxy events."""

from __future__ import annotations

import json

import pytest

from accounts import api, cognito
from accounts.tokens import verify_id_token
from tests.helpers import api_event

from accounts.pool import INSTANT_SIGN_UP_METADATA
from local import mailbox

from .conftest import PASSWORD, last_code


def call(handler, path, body, source_ip="198.51.100.1"):
    event = api_event("POST", path, body)
    event["requestContext"]["identity"] = {"sourceIp": source_ip}
    result = handler(event, None)
    return result["statusCode"], json.loads(result["body"])


def instant_sign_up(monkeypatch, on: bool = True) -> None:
    from common.config import get_config

    monkeypatch.setenv("API_SIGNUP_REQUIRES_CONFIRMATION", "false" if on else "true")
    get_config.cache_clear()


def test_opt_in_instant_sign_up_confirms_in_the_trigger_and_sends_no_mail(aws, monkeypatch):
    instant_sign_up(monkeypatch)
    status, body = call(api.create_user, "/users", {"username": "zoe", "password": PASSWORD, "email": "zoe@example.com"})
    assert status == 201 and body == {"status": "success", "msg": "User created."}
    assert mailbox.messages("zoe") == []
    status, body = call(api.create_token, "/users/token", {"username": "zoe", "password": PASSWORD})
    assert status == 200 and body["status"] == "success"
    assert verify_id_token(body["id_token"])["cognito:username"] == "zoe"
    # The portal's sign-up still mails a code: only POST /users asks the trigger.
    cognito.sign_up("zed", "zed@example.com", PASSWORD)
    assert [m["subject"] for m in mailbox.messages("zed")] == ["Your verification code"]


def test_sign_up_requires_the_emailed_code_by_default(aws, monkeypatch):
    monkeypatch.delenv("API_SIGNUP_REQUIRES_CONFIRMATION", raising=False)
    from common.config import get_config

    get_config.cache_clear()
    assert get_config().api_signup_requires_confirmation
    status, body = call(api.create_user, "/users", {"username": "yan", "password": PASSWORD, "email": "yan@example.com"})
    assert status == 201 and "Confirm" in body["msg"]
    status, body = call(api.create_token, "/users/token", {"username": "yan", "password": PASSWORD})
    assert status == 403 and body["status"] == "fail"
    cognito.confirm_sign_up("yan", last_code("yan"))
    assert call(api.create_token, "/users/token", {"username": "yan", "password": PASSWORD})[0] == 200
    # Cognito's public SignUp with the API's metadata gets no instant account either.
    result = cognito.sign_up("yin", "yin@example.com", PASSWORD, metadata=INSTANT_SIGN_UP_METADATA)
    assert not result.confirmed and len(mailbox.messages("yin")) == 1


def test_a_failing_trigger_refuses_the_sign_up_and_leaves_no_user(aws, monkeypatch):
    from accounts import triggers

    def broken(event, context=None):
        raise RuntimeError("down")

    working = triggers.pre_sign_up
    monkeypatch.setattr(triggers, "pre_sign_up", broken)
    status, body = call(api.create_user, "/users", {"username": "yul", "password": PASSWORD, "email": "yul@example.com"})
    assert status == 503 and body["status"] == "fail"
    monkeypatch.setattr(triggers, "pre_sign_up", working)
    instant_sign_up(monkeypatch)
    assert call(api.create_user, "/users", {"username": "yul", "password": PASSWORD, "email": "yul@example.com"})[0] == 201


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
