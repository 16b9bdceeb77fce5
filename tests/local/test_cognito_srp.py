"""The local Cognito checks passwords in the SRP flow as Cognito does."""

import boto3
import pytest
from pycognito.aws_srp import AWSSRP


@pytest.fixture
def user(aws):
    cognito = boto3.client("cognito-idp")
    cognito.admin_create_user(UserPoolId=aws.cognito_user_pool_id, Username="alice", MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "email", "Value": "alice@example.com"}])
    cognito.admin_set_user_password(UserPoolId=aws.cognito_user_pool_id, Username="alice",
                                    Password="Right-pass-1", Permanent=True)
    return cognito


def _sign_in(aws, cognito, password):
    return AWSSRP(username="alice", password=password, pool_id=aws.cognito_user_pool_id,
                  client_id=aws.cognito_client_id, client=cognito).authenticate_user()


def test_right_password_gets_tokens(aws, user):
    result = _sign_in(aws, user, "Right-pass-1")
    assert set(result["AuthenticationResult"]) >= {"IdToken", "AccessToken", "RefreshToken"}


@pytest.mark.parametrize("password", ["Wrong-pass-1", "right-pass-1", "Right-pass-1 ", ""])
def test_wrong_password_is_refused(aws, user, password):
    with pytest.raises(user.exceptions.NotAuthorizedException):
        _sign_in(aws, user, password)


def test_a_challenge_answers_once(aws, user):
    srp = AWSSRP(username="alice", password="Right-pass-1", pool_id=aws.cognito_user_pool_id,
                 client_id=aws.cognito_client_id, client=user)
    challenge = user.initiate_auth(AuthFlow="USER_SRP_AUTH", AuthParameters=srp.get_auth_params(),
                                   ClientId=aws.cognito_client_id)
    answer = srp.process_challenge(challenge["ChallengeParameters"], srp.get_auth_params())
    user.respond_to_auth_challenge(ClientId=aws.cognito_client_id, ChallengeName="PASSWORD_VERIFIER",
                                   ChallengeResponses=answer)
    with pytest.raises(user.exceptions.NotAuthorizedException):
        user.respond_to_auth_challenge(ClientId=aws.cognito_client_id, ChallengeName="PASSWORD_VERIFIER",
                                       ChallengeResponses=answer)


def test_a_forged_signature_is_refused(aws, user):
    srp = AWSSRP(username="alice", password="Right-pass-1", pool_id=aws.cognito_user_pool_id,
                 client_id=aws.cognito_client_id, client=user)
    challenge = user.initiate_auth(AuthFlow="USER_SRP_AUTH", AuthParameters=srp.get_auth_params(),
                                   ClientId=aws.cognito_client_id)
    answer = srp.process_challenge(challenge["ChallengeParameters"], srp.get_auth_params())
    answer["PASSWORD_CLAIM_SIGNATURE"] = "A" * 44
    with pytest.raises(user.exceptions.NotAuthorizedException):
        user.respond_to_auth_challenge(ClientId=aws.cognito_client_id, ChallengeName="PASSWORD_VERIFIER",
                                       ChallengeResponses=answer)
