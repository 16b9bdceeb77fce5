"""Make moto's Cognito check passwords in the SRP flow the way Cognito does, and send and
check codes the way Cognito does (see "Codes" below).

Stock moto answers USER_SRP_AUTH with random SALT/SRP_B and accepts any
PASSWORD_CLAIM_SIGNATURE. Moto keeps each password in plain text, so here the server side
of SRP-6a (Cognito's variant, as pycognito's client implements it) derives the verifier,
and a wrong password gets NotAuthorizedException. install() patches moto's backend class,
so it works in the emulator process and in the in-process mock_aws of unit tests alike.
Relies on moto internals: moto is pinned in requirements/dev.txt.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import secrets

import time

from moto.cognitoidp import models as cognito_models
from moto.cognitoidp.exceptions import (
    CodeMismatchException,
    ExpiredCodeException,
    InvalidParameterException,
    NotAuthorizedError,
    ResourceNotFoundError,
    UserNotConfirmedException,
    UserNotFoundError,
)
from moto.cognitoidp.responses import CognitoIdpResponse
from moto.core.responses import ActionResult, EmptyResult
from accounts import usernames
from local import cognito_pool, mailbox
from pycognito.aws_srp import G_HEX, N_HEX, compute_hkdf, hash_sha256, hex_hash, hex_to_long, long_to_hex, pad_hex

N = hex_to_long(N_HEX)
G = hex_to_long(G_HEX)
K = hex_to_long(hex_hash("00" + N_HEX + "0" + G_HEX))

Backend = cognito_models.CognitoIdpBackend
_original_initiate_auth = Backend.initiate_auth
_original_respond = Backend.respond_to_auth_challenge
# Cognito refuses a PASSWORD_VERIFIER answer whose TIMESTAMP is far from its clock.
_MAX_CLOCK_SKEW = datetime.timedelta(minutes=15)


def _pool_name(pool_id: str) -> str:
    return pool_id.split("_", 1)[1]


def _x(pool_id: str, user_id_for_srp: str, password: str, salt_hex: str) -> int:
    inner = hash_sha256(f"{_pool_name(pool_id)}{user_id_for_srp}:{password}".encode())
    return hex_to_long(hex_hash(pad_hex(salt_hex) + inner))


def _expected_signature(state: dict, password: str, secret_block: str, timestamp: str) -> str:
    x = _x(state["pool_id"], state["user_id"], password, state["salt"])
    v = pow(G, x, N)
    a, b, big_b = state["A"], state["b"], state["B"]
    u = hex_to_long(hex_hash(pad_hex(a) + pad_hex(big_b)))
    s = pow(a * pow(v, u, N), b, N)
    key = compute_hkdf(bytearray.fromhex(pad_hex(s)), bytearray.fromhex(pad_hex(long_to_hex(u))))
    msg = (
        _pool_name(state["pool_id"]).encode()
        + state["user_id"].encode()
        + base64.standard_b64decode(secret_block)
        + timestamp.encode()
    )
    return base64.standard_b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()


def _timestamp_ok(timestamp: str) -> bool:
    # Cognito's format, e.g. "Tue Nov 24 18:47:39 UTC 2026" (day without leading zero).
    try:
        when = datetime.datetime.strptime(timestamp, "%a %b %d %H:%M:%S UTC %Y").replace(tzinfo=datetime.UTC)
    except ValueError:
        return False
    return abs(datetime.datetime.now(datetime.UTC) - when) <= _MAX_CLOCK_SKEW


def initiate_auth(self, client_id, auth_flow, auth_parameters):
    """Answer USER_SRP_AUTH with a real salt and B derived from the user's password."""
    result = _original_initiate_auth(self, client_id, auth_flow, auth_parameters)
    if auth_flow != "USER_SRP_AUTH" or result.get("ChallengeName") != "PASSWORD_VERIFIER":
        return result
    a = hex_to_long(auth_parameters["SRP_A"])
    if a % N == 0:
        raise NotAuthorizedError("Incorrect username or password.")
    username, pool = self.sessions.pop(result["Session"])
    user = self.admin_get_user(pool.id, username)
    salt = secrets.token_hex(16)
    b = secrets.randbelow(N - 2) + 1
    v = pow(G, _x(pool.id, user.username, user.password or "", salt), N)
    big_b = (K * v + pow(G, b, N)) % N
    secret_block = base64.standard_b64encode(secrets.token_bytes(64)).decode()
    # moto finds the session of a PASSWORD_VERIFIER answer by its secret block; the user's
    # own name, so tokens carry it whatever case the caller typed (a case-insensitive pool).
    self.sessions[secret_block] = (user.username, pool)
    if not hasattr(self, "srp_states"):
        self.srp_states = {}
    self.srp_states[secret_block] = {
        "pool_id": pool.id, "user_id": user.username, "salt": salt, "A": a, "b": b, "B": big_b,
    }
    result["Session"] = secret_block
    result["ChallengeParameters"].update(
        SALT=salt,
        SRP_B=long_to_hex(big_b),
        USERNAME=user.username,
        USER_ID_FOR_SRP=user.username,
        SECRET_BLOCK=secret_block,
    )
    return result


