"""Cursors: where the next page of a list or search starts, signed and bound to its query.

A cursor is base64url(JSON of the position and the query it continues) "." base64url(HMAC-SHA256
of that JSON). Any change to any byte fails the MAC, and a cursor of another query or order
fails the comparison with what the request asks: both are a 400, never a silently wrong page.
The key comes from configuration (CURSOR_SECRET, or in AWS the Secrets Manager secret named by
CURSOR_SECRET_ARN); rotating it ends the cursors handed out before, nothing else. Django-free.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json

from common.config import get_config
from images.catalog.base import InvalidField

_INVALID = "The cursor is not valid: follow the Link (or X-Next-Cursor) of the page before, unchanged."
# Seconds a secret fetched from Secrets Manager is reused before it is read again (rotation).
SECRET_MAX_AGE = 300


def _secret() -> bytes:
    config = get_config()
    if config.cursor_secret_arn:
        from aws_lambda_powertools.utilities import parameters  # only in AWS: a cached read

        return str(parameters.get_secret(config.cursor_secret_arn, max_age=SECRET_MAX_AGE)).encode()
    return config.cursor_secret.encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(payload: bytes) -> bytes:
    return hmac.new(_secret(), payload, hashlib.sha256).digest()


def encode_cursor(key: dict[str, str]) -> str:
    """A signed cursor holding `key` (the query's fields and where the next page starts)."""
    payload = json.dumps(key, separators=(",", ":"), sort_keys=True).encode()
    return f"{_b64(payload)}.{_b64(_mac(payload))}"


def decode_cursor(cursor: str | None, expected: dict[str, str]) -> dict[str, str] | None:
    """The key a cursor holds, if its signature is good and it continues `expected`; else 400."""
    if not cursor:
        return None
    try:
        payload_text, mac_text = cursor.split(".")
        payload, mac = _unb64(payload_text), _unb64(mac_text)
    except (ValueError, binascii.Error) as exc:
        raise InvalidField("cursor", _INVALID) from exc
    if not hmac.compare_digest(mac, _mac(payload)):
        raise InvalidField("cursor", _INVALID)
    try:
        key = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:  # signed by us, so only with a leaked key
        raise InvalidField("cursor", _INVALID) from exc
    # Exactly the query's fields and the position: a cursor of a query with more fields (a
    # search's "q" sent to the plain list) continues another query.
    if (
        not isinstance(key, dict)
        or set(key) != {*expected, "sort"}
        or not all(isinstance(v, str) for v in key.values())
        or any(key[k] != v for k, v in expected.items())
    ):
        raise InvalidField("cursor", _INVALID)
    return key
