"""Terraform of issue 14: sign-up needs the code by default, the opt-in instant sign-up's
PreSignUp trigger, the unsecured routes' own throttling, short-lived tokens."""

from __future__ import annotations

from pathlib import Path

from accounts import pool
from tests.infra.hcl import ROOT, operations, single, terraform
from tests.infra.test_environment import bundle


def test_sign_up_needs_the_emailed_code_by_default(monkeypatch):
    from common.config import get_config

    tf = terraform()
    assert tf.default("api_signup_requires_confirmation") is True
    assert tf.locals["pre_sign_up_enabled"] == "${!var.api_signup_requires_confirmation}"
    monkeypatch.delenv("API_SIGNUP_REQUIRES_CONFIRMATION", raising=False)
    get_config.cache_clear()
    try:
        assert get_config().api_signup_requires_confirmation is True
    finally:
        get_config.cache_clear()


def test_the_trigger_is_the_packaged_handler_attached_only_when_opted_in():
    tf = terraform()
    function = tf.resource("aws_lambda_function", "pre_sign_up")
    assert function["handler"] == pool.PRE_SIGN_UP_HANDLER
    assert function["count"] == "${local.pre_sign_up_enabled ? 1 : 0}"
    assert tf.locals["pre_sign_up_function_name"] == "${var.project}-pre-sign-up"
    assert pool.PRE_SIGN_UP_FUNCTION == f"{tf.default('project')}-pre-sign-up"
    config = single(tf.resource("aws_cognito_user_pool", "main")["dynamic"])["lambda_config"]
    assert config["for_each"] == "${local.pre_sign_up_enabled ? [1] : []}"
    assert single(config["content"])["pre_sign_up"] == "${aws_lambda_function.pre_sign_up[0].arn}"
    permission = tf.resource("aws_lambda_permission", "pre_sign_up")
    assert permission["principal"] == "cognito-idp.amazonaws.com"
    module = pool.PRE_SIGN_UP_HANDLER.rsplit(".", 1)[0].replace(".", "/") + ".py"
    assert Path(module) in bundle.lambda_modules() and (ROOT / module).exists()


def test_the_unsecured_routes_have_their_own_lower_throttling():
    tf = terraform()
    stage = single(tf.resource("aws_api_gateway_method_settings", "all")["settings"])
    assert tf.literal(stage["throttling_rate_limit"]) == tf.default("api_throttling_rate_limit")
    users = tf.locals["users_throttling"]
    routes = {"users/POST": "POST /users", "users~1token/POST": "POST /users/token"}
    assert set(users) == set(routes) and set(routes.values()) <= operations().keys()
    for limits in users.values():
        assert tf.literal(limits["rate"]) < tf.default("api_throttling_rate_limit")
        assert tf.literal(limits["burst"]) < tf.default("api_throttling_burst_limit")
    settings = tf.resource("aws_api_gateway_method_settings", "users")
    assert settings["method_path"] == "${each.key}"


def test_id_and_access_tokens_are_short_lived():
    tf = terraform()
    client = tf.resource("aws_cognito_user_pool_client", "portal")
    assert client["id_token_validity"] == client["access_token_validity"] == "${var.cognito_token_validity_minutes}"
    assert single(client["token_validity_units"])["id_token"] == "minutes"
    assert tf.default("cognito_token_validity_minutes") == 15 == pool.TOKEN_VALIDITY["IdTokenValidity"]
    assert client["refresh_token_validity"] == pool.TOKEN_VALIDITY["RefreshTokenValidity"]