def respond_to_auth_challenge(self, session, client_id, challenge_name, challenge_responses):
    """Check the PASSWORD_CLAIM_SIGNATURE against the user's password before moto's answer."""
    if challenge_name == "PASSWORD_VERIFIER":
        secret_block = challenge_responses.get("PASSWORD_CLAIM_SECRET_BLOCK") or ""
        state = getattr(self, "srp_states", {}).pop(secret_block, None)
        if state is None or secret_block not in self.sessions:
            raise NotAuthorizedError("Incorrect username or password.")
        username, pool = self.sessions[secret_block]
        user = self.admin_get_user(pool.id, username)
        timestamp = challenge_responses.get("TIMESTAMP") or ""
        signature = challenge_responses.get("PASSWORD_CLAIM_SIGNATURE") or ""
        expected = _expected_signature(state, user.password or "", secret_block, timestamp)
        if not _timestamp_ok(timestamp) or not hmac.compare_digest(signature, expected):
            del self.sessions[secret_block]
            raise NotAuthorizedError("Incorrect username or password.")
    return _original_respond(self, session, client_id, challenge_name, challenge_responses)


# Codes -----------------------------------------------------------------------------------
# Stock moto confirms a sign-up whatever the code, has no ResendConfirmationCode and no
# RevokeToken, and accepts almost any password-reset code. Here, as in Cognito: sign-up and
# forgot-password send a 6-digit code by "mail" (local/mailbox.py: printed, and kept
# for GET /_local/mailbox); a wrong code gets CodeMismatchException, an old one
# ExpiredCodeException. Codes are plain attributes of moto's user objects, so the
# emulator's pickled state keeps them.

SIGNUP_CODE_SECONDS = 24 * 3600  # Cognito: confirmation codes are valid for 24 hours
RESET_CODE_SECONDS = 3600  # Cognito: password-reset codes are valid for 1 hour

_original_sign_up = Backend.sign_up


def _now() -> float:
    return time.time()


def _pool_for_client(backend, client_id: str):
    for user_pool in backend.user_pools.values():
        if client_id in user_pool.clients:
            return user_pool
    raise ResourceNotFoundError(client_id)


def _send_code(user, kind: str) -> dict:
    """Make a code of `kind` ("signup" or "reset") for the user, mail it, return delivery details."""
    code = f"{secrets.randbelow(1_000_000):06d}"
    seconds = SIGNUP_CODE_SECONDS if kind == "signup" else RESET_CODE_SECONDS
    setattr(user, f"local_{kind}_code", (code, _now() + seconds))
    email = user.attribute_lookup.get("email", "")
    what = "verification code" if kind == "signup" else "password reset code"
    mailbox.deliver(to=email, username=user.username, subject=f"Your {what}",
                    body=f"Your {what} is {code}", code=code)
    return {"Destination": _mask(email), "DeliveryMedium": "EMAIL", "AttributeName": "email"}


