"""Make moto's TransactWriteItems honour ClientRequestToken the way DynamoDB does.

DynamoDB: a TransactWriteItems call repeated with the same ClientRequestToken within 10 minutes
succeeds without running again (so a retry after a lost reply is not mistaken for a conflict);
the same token with other items is an IdempotentParameterMismatchException. Stock moto ignores
the token and runs the retry, which then fails its own conditions. install() patches moto's
response class; used by the emulator and by every in-process test. Relies on moto internals:
moto is pinned in requirements/dev.txt.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time

from moto.core.responses import ActionResult
from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX, DynamodbException
from moto.dynamodb.responses import DynamoHandler

TOKEN_SECONDS = 600
_seen: dict[str, tuple[str, float]] = {}
_lock = threading.Lock()
_original = DynamoHandler.transact_write_items


class IdempotentParameterMismatch(DynamodbException):
    def __init__(self):
        super().__init__(ERROR_TYPE_PREFIX + "IdempotentParameterMismatchException",
                         message="The request uses the same client token as a previous, but non-identical request.")


def transact_write_items(self):
    token = self.body.get("ClientRequestToken")
    if not token:
        return _original(self)
    digest = hashlib.sha256(json.dumps(self.body["TransactItems"], sort_keys=True).encode()).hexdigest()
    now = time.monotonic()
    with _lock:
        for old in [t for t, (_, at) in _seen.items() if now - at > TOKEN_SECONDS]:
            del _seen[old]
        seen = _seen.get(token)
    if seen is not None:
        if seen[0] != digest:
            raise IdempotentParameterMismatch()
        return ActionResult({})  # already done: DynamoDB answers success and writes nothing
    result = _original(self)
    with _lock:
        _seen[token] = (digest, now)
    return result


def install() -> None:
    """Patch moto's DynamoDB responses (idempotent)."""
    DynamoHandler.transact_write_items = transact_write_items
