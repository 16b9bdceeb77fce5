"""Keep the portal session in step with Cognito, on whichever instance the request lands."""

from __future__ import annotations

import logging

from django.contrib import auth, messages

from accounts import cognito
from accounts.backends import SESSION_KEY, session_data, sync_user, token_expired
from accounts.models import User
from accounts.tokens import InvalidToken, verify_id_token
from common.errors import ServiceUnavailable

log = logging.getLogger(__name__)


class CognitoSessionMiddleware:
    """After AuthenticationMiddleware: refresh an expired ID token with the refresh token
    (silently); sign the person out cleanly when Cognito refuses the refresh token (revoked
    or expired); and build this instance's user row from the session's claims the first
    time the person reaches this instance."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        self.process(request)
        return self.get_response(request)

    def process(self, request) -> None:
        session = request.session
        user_id = session.get(auth.SESSION_KEY)
        data = session.get(SESSION_KEY)
        if not user_id or not data:
            return  # signed out, or a session made without Cognito (tests' force_login)
        if token_expired(data):
            try:
                tokens = cognito.refresh(data["refresh_token"])
                claims = verify_id_token(tokens.id_token)
                if claims["sub"] != user_id:
                    raise InvalidToken()
            except (cognito.SessionEnded, InvalidToken):
                auth.logout(request)
                messages.info(request, "Your session has ended. Please sign in again.")
                return
            except ServiceUnavailable:
                # Keep the person signed in through a Cognito outage; retry next request.
                log.warning("could not refresh the Cognito tokens; will retry", exc_info=True)
                self.ensure_user(user_id, data["claims"])
                return
            session[SESSION_KEY] = session_data(tokens, claims)
            sync_user(claims)
            return
        self.ensure_user(user_id, data["claims"])

    @staticmethod
    def ensure_user(user_id: str, claims: dict) -> None:
        """Create this instance's row for the session's user if it has none yet."""
        if not User.objects.filter(pk=user_id).exists():
            sync_user(claims)
