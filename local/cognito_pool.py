"""Make moto's Cognito user pool behave as the pool in infra/cognito.tf does, where stock
moto differs (install() patches moto's classes, in the emulator and in unit tests alike):

- usernames are case-insensitive when the pool says so (UsernameConfiguration.CaseSensitive
  false): `ALICE` cannot sign up beside `alice`, and `Alice` signs in as `alice`;
- UpdateUserPool leaves UsernameConfiguration alone (AWS cannot change it after creation);
- AdminUserGlobalSignOut revokes the refresh tokens whatever the case of the name given;
- a disabled user's refresh tokens refresh nothing ("User is disabled.");
- ID and access tokens live as long as the app client says (IdTokenValidity and
  TokenValidityUnits), not moto's fixed hour;
- the PreSignUp trigger of the pool's LambdaConfig runs on SignUp, with the caller's
  ClientMetadata: a user it auto-confirms gets no mail; an error it raises refuses the
  sign-up with UserLambdaValidationException. Trigger functions are the project's own
  handlers, found by function name (LOCAL_FUNCTIONS).

Relies on moto internals: moto is pinned in requirements/dev.txt.
"""

from __future__ import annotations

import importlib

from moto.cognitoidp import models as cognito_models
from moto.cognitoidp.exceptions import NotAuthorizedError
from moto.cognitoidp.responses import CognitoIdpResponse
from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult

from accounts import pool as pool_definition

Pool = cognito_models.CognitoIdpUserPool
Backend = cognito_models.CognitoIdpBackend
_original_get_user = Pool._get_user
_original_create_tokens_from_refresh_token = Pool.create_tokens_from_refresh_token
_original_update_extended_config = Pool.update_extended_config
_original_create_jwt = Pool.create_jwt
_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}

# Lambda function name → the handler the local Cognito calls in its place.
LOCAL_FUNCTIONS = {pool_definition.PRE_SIGN_UP_FUNCTION: pool_definition.PRE_SIGN_UP_HANDLER}


class UserLambdaValidationException(JsonRESTError):
    def __init__(self, message: str):
        super().__init__("UserLambdaValidationException", message)


def _case_sensitive(user_pool) -> bool:
    return (user_pool.extended_config.get("UsernameConfiguration") or {}).get("CaseSensitive", True)


def get_user(self, username):
    """Find a user by name, ignoring case in a case-insensitive pool."""
    user = _original_get_user(self, username)
    if user is None and username and not _case_sensitive(self):
        folded = username.lower()
        user = next((u for u in self.users.values() if u.username.lower() == folded), None)
    return user


def update_extended_config(self, extended_config):
    """Keep the UsernameConfiguration chosen at creation (AWS cannot change it)."""
    kept = getattr(self, "extended_config", {}).get("UsernameConfiguration")
    _original_update_extended_config(self, extended_config)
    if kept is not None:
        self.extended_config["UsernameConfiguration"] = kept


def create_tokens_from_refresh_token(self, refresh_token):
    """Refuse to refresh for a disabled user, as Cognito does."""
    entry = self.refresh_tokens.get(refresh_token)
    user = self._get_user(entry[1]) if entry else None
    if user is not None and not user.enabled:
        raise NotAuthorizedError("User is disabled.")
    return _original_create_tokens_from_refresh_token(self, refresh_token)


def create_jwt(self, client_id, username, token_use, expires_in=3600, extra_data=None):
    """Sign a token valid for the app client's configured lifetime."""
    client = self.clients.get(client_id)
    kind = {"id": "IdToken", "access": "AccessToken"}.get(token_use)
    if client is not None and kind and client.extended_config.get(f"{kind}Validity"):
        unit = (client.extended_config.get("TokenValidityUnits") or {}).get(kind, "hours")
        expires_in = int(client.extended_config[f"{kind}Validity"]) * _SECONDS[unit]
    return _original_create_jwt(self, client_id, username, token_use, expires_in, extra_data)


def admin_user_global_sign_out(self, user_pool_id, username):
    """Revoke every refresh token (and access token) of the user, named in any case."""
    user = self.admin_get_user(user_pool_id, username)
    self.describe_user_pool(user_pool_id).sign_out(user.username)


def run_pre_sign_up(user_pool, client_id: str, user, client_metadata: dict | None) -> dict:
    """Call the pool's PreSignUp trigger as Cognito does; return its response (or {})."""
    arn = (user_pool.extended_config.get("LambdaConfig") or {}).get("PreSignUp")
    if not arn:
        return {}
    name = arn.rsplit(":", 1)[-1]
    module, _, function = LOCAL_FUNCTIONS[name].rpartition(".")
    event = {
        "version": "1",
        "triggerSource": "PreSignUp_SignUp",
        "region": user_pool.region,
        "userPoolId": user_pool.id,
        "userName": user.username,
        "callerContext": {"awsSdkVersion": "local", "clientId": client_id},
        "request": {"userAttributes": dict(user.attribute_lookup), "validationData": None,
                    "clientMetadata": client_metadata or {}},
        "response": {"autoConfirmUser": False, "autoVerifyEmail": False, "autoVerifyPhone": False},
    }
    try:
        result = getattr(importlib.import_module(module), function)(event, None)
    except Exception as exc:  # Cognito reports a failing trigger this way
        raise UserLambdaValidationException(f"PreSignUp failed with error {exc}.") from exc
    return (result or {}).get("response") or {}


def response_sign_up(self) -> ActionResult:
    """SignUp, passing ClientMetadata on to the backend (moto's drops it)."""
    client_id = self._get_param("ClientId")
    user, details = self._get_region_agnostic_backend()._find_backend_for_clientid(client_id).sign_up(
        client_id=client_id,
        username=self._get_param("Username"),
        password=self._get_param("Password"),
        attributes=self._get_param("UserAttributes", []),
        client_metadata=self._get_param("ClientMetadata"),
    )
    result = {"UserConfirmed": user.status == cognito_models.UserStatus.CONFIRMED, "UserSub": user.id}
    if details:
        result["CodeDeliveryDetails"] = details
    return ActionResult(result)


def install() -> None:
    """Patch moto's user pool, backend and responses (idempotent)."""
    Pool._get_user = get_user
    Pool.update_extended_config = update_extended_config
    Pool.create_tokens_from_refresh_token = create_tokens_from_refresh_token
    Pool.create_jwt = create_jwt
    Backend.admin_user_global_sign_out = admin_user_global_sign_out
    CognitoIdpResponse.sign_up = response_sign_up
