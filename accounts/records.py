"""PynamoDB model of portal sessions, shared by every portal instance. Django-free."""

from __future__ import annotations

from pynamodb.attributes import TTLAttribute, UnicodeAttribute
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


MODELS = (SessionRecord,)
