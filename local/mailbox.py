"""Mail the local Cognito would send (confirmation and reset codes): printed, like Django's
console email backend, and kept for GET /_local/mailbox on the emulator so tests can read it.
The messages are part of the emulator's saved state (local/state.py), so codes mailed before
a restart can still be read after it, like the users waiting for them."""

from __future__ import annotations

import collections
import datetime
import sys
import threading

_lock = threading.Lock()
_messages: collections.deque[dict] = collections.deque(maxlen=500)


def deliver(*, to: str, username: str, subject: str, body: str, code: str | None = None) -> None:
    """Print a message and keep it for the mailbox endpoint."""
    message = {
        "to": to,
        "username": username,
        "subject": subject,
        "body": body,
        "code": code,
        "sent_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
    }
    with _lock:
        _messages.append(message)
    print(f"[local mail] to {to} ({username}): {subject}\n    {body}", file=sys.stderr, flush=True)


def messages(username: str | None = None) -> list[dict]:
    """Messages sent so far, oldest first, optionally for one username."""
    with _lock:
        return [m for m in _messages if username is None or m["username"] == username]


def replace(saved: list[dict]) -> None:
    """Put back the messages of a saved state (oldest first)."""
    with _lock:
        _messages.clear()
        _messages.extend(saved)
