"""Sign-in rate limit shared by every portal instance and the API. Django-free.

Each sign-in first takes a slot from three token buckets, kept in DynamoDB:
- per (username, address): guessing one account from one place (the tight limit);
- per username: guessing one account from many places (a botnet);
- per address: many usernames from one place (credential stuffing), with a ceiling high
  enough that an office behind one public address still signs in.

A bucket is GCRA (the token bucket as one number): `tat`, the "theoretical arrival time".
Every attempt adds window/limit seconds to it, and the attempt is refused if that would put
`tat` more than one window ahead of now. Taking a slot is one conditional UpdateItem
(`tat <= now + window - interval` → ADD interval), which DynamoDB applies atomically: no
read-then-write, so parallel attempts cannot all slip through (an idle bucket is restarted
by another conditional update). Slots are taken BEFORE Cognito sees the password; a wrong
password keeps its slot, a right one resets the username's buckets and gives back the
address's slot, anything else (an outage) gives every slot back.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from pynamodb.exceptions import DoesNotExist, PynamoDBException, UpdateError

from accounts.records import SignInAttempts
from common.config import get_config
from common.errors import AppError, ServiceUnavailable


class TooManyAttempts(AppError):
    """Refused before trying a sign-in: a bucket is empty. `retry_after` in seconds."""

    code = "too_many_attempts"
    status = 429
    default_message = "Too many failed sign-in attempts. Wait a few minutes and try again."

    def __init__(self, retry_after: int):
        minutes = max(1, math.ceil(retry_after / 60))
        when = "a minute" if minutes == 1 else f"{minutes} minutes"
        super().__init__(f"Too many failed sign-in attempts. Try again in {when}.")
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}


def normalise(username: str) -> str:
    """The pool is case-insensitive: ALICE and alice are one account, so one bucket."""
    return username.strip().lower()


def _buckets(username: str, address: str | None) -> list[tuple[str, int, bool]]:
    """(key, limit, reset on success) of every bucket an attempt draws from."""
    config = get_config()
    user = normalise(username)
    buckets = [(f"user#{user}", config.signin_max_failures_per_user, True)]
    if address:
        buckets.insert(0, (f"pair#{user}#{address}", config.signin_max_failures_per_pair, True))
        buckets.append((f"addr#{address}", config.signin_max_failures_per_address, False))
    return buckets


def _expires(now: float, window: int) -> datetime:
    return datetime.fromtimestamp(now + 2 * window, timezone.utc)


def _try_take(key: str, limit: int, now: float) -> bool:
    """Take one slot of the bucket atomically; False if it is empty."""
    window = get_config().signin_window_seconds
    interval = window / limit
    item = SignInAttempts(key)
    try:  # an idle (or new) bucket: restart it at now + interval
        item.update(actions=[SignInAttempts.tat.set(now + interval), SignInAttempts.expires_at.set(_expires(now, window))],
                    condition=SignInAttempts.tat.does_not_exist() | (SignInAttempts.tat < now))
        return True
    except UpdateError as exc:
        if not _condition_failed(exc):
            raise
    try:  # a busy bucket: one more slot, unless that goes past one window ahead
        item.update(actions=[SignInAttempts.tat.add(interval), SignInAttempts.expires_at.set(_expires(now, window))],
                    condition=SignInAttempts.tat <= now + window - interval)
        return True
    except UpdateError as exc:
        if not _condition_failed(exc):
            raise
        return False


def _condition_failed(exc: UpdateError) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


def _give_back(key: str, limit: int) -> None:
    """Return one slot (tat going below now just means a full bucket)."""
    window = get_config().signin_window_seconds
    SignInAttempts(key).update(actions=[SignInAttempts.tat.add(-window / limit),
                                        SignInAttempts.expires_at.set(_expires(time.time(), window))])


def _wait(key: str, limit: int, clock: Callable[[], float]) -> float:
    """Seconds until the bucket has a slot again, by the clock read after the bucket is."""
    window = get_config().signin_window_seconds
    try:
        tat = SignInAttempts.get(key, consistent_read=True).tat
    except DoesNotExist:
        return 0.0
    return (tat or 0.0) + window / limit - window - clock()


def _take(key: str, limit: int, clock: Callable[[], float]) -> int:
    """Take one slot: 0 when taken, else the whole seconds until the bucket has one again.

    A slot that frees within a second is waited for, once. The clock is read before the
    request reaches DynamoDB, so of attempts made at once, one whose clock was read a moment
    before another's can find the bucket ahead of it by that moment: refusing it would count
    fewer than `limit` failures and tell it to come back in a minute."""
    if _try_take(key, limit, clock()):
        return 0
    wait = _wait(key, limit, clock)
    if wait <= 1:
        time.sleep(max(0.0, wait))
        if _try_take(key, limit, clock()):
            return 0
        wait = _wait(key, limit, clock)
    return max(1, math.ceil(wait))


@dataclass
class Permit:
    """The slots one sign-in attempt holds; settle it with failed(), succeeded() or release()."""

    taken: list[tuple[str, int, bool]] = field(default_factory=list)

    def failed(self) -> None:
        """A wrong password or an unknown user: the slots stay taken."""
        self.taken = []

    def succeeded(self) -> None:
        """The right password: forget the username's failures, give the address its slot back."""
        with _unavailable():
            for key, limit, reset in self.taken:
                if reset:
                    SignInAttempts(key).delete()
                else:
                    _give_back(key, limit)
        self.taken = []

    def release(self) -> None:
        """No verdict on the password (an outage, say): give every slot back."""
        with _unavailable():
            for key, limit, _reset in self.taken:
                _give_back(key, limit)
        self.taken = []


class _unavailable:
    """Turn DynamoDB failures into ServiceUnavailable."""

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is not None and isinstance(exc, PynamoDBException):
            raise ServiceUnavailable() from exc
        return False


def acquire(username: str, address: str | None, *, now: float | None = None) -> Permit:
    """Take a slot from each bucket, or raise TooManyAttempts (holding none)."""
    clock = time.time if now is None else (lambda: now)
    permit = Permit()
    with _unavailable():
        for key, limit, reset in _buckets(username, address):
            retry_after = _take(key, limit, clock)
            if retry_after:
                permit.release()
                raise TooManyAttempts(retry_after)
            permit.taken.append((key, limit, reset))
    return permit
