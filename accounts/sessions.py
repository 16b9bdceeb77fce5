"""Django session store in DynamoDB (SESSION_ENGINE = "accounts.sessions"), so every portal
instance sees the same sessions without a shared database or sticky sessions; and the
per-user mark that ends every session of a user at its next request (end_sessions)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from django.contrib.sessions.backends.base import CreateError, SessionBase, UpdateError
from pynamodb.exceptions import DoesNotExist, PutError

from accounts.records import SessionRecord, SessionsEnded


def _ended_key(username: str) -> str:
    return f"ended#{username.strip().lower()}"  # the pool is case-insensitive


def end_sessions(username: str) -> None:
    """Mark every current session of the user as ended: the user's session auth hash
    (accounts.models.User) changes, so Django signs each one out at its next request.
    The mark never expires: every session made after it carries a hash built from it, and
    would be signed out if it went (one small item per user who ever changed a password)."""
    SessionsEnded(_ended_key(username), at=time.time()).save()


def sessions_ended_at(username: str) -> float | None:
    """When the user's sessions were last ended, if ever."""
    try:
        return SessionsEnded.get(_ended_key(username), consistent_read=True).at
    except DoesNotExist:
        return None


class SessionStore(SessionBase):
    """Sessions as SessionRecord items; DynamoDB's TTL removes expired ones."""

    def _validate_session_key(self, key: str | None) -> bool:
        # Django makes keys of letters and digits; anything else (a forged cookie naming
        # another item of the table) is no session.
        return bool(key) and len(key) >= 8 and key.isascii() and key.isalnum()

    def _get(self, session_key: str) -> SessionRecord | None:
        if not self._validate_session_key(session_key):
            return None
        try:
            record = SessionRecord.get(session_key, consistent_read=True)
        except DoesNotExist:
            return None
        if record.expires_at <= datetime.now(timezone.utc):
            return None
        return record

    def load(self) -> dict:
        record = self._get(self.session_key) if self.session_key else None
        if record is None:
            self._session_key = None
            return {}
        return self.decode(record.data)

    def exists(self, session_key: str) -> bool:
        return self._get(session_key) is not None

    def create(self) -> None:
        while True:
            self._session_key = self._get_new_session_key()
            try:
                self.save(must_create=True)
            except CreateError:
                continue
            self.modified = True
            return

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            return self.create()
        record = SessionRecord(
            self.session_key,
            data=self.encode(self._get_session(no_load=must_create)),
            expires_at=datetime.now(timezone.utc) + timedelta(seconds=self.get_expiry_age()),
        )
        condition = SessionRecord.session_key.does_not_exist() if must_create else SessionRecord.session_key.exists()
        try:
            record.save(condition=condition)
        except PutError as exc:
            if must_create:
                raise CreateError from exc
            raise UpdateError from exc

    def delete(self, session_key: str | None = None) -> None:
        session_key = session_key or self.session_key
        if session_key:
            SessionRecord(session_key).delete()

    @classmethod
    def clear_expired(cls) -> None:
        """DynamoDB's TTL deletes expired sessions."""
