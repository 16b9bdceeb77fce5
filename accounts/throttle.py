"""Sign-in rate limit shared by every portal instance and the API: failed attempts counted
per username and per client address in fixed time windows, in DynamoDB (atomic ADD), so
the limit holds however many instances serve the requests. Django-free."""

from __future__ import annotations

import time
from datetime import datetime, timezone

from pynamodb.exceptions import DoesNotExist, PynamoDBException

from accounts.records import SignInAttempts
from common.config import get_config
from common.errors import AppError, ServiceUnavailable


class TooManyAttempts(AppError):
    """Raised before trying a sign-in once a username or an address has failed too often."""

    code = "too_many_attempts"
    status = 429
    default_message = "Too many failed sign-in attempts. Wait a few minutes and try again."


def _keys(username: str, address: str | None, now: float) -> list[tuple[str, int]]:
    config = get_config()
    window = int(now // config.signin_window_seconds)
    keys = [(f"user#{username.strip().lower()}#{window}", config.signin_max_failures_per_user)]
    if address:
        keys.append((f"addr#{address}#{window}", config.signin_max_failures_per_address))
    return keys


def check(username: str, address: str | None, *, now: float | None = None) -> None:
    """Raise TooManyAttempts if the username or the address is over its limit."""
    now = time.time() if now is None else now
    for key, limit in _keys(username, address, now):
        try:
            failures = SignInAttempts.get(key, consistent_read=True).failures
        except DoesNotExist:
            continue
        except PynamoDBException as exc:
            raise ServiceUnavailable() from exc
        if failures >= limit:
            minutes = max(1, round(get_config().signin_window_seconds / 60))
            raise TooManyAttempts(
                f"Too many failed sign-in attempts. Wait up to {minutes} minutes and try again."
            )


def record_failure(username: str, address: str | None, *, now: float | None = None) -> None:
    """Count one failed sign-in for the username and the address."""
    now = time.time() if now is None else now
    expires = datetime.fromtimestamp(now + get_config().signin_window_seconds, timezone.utc)
    for key, _limit in _keys(username, address, now):
        try:
            SignInAttempts(key).update(
                actions=[SignInAttempts.failures.add(1), SignInAttempts.expires_at.set(expires)]
            )
        except PynamoDBException as exc:
            raise ServiceUnavailable() from exc


def record_success(username: str, *, now: float | None = None) -> None:
    """Forget the username's failures (the address keeps its count)."""
    now = time.time() if now is None else now
    key, _limit = _keys(username, None, now)[0]
    try:
        SignInAttempts(key).delete()
    except PynamoDBException as exc:
        raise ServiceUnavailable() from exc
