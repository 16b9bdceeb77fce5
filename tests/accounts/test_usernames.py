"""The local Cognito treats usernames as the pool in infra/cognito.tf does (case-insensitive),
so the local stand-in refuses what AWS refuses."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts import cognito
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
