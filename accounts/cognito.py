"""The Cognito core shared by the portal and the API: sign-up and confirmation, SRP sign-in
(pycognito's AWSSRP on our own boto3 client: the password never leaves this process),
refresh, sign-out by refresh-token revocation, password reset and change, staff from the
pool's group. Cognito's refusals come out as AppError subclasses. Django-free."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from pycognito.aws_srp import AWSSRP
from pycognito.exceptions import ForceChangePasswordException

from accounts.pool import PASSWORD_RULES_TEXT
from accounts.usernames import new_username, sign_in_name
from common.claims import groups as claim_groups
from common.config import get_config
from common.errors import AppError, Conflict, InvalidInput, NotAuthenticated, ServiceUnavailable

log = logging.getLogger(__name__)


class InvalidCredentials(NotAuthenticated):
    """Wrong password or unknown user: one error, so callers cannot tell them apart."""

    code = "invalid_credentials"
    default_message = "Incorrect username or password."


class UserNotConfirmed(AppError):
    """The user signed up but has not confirmed the emailed code yet."""

    code = "not_confirmed"
    status = 403
    default_message = "Confirm your account with the code we emailed you first."


class PasswordChangeRequired(AppError):
    """The user must set a new password (an administrator reset it)."""

    code = "password_change_required"
    status = 403
    default_message = "You must choose a new password: use “Forgot password”."


class UsernameExists(Conflict):
    """The username is taken."""

    code = "username_exists"
    default_message = "A user with that username already exists."


class InvalidPassword(InvalidInput):
    """The password does not meet the pool's policy."""

    code = "invalid_password"
    default_message = f"The password does not meet the rules. {PASSWORD_RULES_TEXT}"


class CodeMismatch(InvalidInput):
    """The confirmation or reset code is wrong."""

    code = "code_mismatch"
    default_message = "The code is not correct. Check the email we sent, or ask for a new code."


class CodeExpired(InvalidInput):
    """The confirmation or reset code has expired."""

    code = "code_expired"
    default_message = "The code has expired. Ask for a new code."


class SessionEnded(NotAuthenticated):
    """The refresh token was revoked or has expired."""

    code = "session_ended"
    default_message = "Your session has ended. Sign in again."


class TooManyRequests(AppError):
    """Cognito throttled the request or refused further attempts for now."""

    code = "too_many_requests"
    status = 429
    default_message = "Too many attempts. Wait a few minutes and try again."
    headers = {"Retry-After": "60"}


@dataclass(frozen=True)
class Tokens:
    """What Cognito issues on sign-in (refresh_token) and on refresh (no new refresh_token)."""

    id_token: str
    access_token: str
    expires_in: int
    refresh_token: str | None = None


@dataclass(frozen=True)
class SignUpResult:
    """A new user: its `sub`, whether it is confirmed, and where the code went."""

    sub: str
    confirmed: bool
    destination: str | None


# Cognito error code → our exception, for every call; per-call overrides come first.
_ERRORS: dict[str, type[AppError]] = {
    "UsernameExistsException": UsernameExists,
    "AliasExistsException": UsernameExists,
    "InvalidPasswordException": InvalidPassword,
    "CodeMismatchException": CodeMismatch,
    "ExpiredCodeException": CodeExpired,
    "UserNotConfirmedException": UserNotConfirmed,
    "PasswordResetRequiredException": PasswordChangeRequired,
    "TooManyRequestsException": TooManyRequests,
    "TooManyFailedAttemptsException": TooManyRequests,
    "LimitExceededException": TooManyRequests,
    "CodeDeliveryFailureException": ServiceUnavailable,
}

# Cognito being busy or failing on its side, or our trigger failing (it refuses when DynamoDB
# does, and nothing was changed): try again later (503).
_BUSY = {"InternalErrorException", "ServiceUnavailable", "ServiceUnavailableException", "RequestTimeout",
         "RequestTimeoutException", "ThrottlingException", "UserLambdaValidationException",
         "UnexpectedLambdaException"}


class CognitoFault(AppError):
    """Cognito refused in a way this code does not expect: a fault to fix, not a busy service."""

    code = "fault"
    status = 500
    default_message = "Sign-in is not working right now because of an error on our side; it has been logged."


