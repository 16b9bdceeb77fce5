"""Fixtures of the accounts tests: users in the in-process local Cognito, codes from its mailbox."""

from __future__ import annotations

import boto3
import pytest
from moto.cognitoidp.models import cognitoidp_backends

from accounts import cognito
from local import mailbox

PASSWORD = "Right-pass-1"


def last_code(username: str) -> str:
    """The latest code the local Cognito mailed to `username`."""
    found = [m["code"] for m in mailbox.messages(username) if m["code"]]
    assert found, f"no mail with a code for {username}"
    return found[-1]


def moto_user(config, username: str):
    """moto's own user object (to age its codes)."""
    return cognitoidp_backends["123456789012"][config.aws_region].user_pools[config.cognito_user_pool_id]._get_user(username)


@pytest.fixture
def idp(aws):
    """A boto3 client on the in-process Cognito."""
    return boto3.client("cognito-idp", region_name=aws.aws_region)


@pytest.fixture
def alice(aws):
    """A confirmed user, alice, with PASSWORD."""
    cognito.admin_create_user("alice", "alice@example.com", PASSWORD)
    return "alice"


@pytest.fixture
def boss(aws):
    """A confirmed staff user, boss, with PASSWORD."""
    cognito.admin_create_user("boss", "boss@example.com", PASSWORD, staff=True)
    return "boss"


@pytest.fixture
def unconfirmed(aws):
    """A user, carol, who signed up and has not confirmed."""
    cognito.sign_up("carol", "carol@example.com", PASSWORD)
    return "carol"
