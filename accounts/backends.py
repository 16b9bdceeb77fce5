"""Sign in against Cognito with SRP, and keep the Cognito tokens in the (DynamoDB) session.

The Django user row is a per-instance cache keyed by the Cognito `sub`; everything needed
to rebuild it (the ID token's claims) travels in the session, which every instance shares.
"""

from __future__ import annotations

import time

from django.contrib.auth import user_logged_in
from django.contrib.auth.backends import BaseBackend
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.dispatch import receiver

from accounts import cognito
from accounts.models import User
from accounts.tokens import InvalidToken, verify_id_token

# Session key of the Cognito tokens: {"id_token", "access_token", "refresh_token",
# "expires_at" (unix time of the ID token's exp), "claims" (the few claims we use)}.
SESSION_KEY = "cognito"
_KEPT_CLAIMS = ("sub", "cognito:username", "email", "cognito:groups", "exp")


def sync_user(claims: dict) -> User:
    """Create or update this instance's row for the ID token's user."""
    sub, username = claims["sub"], claims["cognito:username"]
    values = {"username": username, "email": claims.get("email", ""), "is_staff": cognito.is_staff(claims),
              "is_active": True}
    with transaction.atomic():
        # A Cognito user deleted and re-created under the same name has a new sub.
        User.objects.filter(username=username).exclude(pk=sub).delete()
        user = User.objects.filter(pk=sub).first()
        if user is None:
            return User.objects.create(pk=sub, password=make_password(None), **values)
        if any(getattr(user, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(user, name, value)
            user.save(update_fields=list(values))
    return user


def session_data(tokens: cognito.Tokens, claims: dict) -> dict:
    """What the session keeps of a sign-in or a refresh."""
    return {
        "id_token": tokens.id_token,
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "expires_at": int(claims["exp"]),
        "claims": {name: claims[name] for name in _KEPT_CLAIMS if name in claims},
    }


def token_expired(data: dict, *, margin: int = 60, now: float | None = None) -> bool:
    """Whether the session's ID token has expired (or will within `margin` seconds)."""
    now = time.time() if now is None else now
    return now >= int(data.get("expires_at", 0)) - margin


class CognitoBackend(BaseBackend):
    """Authenticate with Cognito SRP. Returns None for a wrong password or an unknown user;
    raises cognito.UserNotConfirmed (and other AppErrors: throttling, an outage) so the
    sign-in form can say what to do."""

    def authenticate(self, request, username: str | None = None, password: str | None = None, **kwargs):
        if not username or not password:
            return None
        try:
            tokens = cognito.sign_in(username, password)
            claims = verify_id_token(tokens.id_token)
        except (cognito.InvalidCredentials, InvalidToken):
            return None
        user = sync_user(claims)
        # Written to the session by on_login, after login() has cycled the session.
        user.cognito_session = session_data(tokens, claims)
        return user

    def get_user(self, user_id):
        return User.objects.filter(pk=user_id, is_active=True).first()


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs) -> None:
    """Keep the sign-in's Cognito tokens in the new session."""
    data = getattr(user, "cognito_session", None)
    if data is not None and request is not None:
        request.session[SESSION_KEY] = data
