"""The local Cognito's codes and revocation over HTTP in the real emulator process, and
across a stop and start of it (its state is pickled)."""

from __future__ import annotations

import boto3
import pytest
import requests
from pycognito.aws_srp import AWSSRP

from local.stack import LocalStack, free_port

pytestmark = pytest.mark.e2e
PASSWORD = "Right-pass-1"


def client_for(stack: LocalStack):
    return boto3.client("cognito-idp", endpoint_url=stack.emulator_url, region_name="us-east-1",
                        aws_access_key_id="local", aws_secret_access_key="local")


def mailed_code(stack: LocalStack, username: str) -> str:
    mail = requests.get(f"{stack.emulator_url}/_local/mailbox", params={"username": username}, timeout=10).json()
    return [m["code"] for m in mail if m["code"]][-1]


def test_codes_and_revocation_work_over_http_and_survive_a_restart(tmp_path):
    stack = LocalStack(state_dir=tmp_path, emulator_port=free_port(), quiet=True)
    try:
        stack.start_emulator()
        client_id = stack.env["COGNITO_CLIENT_ID"]
        pool_id = stack.env["COGNITO_USER_POOL_ID"]
        idp = client_for(stack)
        idp.sign_up(ClientId=client_id, Username="gus", Password=PASSWORD,
                    UserAttributes=[{"Name": "email", "Value": "gus@example.com"}])
        first = mailed_code(stack, "gus")
        idp.resend_confirmation_code(ClientId=client_id, Username="gus")
        code = mailed_code(stack, "gus")
        if code != first:  # the resent code replaces the first one
            with pytest.raises(idp.exceptions.CodeMismatchException):
                idp.confirm_sign_up(ClientId=client_id, Username="gus", ConfirmationCode=first)
        stack.stop()

        stack.start_emulator()  # same state file
        idp = client_for(stack)
        with pytest.raises(idp.exceptions.UserNotConfirmedException):
            AWSSRP(username="gus", password=PASSWORD, pool_id=pool_id, client_id=client_id,
                   client=idp).authenticate_user()
        idp.confirm_sign_up(ClientId=client_id, Username="gus", ConfirmationCode=code)
        tokens = AWSSRP(username="gus", password=PASSWORD, pool_id=pool_id, client_id=client_id,
                        client=idp).authenticate_user()["AuthenticationResult"]
        refresh = tokens["RefreshToken"]
        idp.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": refresh})
        idp.revoke_token(ClientId=client_id, Token=refresh)
        with pytest.raises(idp.exceptions.NotAuthorizedException):
            idp.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                              AuthParameters={"REFRESH_TOKEN": refresh})
        # Password reset: the code goes to the mailbox only, not into a response header.
        reply = idp.forgot_password(ClientId=client_id, Username="gus")
        assert not any("confirmation-code" in h for h in reply["ResponseMetadata"]["HTTPHeaders"])
        with pytest.raises(idp.exceptions.CodeMismatchException):
            idp.confirm_forgot_password(ClientId=client_id, Username="gus", ConfirmationCode="moto-x",
                                        Password="New-pass-2!")
        idp.confirm_forgot_password(ClientId=client_id, Username="gus", ConfirmationCode=mailed_code(stack, "gus"),
                                    Password="New-pass-2!")
    finally:
        stack.stop()
