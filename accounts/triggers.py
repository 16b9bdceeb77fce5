"""Cognito trigger Lambda handlers. Django-free (bundled with the API's handlers).

pre_sign_up confirms a user in place, so Cognito sends no confirmation mail, only when the
deployment opted in to the seed's instant API sign-up (API_SIGNUP_REQUIRES_CONFIRMATION
false) and POST /users asked for it (pool.INSTANT_SIGN_UP_METADATA). ClientMetadata comes
from the caller: anyone can send it to Cognito's public SignUp, but then gets no more than
POST /users gives anyone when the deployment opted in; by default it is ignored.
"""

from __future__ import annotations

import logging

from accounts.pool import INSTANT_SIGN_UP_METADATA
from accounts.usernames import USERNAME_RULES, is_new_username
from common.config import get_config

log = logging.getLogger(__name__)


def pre_sign_up(event: dict, context: object = None) -> dict:
    """PreSignUp trigger: refuse a username outside the rule (accounts.usernames: a direct call
    to Cognito's public SignUp skips the portal and the API); auto-confirm an instant API
    sign-up (email left unverified)."""
    if not is_new_username(event.get("userName") or ""):
        raise ValueError(f"The username must have {USERNAME_RULES}")
    request = event.get("request") or {}
    metadata = request.get("clientMetadata") or {}
    instant = (
        event.get("triggerSource") == "PreSignUp_SignUp"
        and not get_config().api_signup_requires_confirmation
        and all(metadata.get(name) == value for name, value in INSTANT_SIGN_UP_METADATA.items())
    )
    if instant:
        event.setdefault("response", {})["autoConfirmUser"] = True
        log.info("instant sign-up confirmed: %s", event.get("userName"))
    return event
