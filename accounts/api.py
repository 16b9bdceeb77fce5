"""Lambda handlers of POST /users (sign up) and POST /users/token (sign in), API Gateway REST
proxy events in and out. Django-free: the Lambda package is the core plus these handlers."""

from __future__ import annotations

import logging
import re

from accounts import cognito, throttle
from accounts.pool import INSTANT_SIGN_UP_METADATA
from common.config import get_config
from common.errors import InvalidInput
from common.lambda_http import Event, Response, handler, json_body, response, status_msg

log = logging.getLogger(__name__)

_USERNAME = re.compile(r"^[\w.@+-]{1,128}\Z")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+\Z")


def _text(body: dict, name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"'{name}' is required.")
    # Only the email is trimmed: a username is checked as sent (the spec's pattern has no spaces).
    return value.strip() if name == "email" else value


def _credentials(body: dict) -> tuple[str, str]:
    username, password = _text(body, "username"), _text(body, "password")
    if not _USERNAME.match(username):
        raise InvalidInput("'username' may have up to 128 letters, digits and @/./+/-/_ only.")
    return username, password


def _source_ip(event: Event) -> str | None:
    return ((event.get("requestContext") or {}).get("identity") or {}).get("sourceIp")


@handler(status_msg)
def create_user(event: Event) -> Response:
    """POST /users {username, password, email}: make a Cognito user."""
    body = json_body(event)
    username, password = _credentials(body)
    email = _text(body, "email")
    if not _EMAIL.match(email):
        raise InvalidInput("'email' must be an email address.")
    instant = not get_config().api_signup_requires_confirmation
    result = cognito.sign_up(username, email, password, metadata=INSTANT_SIGN_UP_METADATA if instant else None)
    if result.confirmed:
        msg = "User created."
    else:
        if instant:  # the deployment opted in, but the PreSignUp trigger did not confirm
            log.error("instant sign-up of %s was not confirmed: is the PreSignUp trigger attached?", username)
        msg = f"User created. Confirm it with the code sent to {result.destination or email}."
    return response(201, {"status": "success", "msg": msg})


@handler(status_msg)
def create_token(event: Event) -> Response:
    """POST /users/token {username, password}: sign in with SRP; answer the ID token."""
    body = json_body(event)
    username, password = _credentials(body)
    permit = throttle.acquire(username, _source_ip(event))
    try:
        tokens = cognito.sign_in(username, password)
    except cognito.InvalidCredentials:
        permit.failed()
        raise
    except BaseException:
        permit.release()
        raise
    permit.succeeded()
    return response(200, {"status": "success", "id_token": tokens.id_token, "expires_in": tokens.expires_in})
