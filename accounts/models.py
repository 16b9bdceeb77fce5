"""The portal's user row: a per-instance cache of the Cognito user, keyed by the Cognito `sub`.

Every portal instance has its own SQLite file, so the row must be rebuildable from the
session alone: its primary key is the `sub` (the same on every instance), its session hash
is derived from the `sub` and the shared "sessions ended at" mark (not from a local
password: passwords live in Cognito only), and the middleware recreates the row from the
session's ID-token claims when an instance has never seen the person.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.crypto import salted_hmac

from accounts.sessions import sessions_ended_at


class User(AbstractUser):
    """A Cognito user. Key: `id` = the Cognito `sub`; `username` = the Cognito username."""

    id = models.CharField(primary_key=True, max_length=64, editable=False)

    @property
    def sub(self) -> str:
        """The Cognito subject (the stable id the catalog stores as owner)."""
        return self.id

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        # Same value on every instance. accounts.sessions.end_sessions() (a password change
        # or reset, a disable) changes it, so Django ends the user's other sessions at their
        # next request; the session that made the change calls update_session_auth_hash().
        ended = sessions_ended_at(self.username)
        value = self.id if ended is None else f"{self.id}:{ended!r}"
        return salted_hmac("accounts.User.session", value, secret=secret, algorithm="sha256").hexdigest()