_clients: dict[tuple[str, str | None], object] = {}
_clients_lock = threading.Lock()


def _client():
    """A cognito-idp client for the configured region and endpoint (clients are thread-safe)."""
    config = get_config()
    key = (config.aws_region, config.aws_endpoint_url)
    with _clients_lock:  # boto3's default session is not thread-safe while making clients
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = boto3.client("cognito-idp", region_name=config.aws_region)
        return client


@contextlib.contextmanager
def _boundary(**overrides: type[AppError]) -> Iterator[None]:
    """Re-raise Cognito's refusals as our exceptions (`overrides` maps error codes first)."""
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code, message = error.get("Code", ""), error.get("Message") or None
        mapped = overrides.get(code) or _ERRORS.get(code)
        if mapped is InvalidPassword:
            raise InvalidPassword(_password_message(message)) from exc
        if mapped is not None:
            raise mapped() from exc
        if code in ("InvalidParameterException", "ValidationException"):
            raise InvalidInput(message) from exc
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        if code in _BUSY or "Throttl" in code or status >= 500:
            raise ServiceUnavailable() from exc
        # Anything else (an unknown code: a misconfigured pool or client, missing permission)
        # is our fault, not a busy service: logged with its code, answered as a 500.
        log.error("cognito refused with %s (HTTP %s): %s", code, status, message)
        raise CognitoFault() from exc
    except BotoCoreError as exc:
        raise ServiceUnavailable() from exc


def _password_message(message: str | None) -> str:
    # Cognito says e.g. "Password did not conform with policy: Password must have symbol characters".
    detail = (message or "").split(":", 1)[-1].strip()
    # The local emulator (moto) words it "does not confirm to"; say what is meant.
    detail = detail.replace("does not confirm to", "does not conform to")
    if detail and detail != "InvalidPasswordException":
        return f"{detail.rstrip('.')}. {PASSWORD_RULES_TEXT}"
    return InvalidPassword.default_message


def _tokens(result: dict, refresh_token: str | None = None) -> Tokens:
    auth = result["AuthenticationResult"]
    return Tokens(
        id_token=auth["IdToken"],
        access_token=auth["AccessToken"],
        expires_in=int(auth.get("ExpiresIn", 3600)),
        refresh_token=auth.get("RefreshToken") or refresh_token,
    )


def sign_up(username: str, email: str, password: str, *, metadata: dict[str, str] | None = None) -> SignUpResult:
    """Register a user; Cognito emails the confirmation code unless the PreSignUp trigger
    (accounts.triggers) confirms the user, given `metadata`."""
    config = get_config()
    username = new_username(username)
    extra = {"ClientMetadata": metadata} if metadata else {}
    with _boundary():
        result = _client().sign_up(
            ClientId=config.cognito_client_id,
            Username=username,
            Password=password,
            UserAttributes=[{"Name": "email", "Value": email}],
            **extra,
        )
    destination = (result.get("CodeDeliveryDetails") or {}).get("Destination")
    return SignUpResult(sub=result["UserSub"], confirmed=bool(result.get("UserConfirmed")), destination=destination)


def confirm_sign_up(username: str, code: str) -> None:
    """Confirm a sign-up with the emailed code."""
    with _boundary(UserNotFoundException=CodeMismatch, NotAuthorizedException=CodeMismatch):
        _client().confirm_sign_up(ClientId=get_config().cognito_client_id, Username=username,
                                  ConfirmationCode=code.strip())


def resend_code(username: str) -> str | None:
    """Send a new confirmation code; return where it went (None for an unknown user)."""
    with _boundary():
        try:
            result = _client().resend_confirmation_code(ClientId=get_config().cognito_client_id, Username=username)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("UserNotFoundException", "NotAuthorizedException"):
                return None  # do not reveal whether the user exists
            raise
    return (result.get("CodeDeliveryDetails") or {}).get("Destination")


