"""Cursors: where the next page of a list or search starts, bound to its query. Django-free."""

from __future__ import annotations

import base64
import binascii
import json

from images.catalog.base import InvalidField


def encode_cursor(key: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, expected: dict[str, str]) -> dict[str, str] | None:
    """The key a cursor holds, checked against the query (and order) it continues; InvalidInput if not."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidField("cursor", "The cursor is not valid.") from exc
    if isinstance(key, dict) and "order" not in key:
        key = {**key, "order": "newest"}  # cursors made before there was a choice of order
    if (
        not isinstance(key, dict)
        or set(key) != set(expected) | {"sort"}
        or not all(isinstance(v, str) for v in key.values())
        or any(key[k] != v for k, v in expected.items())
    ):
        raise InvalidField("cursor", "The cursor is not valid.")
    return key
