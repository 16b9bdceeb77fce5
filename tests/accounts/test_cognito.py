"""The Cognito core against the in-process local Cognito (real SRP checks, real codes)."""

from __future__ import annotations

import jwt
import pytest

from accounts import cognito
from accounts.tokens import verify_id_token
from common.errors import AppError, InvalidInput
from local import cognito_checks

from .conftest import PASSWORD, last_code, moto_user


def test_right_password_signs_in_with_a_verifiable_id_token(aws, alice):
    tokens = cognito.sign_in("alice", PASSWORD)
    claims = verify_id_token(tokens.id_token)
    assert claims["cognito:username"] == "alice"
    assert tokens.refresh_token and tokens.access_token


@pytest.mark.parametrize("username,password", [("alice", "Wrong-pass-1"), ("nobody", PASSWORD)])
def test_wrong_password_and_unknown_user_get_the_same_error(aws, alice, username, password):
    with pytest.raises(cognito.InvalidCredentials) as caught:
        cognito.sign_in(username, password)
    assert caught.value.message == "Incorrect username or password."
    assert caught.value.status == 401


def test_unconfirmed_user_is_refused_with_its_own_error(aws, unconfirmed):
    with pytest.raises(cognito.UserNotConfirmed):
        cognito.sign_in("carol", PASSWORD)


def test_sign_up_mails_a_six_digit_code_and_the_right_code_confirms(aws, unconfirmed):
    code = last_code("carol")
    assert len(code) == 6 and code.isdigit()
    cognito.confirm_sign_up("carol", code)
    assert verify_id_token(cognito.sign_in("carol", PASSWORD).id_token)["cognito:username"] == "carol"


def test_wrong_code_is_refused(aws, unconfirmed):
    wrong = f"{(int(last_code('carol')) + 1) % 1_000_000:06d}"
    with pytest.raises(cognito.CodeMismatch):
        cognito.confirm_sign_up("carol", wrong)
    with pytest.raises(cognito.UserNotConfirmed):
        cognito.sign_in("carol", PASSWORD)


def test_expired_code_is_refused_and_a_resent_code_works(aws, unconfirmed, monkeypatch):
    old = last_code("carol")
    now = cognito_checks._now()
    monkeypatch.setattr(cognito_checks, "_now", lambda: now + cognito_checks.SIGNUP_CODE_SECONDS + 1)
    with pytest.raises(cognito.CodeExpired):
        cognito.confirm_sign_up("carol", old)
    assert cognito.resend_code("carol")
    new = last_code("carol")
    cognito.confirm_sign_up("carol", new)
    cognito.sign_in("carol", PASSWORD)


def test_a_code_works_once(aws, unconfirmed):
    code = last_code("carol")
    cognito.confirm_sign_up("carol", code)
    with pytest.raises(AppError):
        cognito.confirm_sign_up("carol", code)


def test_resend_for_an_unknown_user_says_nothing(aws):
    assert cognito.resend_code("nobody") is None


def test_sign_up_refusals(aws, alice):
    with pytest.raises(cognito.UsernameExists):
        cognito.sign_up("alice", "other@example.com", PASSWORD)
    with pytest.raises(cognito.InvalidPassword) as caught:
        cognito.sign_up("dave", "dave@example.com", "short")
    assert "At least 8 characters" in caught.value.message


def test_refresh_gives_a_new_id_token(aws, alice):
    tokens = cognito.sign_in("alice", PASSWORD)
    fresh = cognito.refresh(tokens.refresh_token)
    assert fresh.refresh_token == tokens.refresh_token
    assert verify_id_token(fresh.id_token)["cognito:username"] == "alice"


def test_sign_out_revokes_the_refresh_token(aws, alice):
    tokens = cognito.sign_in("alice", PASSWORD)
    other = cognito.sign_in("alice", PASSWORD)
    cognito.sign_out(tokens.refresh_token)
    with pytest.raises(cognito.SessionEnded):
        cognito.refresh(tokens.refresh_token)
    # Only that sign-in ends: another device keeps its session.
    cognito.refresh(other.refresh_token)


def test_unknown_refresh_token_ends_the_session(aws, alice):
    with pytest.raises(cognito.SessionEnded):
        cognito.refresh("not-a-refresh-token")


def test_forgot_password_then_reset_with_the_mailed_code(aws, alice):
    cognito.forgot_password("alice")
    code = last_code("alice")
    with pytest.raises(cognito.CodeMismatch):
        cognito.confirm_forgot_password("alice", f"{(int(code) + 1) % 1_000_000:06d}", "New-pass-2!")
    with pytest.raises(cognito.InvalidPassword):
        cognito.confirm_forgot_password("alice", code, "weak")
    cognito.confirm_forgot_password("alice", code, "New-pass-2!")
    with pytest.raises(cognito.InvalidCredentials):
        cognito.sign_in("alice", PASSWORD)
    cognito.sign_in("alice", "New-pass-2!")