def _mask(email: str) -> str:
    name, _, domain = email.partition("@")
    return f"{name[:1]}***@{domain[:1]}***" if domain else "***"


def _check_code(user, kind: str, code: str | None) -> None:
    """Raise as Cognito does unless `code` is the user's current, unexpired code of `kind`."""
    stored = getattr(user, f"local_{kind}_code", None)
    if not stored or not code or not hmac.compare_digest(stored[0], str(code).strip()):
        raise CodeMismatchException("Invalid verification code provided, please try again.")
    if _now() > stored[1]:
        raise ExpiredCodeException("Invalid code provided, please request a code again.")


def sign_up(self, client_id, username, password, attributes, client_metadata=None):
    """Sign up as moto does, run the pool's PreSignUp trigger, then mail the confirmation
    code unless the trigger confirmed the user (no mail then, as in Cognito)."""
    if not usernames.is_new_username(username):
        # The project's rule (accounts.usernames), held here too so a client calling the
        # stand-in directly cannot make a look-alike name the portal and the API would refuse.
        raise InvalidParameterException(f"Username must have {usernames.USERNAME_RULES}")
    user, details = _original_sign_up(self, client_id, username, password, attributes)
    user_pool = _pool_for_client(self, client_id)
    try:
        answer = cognito_pool.run_pre_sign_up(user_pool, client_id, user, client_metadata)
    except cognito_pool.UserLambdaValidationException:
        del user_pool.users[user.username]
        raise
    if answer.get("autoVerifyEmail") and "email" in user.attribute_lookup:
        user.update_attributes([{"Name": "email_verified", "Value": "true"}])
    if answer.get("autoConfirmUser"):
        user.status = cognito_models.UserStatus.CONFIRMED
        return user, None
    return user, _send_code(user, "signup")


def confirm_sign_up(self, client_id, username, confirmation_code=None):
    """Confirm only with the right, unexpired code."""
    user_pool = _pool_for_client(self, client_id)
    user = user_pool._get_user(username)
    if user is None:
        raise UserNotFoundError("Username/client id combination not found.")
    if user.status == cognito_models.UserStatus.CONFIRMED:
        raise NotAuthorizedError("User cannot be confirmed. Current status is CONFIRMED")
    _check_code(user, "signup", confirmation_code)
    user.local_signup_code = None
    user.status = cognito_models.UserStatus.CONFIRMED
    return ""


def resend_confirmation_code(self, client_id, username):
    """Mail a new confirmation code to an unconfirmed user."""
    user = _pool_for_client(self, client_id)._get_user(username)
    if user is None:
        raise UserNotFoundError("Username/client id combination not found.")
    if user.status == cognito_models.UserStatus.CONFIRMED:
        raise InvalidParameterException("User is already confirmed.")
    return {"CodeDeliveryDetails": _send_code(user, "signup")}


def revoke_token(self, client_id, token):
    """Revoke a refresh token: it can no longer refresh, as after Cognito's RevokeToken."""
    user_pool = _pool_for_client(self, client_id)
    entry = user_pool.refresh_tokens.get(token)
    if entry is not None and entry[0] != client_id:
        raise NotAuthorizedError("Token is not issued to this client.")
    if token in user_pool.refresh_tokens:
        user_pool.refresh_tokens[token] = None


