"""Django session store in DynamoDB (SESSION_ENGINE = "accounts.sessions"), so every portal
instance sees the same sessions without a shared database or sticky sessions."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from django.contrib.sessions.backends.base import CreateError, SessionBase, UpdateError
from pynamodb.exceptions import DoesNotExist, PutError

from accounts.records import SessionRecord


class SessionStore(SessionBase):
    """Sessions as SessionRecord items; DynamoDB's TTL removes expired ones."""

    def _get(self, session_key: str) -> SessionRecord | None:
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
