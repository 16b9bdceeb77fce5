"""The local Cognito treats usernames as the pool in infra/cognito.tf does (case-insensitive),
so the local stand-in refuses what AWS refuses."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts import cognito
from common.errors import InvalidInput
from accounts.models import User
from accounts.tokens import verify_id_token
from tests.infra.hcl import single, terraform

from .conftest import PASSWORD
from .test_portal import sign_in


def test_the_pool_in_infra_and_the_local_pool_are_case_insensitive(aws, idp):
    user_pool = terraform().resource("aws_cognito_user_pool", "main")
    assert single(user_pool["username_configuration"])["case_sensitive"] is False
    local = idp.describe_user_pool(UserPoolId=aws.cognito_user_pool_id)["UserPool"]
    assert local["UsernameConfiguration"] == {"CaseSensitive": False}


@pytest.mark.parametrize("taken,new", [("alice", "ALICE"), ("alice", "Alice")])
def test_a_username_differing_only_in_case_is_taken(aws, alice, taken, new):
    with pytest.raises(cognito.UsernameExists):
        cognito.sign_up(new, "other@example.com", PASSWORD)
    with pytest.raises(cognito.UsernameExists):
        cognito.admin_create_user(new, "other@example.com", PASSWORD)


def test_sign_in_in_any_case_is_the_same_user(aws, alice):
    claims = verify_id_token(cognito.sign_in("Alice", PASSWORD).id_token)
    assert claims["cognito:username"] == "alice"
    assert claims["sub"] == verify_id_token(cognito.sign_in("alice", PASSWORD).id_token)["sub"]


@pytest.mark.django_db
def test_portal_sign_in_as_Alice_is_alice(aws, alice):
    client = Client()
    assert sign_in(client, "ALICE").status_code == 302
    assert list(User.objects.values_list("username", flat=True)) == ["alice"]


def test_global_sign_out_in_another_case_revokes(aws, alice, idp):
    refresh_token = cognito.sign_in("alice", PASSWORD).refresh_token
    idp.admin_user_global_sign_out(UserPoolId=aws.cognito_user_pool_id, Username="ALICE")
    with pytest.raises(cognito.SessionEnded):
        cognito.refresh(refresh_token)


LOOK_ALIKES = ["ＤＥＭＯ", "dеmo", "ﬁle", "Ana_Díaz", "demo\u200b", "de mo"]


@pytest.mark.django_db
@pytest.mark.parametrize("name", LOOK_ALIKES)
def test_look_alike_and_non_ascii_names_are_refused_on_every_face(aws, name):
    # The probe: POST /users took "ＤＥＭＯ" (full-width) and "dеmo" (Cyrillic е) beside "demo".
    from accounts import api
    from tests.helpers import api_event
    import json

    cognito.admin_create_user("demo", "demo@example.com", PASSWORD)
    body = {"username": name, "password": PASSWORD, "email": "x@example.com"}
    reply = api.create_user(api_event("POST", "/users", body), None)
    assert reply["statusCode"] == 400 and json.loads(reply["body"])["status"] == "fail", reply
    with pytest.raises(InvalidInput):
        cognito.sign_up(name, "x@example.com", PASSWORD)
    with pytest.raises(InvalidInput):
        cognito.admin_create_user(name, "x@example.com", PASSWORD)
    form = Client().post("/accounts/signup/", {"username": name, "email": "x@example.com",
                                               "password1": PASSWORD, "password2": PASSWORD})
    assert form.status_code == 200 and form.context["form"].errors["username"]
    assert list(User.objects.values_list("username", flat=True)) == []
    assert [u for u in _local_users(aws) if u != "demo"] == []


def _local_users(aws) -> list[str]:
    import boto3

    idp = boto3.client("cognito-idp", region_name=aws.aws_region)
    return [u["Username"] for u in idp.list_users(UserPoolId=aws.cognito_user_pool_id)["Users"]]


def test_new_names_are_stored_in_lower_case_and_sign_in_as_typed(aws):
    cognito.admin_create_user("Carol.B", "carol@example.com", PASSWORD)
    assert _local_users(aws) == ["carol.b"]
    for typed in ("carol.b", "CAROL.B", "ｃａｒｏｌ.ｂ"):
        claims = verify_id_token(cognito.sign_in(typed, PASSWORD).id_token)
        assert claims["cognito:username"] == "carol.b"


@pytest.mark.parametrize("name", ["ＤＥＭＯ", "dеmo", "Upper"])
def test_the_local_cognito_stand_in_refuses_what_the_rule_refuses(aws, name):
    import boto3
    from botocore.exceptions import ClientError

    idp = boto3.client("cognito-idp", region_name=aws.aws_region)
    with pytest.raises(ClientError, match="InvalidParameter"):
        idp.sign_up(ClientId=aws.cognito_client_id, Username=name, Password=PASSWORD,
                    UserAttributes=[{"Name": "email", "Value": "x@example.com"}])
    assert _local_users(aws) == []


@pytest.mark.parametrize("name", ["demo", "Carol.B", "a@b+c-d_e", "x" * 128, "x" * 129, "", *LOOK_ALIKES])
def test_the_contract_pattern_for_new_usernames_is_the_rule(name):
    # infra/openapi.yaml is what Schemathesis and clients read: as strict as the handler.
    import re

    import yaml

    from accounts.usernames import is_new_username
    from tests.infra.hcl import OPENAPI

    pattern = yaml.safe_load(OPENAPI.read_text())["components"]["schemas"]["NewUsername"]["pattern"]
    assert bool(re.search(pattern, name)) == is_new_username(name.lower())


@pytest.mark.parametrize("name,allowed", [("demo", True), ("ＤＥＭＯ", False), ("dеmo", False), ("Demo", False)])
def test_the_pre_sign_up_trigger_refuses_what_the_rule_refuses(aws, name, allowed):
    # Where the trigger is attached it also holds for a direct call to Cognito's public SignUp.
    from accounts import triggers

    event = {"triggerSource": "PreSignUp_SignUp", "userName": name, "request": {}, "response": {}}
    if allowed:
        assert triggers.pre_sign_up(event) is event
    else:
        with pytest.raises(ValueError, match="ASCII"):
            triggers.pre_sign_up(event)