def forgot_password(self, client_id, username):
    """Mail a reset code (and say the same for an unknown user, as Cognito does)."""
    user_pool = _pool_for_client(self, client_id)
    user = user_pool._get_user(username)
    if user is None:
        return None, {"CodeDeliveryDetails": {"Destination": "***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}}
    return None, {"CodeDeliveryDetails": _send_code(user, "reset")}


def confirm_forgot_password(self, client_id, username, password, confirmation_code):
    """Set the new password only with the right, unexpired reset code and a valid password."""
    user_pool = _pool_for_client(self, client_id)
    user = user_pool._get_user(username)
    if user is None:
        raise CodeMismatchException("Invalid verification code provided, please try again.")
    _check_code(user, "reset", confirmation_code)
    self._validate_password(user_pool.id, password)
    user.local_reset_code = None
    user.password = password
    if user.status in (cognito_models.UserStatus.RESET_REQUIRED, cognito_models.UserStatus.FORCE_CHANGE_PASSWORD):
        user.status = cognito_models.UserStatus.CONFIRMED


def initiate_auth_password_first(self, client_id, auth_flow, auth_parameters):
    """SRP for an unconfirmed user too: as in Cognito, "not confirmed" comes only after the
    right password, so a wrong guess cannot tell an unconfirmed account exists."""
    try:
        return initiate_auth(self, client_id, auth_flow, auth_parameters)
    except UserNotConfirmedException:
        if auth_flow != "USER_SRP_AUTH":
            raise
    user = _pool_for_client(self, client_id)._get_user(auth_parameters.get("USERNAME", ""))
    user.status = cognito_models.UserStatus.CONFIRMED
    try:
        result = initiate_auth(self, client_id, auth_flow, auth_parameters)
    finally:
        user.status = cognito_models.UserStatus.UNCONFIRMED
    self.srp_states[result["Session"]]["unconfirmed"] = True
    return result


def respond_password_first(self, session, client_id, challenge_name, challenge_responses):
    """Check the password, then refuse an unconfirmed user (see initiate_auth_password_first)."""
    secret_block = (challenge_responses or {}).get("PASSWORD_CLAIM_SECRET_BLOCK") or ""
    unconfirmed = challenge_name == "PASSWORD_VERIFIER" and \
        getattr(self, "srp_states", {}).get(secret_block, {}).get("unconfirmed", False)
    result = respond_to_auth_challenge(self, session, client_id, challenge_name, challenge_responses)
    if unconfirmed:
        raise UserNotConfirmedException("User is not confirmed.")
    return result


def _backend_for_client(response: CognitoIdpResponse, client_id: str):
    return response._get_region_agnostic_backend()._find_backend_for_clientid(client_id)


def response_confirm_sign_up(self) -> ActionResult:
    """ConfirmSignUp, passing the code on (moto's drops it)."""
    client_id = self._get_param("ClientId")
    _backend_for_client(self, client_id).confirm_sign_up(
        client_id, self._get_param("Username"), self._get_param("ConfirmationCode")
    )
    return EmptyResult()


def response_resend_confirmation_code(self) -> ActionResult:
    """ResendConfirmationCode (moto lacks it)."""
    client_id = self._get_param("ClientId")
    return ActionResult(_backend_for_client(self, client_id).resend_confirmation_code(client_id, self._get_param("Username")))


def response_revoke_token(self) -> ActionResult:
    """RevokeToken (moto lacks it)."""
    client_id = self._get_param("ClientId")
    _backend_for_client(self, client_id).revoke_token(client_id, self._get_param("Token"))
    return EmptyResult()


def response_forgot_password(self) -> ActionResult:
    """ForgotPassword without moto's code-in-a-header: the code goes to the mailbox."""
    client_id = self._get_param("ClientId")
    _code, result = _backend_for_client(self, client_id).forgot_password(client_id, self._get_param("Username"))
    return ActionResult(result)


def install() -> None:
    """Patch moto's Cognito backend and responses (idempotent)."""
    cognito_pool.install()
    Backend.initiate_auth = initiate_auth_password_first
    Backend.respond_to_auth_challenge = respond_password_first
    Backend.sign_up = sign_up
    Backend.confirm_sign_up = confirm_sign_up
    Backend.resend_confirmation_code = resend_confirmation_code
    Backend.revoke_token = revoke_token
    Backend.forgot_password = forgot_password
    Backend.confirm_forgot_password = confirm_forgot_password
    CognitoIdpResponse.confirm_sign_up = response_confirm_sign_up
    CognitoIdpResponse.resend_confirmation_code = response_resend_confirmation_code
    CognitoIdpResponse.revoke_token = response_revoke_token
    CognitoIdpResponse.forgot_password = response_forgot_password
