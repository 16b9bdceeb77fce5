"""PynamoDB model of portal sessions, shared by every portal instance. Django-free."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.models import Model

from common.config import get_config

_config = get_config()


class SessionRecord(Model):
    """One Django session. Key: session_key (Django's random key).

    DynamoDB's TTL removes the item after `expires_at`; readers also treat an expired
    item as absent, since TTL deletion can lag by hours.
    """

    class Meta:
        table_name = _config.sessions_table
        region = _config.aws_region

    session_key = UnicodeAttribute(hash_key=True)
    data = UnicodeAttribute()
    expires_at = TTLAttribute()


class SessionsEnded(Model):
    """When every portal session of a user was last ended (a password change or reset, a
    disable). Kept in the sessions table under "ended#<username>": Django's session keys are
    letters and digits only, so no session can be read as one (accounts/sessions.py)."""

    class Meta:
        table_name = _config.sessions_table
        region = _config.aws_region

    session_key = UnicodeAttribute(hash_key=True)
    at = NumberAttribute()
    # Unset from now on (accounts.sessions.end_sessions); marks written before still carry one.
    expires_at = TTLAttribute(null=True)


class SignInAttempts(Model):
    """One sign-in token bucket (accounts/throttle.py). Key: "pair#<username>#<address>",
    "user#<username>" or "addr#<address>".

    `tat` (unix seconds) only changes by conditional or atomic updates, so concurrent
    instances never lose an attempt; the item expires (TTL) once its bucket is full again.
    """

    class Meta:
        table_name = _config.signin_attempts_table
        region = _config.aws_region

    key = UnicodeAttribute(hash_key=True)
    tat = NumberAttribute(null=True)
    expires_at = TTLAttribute()


MODELS = (SessionRecord, SignInAttempts)