def test_expired_reset_code_is_refused(aws, alice, monkeypatch):
    cognito.forgot_password("alice")
    code = last_code("alice")
    user = moto_user(aws, "alice")
    user.local_reset_code = (code, cognito_checks._now() - 1)
    with pytest.raises(cognito.CodeExpired):
        cognito.confirm_forgot_password("alice", code, "New-pass-2!")
    cognito.sign_in("alice", PASSWORD)


def test_forgot_password_for_an_unknown_user_says_nothing(aws):
    cognito.forgot_password("nobody")
    with pytest.raises(cognito.CodeMismatch):
        cognito.confirm_forgot_password("nobody", "123456", "New-pass-2!")


def test_change_password(aws, alice):
    tokens = cognito.sign_in("alice", PASSWORD)
    with pytest.raises(cognito.InvalidCredentials):
        cognito.change_password(tokens.access_token, "Wrong-pass-1", "New-pass-2!")
    with pytest.raises(cognito.InvalidPassword):
        cognito.change_password(tokens.access_token, PASSWORD, "weak")
    cognito.change_password(tokens.access_token, PASSWORD, "New-pass-2!")
    cognito.sign_in("alice", "New-pass-2!")


def test_staff_group_is_in_the_token(aws, alice, boss):
    boss_claims = verify_id_token(cognito.sign_in("boss", PASSWORD).id_token)
    alice_claims = verify_id_token(cognito.sign_in("alice", PASSWORD).id_token)
    assert cognito.is_staff(boss_claims)
    assert not cognito.is_staff(alice_claims)


@pytest.mark.parametrize("groups,expected", [
    ("[staff]", True), ("staff,other", True), ("[other staffer]", False), (["staff"], True), (None, False),
])
def test_is_staff_reads_the_claim_in_every_form(aws, groups, expected):
    assert cognito.is_staff({"cognito:groups": groups}) is expected


def test_admin_create_user_refuses_a_weak_password_and_leaves_no_user(aws):
    with pytest.raises(InvalidInput):
        cognito.admin_create_user("erin", "erin@example.com", "weak")
    cognito.admin_create_user("erin", "erin@example.com", PASSWORD)
    cognito.sign_in("erin", PASSWORD)


def test_id_token_expiry_is_enforced_by_the_verifier(aws, alice):
    from accounts.tokens import InvalidToken

    token = cognito.sign_in("alice", PASSWORD).id_token
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 15 * 60  # the client's IdTokenValidity, as in infra
    verify_id_token(token)
    # A negative leeway moves "now" past exp: the same token 15 minutes later.
    with pytest.raises(InvalidToken):
        verify_id_token(token, leeway=-901)


def test_unconfirmed_user_with_a_wrong_password_gets_the_usual_error(aws, unconfirmed):
    # "Not confirmed" only after the right password: a guess cannot find unconfirmed accounts.
    with pytest.raises(cognito.InvalidCredentials):
        cognito.sign_in("carol", "Wrong-pass-1")


def test_id_token_carries_the_email(aws):
    from accounts import cognito
    from accounts.tokens import verify_id_token
    cognito.admin_create_user("hal", "hal@example.com", "Hal-pass-1")
    claims = verify_id_token(cognito.sign_in("hal", "Hal-pass-1").id_token)
    assert claims["email"] == "hal@example.com"


def _client_error(code: str, status: int = 400):
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": code, "Message": f"{code} happened"},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "SignUp")


@pytest.mark.parametrize("code,status", [("ThrottlingException", 400), ("InternalErrorException", 500),
                                         ("SomethingNew", 503), ("TooManyRequestsException", 400)])
def test_cognito_busy_or_throttling_stays_a_503_or_429(code, status):
    with pytest.raises(AppError) as raised, cognito._boundary():
        raise _client_error(code, status)
    assert raised.value.status in (503, 429)


@pytest.mark.parametrize("code", ["AccessDeniedException", "ResourceNotFoundException", "SomethingNew"])
def test_an_unknown_cognito_error_is_a_500_logged_with_its_code(code, caplog):
    # It was a 503 "nothing changed, try again", which hides a misconfiguration as a busy service.
    with pytest.raises(AppError) as raised, cognito._boundary():
        raise _client_error(code)
    assert raised.value.status == 500
    assert any(code in r.getMessage() and r.levelname == "ERROR" for r in caplog.records)