def sign_in(username: str, password: str) -> Tokens:
    """Sign in with SRP; InvalidCredentials for a wrong password or an unknown user."""
    config = get_config()
    username = sign_in_name(username)
    srp = AWSSRP(username=username, password=password, pool_id=config.cognito_user_pool_id,
                 client_id=config.cognito_client_id, client=_client())
    try:
        with _boundary(NotAuthorizedException=InvalidCredentials, UserNotFoundException=InvalidCredentials):
            result = srp.authenticate_user()
    except ForceChangePasswordException as exc:
        raise PasswordChangeRequired() from exc
    if "AuthenticationResult" not in result:
        raise PasswordChangeRequired()  # another challenge (MFA) that the portal does not offer
    return _tokens(result)


def refresh(refresh_token: str) -> Tokens:
    """New ID and access tokens for a refresh token; SessionEnded if it is revoked or expired."""
    with _boundary(NotAuthorizedException=SessionEnded, UserNotFoundException=SessionEnded,
                   ResourceNotFoundException=SessionEnded):
        result = _client().initiate_auth(
            ClientId=get_config().cognito_client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": refresh_token},
        )
    return _tokens(result, refresh_token)


def sign_out(refresh_token: str) -> None:
    """Revoke the refresh token (and with it the tokens it issued)."""
    with _boundary(NotAuthorizedException=SessionEnded):
        _client().revoke_token(Token=refresh_token, ClientId=get_config().cognito_client_id)


def forgot_password(username: str) -> str | None:
    """Email a password-reset code; return where it went (None when Cognito says nothing)."""
    with _boundary():
        try:
            result = _client().forgot_password(ClientId=get_config().cognito_client_id, Username=username)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("UserNotFoundException", "NotAuthorizedException"):
                return None  # do not reveal whether the user exists
            raise
    return (result.get("CodeDeliveryDetails") or {}).get("Destination")


def confirm_forgot_password(username: str, code: str, new_password: str) -> None:
    """Set a new password with the emailed reset code."""
    with _boundary(UserNotFoundException=CodeMismatch, NotAuthorizedException=CodeMismatch,
                   ResourceNotFoundException=CodeMismatch):
        _client().confirm_forgot_password(ClientId=get_config().cognito_client_id, Username=username,
                                          ConfirmationCode=code.strip(), Password=new_password)


def change_password(access_token: str, old_password: str, new_password: str) -> None:
    """Change the signed-in user's password; InvalidCredentials if the old one is wrong."""
    with _boundary(NotAuthorizedException=InvalidCredentials):
        _client().change_password(AccessToken=access_token, PreviousPassword=old_password,
                                  ProposedPassword=new_password)


def global_sign_out(access_token: str) -> None:
    """Revoke every refresh token of the access token's user (every device, this one too)."""
    with _boundary(NotAuthorizedException=SessionEnded):
        _client().global_sign_out(AccessToken=access_token)


def admin_global_sign_out(username: str) -> None:
    """Revoke every refresh token of a user (after a reset or a disable)."""
    with _boundary():
        _client().admin_user_global_sign_out(UserPoolId=get_config().cognito_user_pool_id, Username=username)


def admin_disable_user(username: str) -> None:
    """Disable a user: no sign-in, no refresh."""
    with _boundary():
        _client().admin_disable_user(UserPoolId=get_config().cognito_user_pool_id, Username=username)


def admin_create_user(username: str, email: str, password: str, staff: bool = False) -> str:
    """Create a confirmed user with a permanent password (optionally staff); return its sub."""
    config = get_config()
    cognito = _client()
    username = new_username(username)
    with _boundary():
        user = cognito.admin_create_user(
            UserPoolId=config.cognito_user_pool_id,
            Username=username,
            MessageAction="SUPPRESS",
            UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
        )["User"]
        try:
            cognito.admin_set_user_password(UserPoolId=config.cognito_user_pool_id, Username=username,
                                            Password=password, Permanent=True)
        except ClientError:
            # Do not leave a user nobody can sign in as (e.g. the password broke the policy).
            cognito.admin_delete_user(UserPoolId=config.cognito_user_pool_id, Username=username)
            raise
        if staff:
            cognito.admin_add_user_to_group(UserPoolId=config.cognito_user_pool_id, Username=username,
                                            GroupName=config.cognito_staff_group)
    return next(a["Value"] for a in user["Attributes"] if a["Name"] == "sub")


def is_staff(claims: dict) -> bool:
    """Whether the ID token's claims put the user in the staff group."""
    return get_config().cognito_staff_group in claim_groups(claims)
