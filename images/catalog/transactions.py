"""Commit one change as one DynamoDB transaction, and tell its failures apart by cause.

- A failed condition (someone else's version, a missing record) is the caller's to answer: 409
  or 404, decided by `on_condition`.
- Throttling and transient faults have been retried with backoff by botocore; what still fails
  is a ServiceUnavailable (503, Retry-After) and nothing changed.
- A reply lost after DynamoDB may have committed (a timeout) is settled, not guessed: every
  transaction carries a ClientRequestToken (a retry with it is not run twice) and writes its
  history entry with that token, so one consistent read says whether the change is in.
Anything else (a validation error is a bug) propagates as it is. Django-free.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, GetError, PynamoDBException, TransactWriteError
from pynamodb.transactions import TransactWrite

from common.errors import AppError, ServiceUnavailable
from common.transient import TRANSIENT_CODES
from images.records import ImageHistory, ImageRecord

log = logging.getLogger(__name__)

# Reasons inside a TransactionCanceledException that are transient, not the caller's fault.
TRANSIENT_REASONS = frozenset({"ThrottlingError", "TransactionConflict", "ProvisionedThroughputExceeded"})


class Unsettled(ServiceUnavailable):
    """The transaction's outcome is unknown (no reply, and the check could not be made)."""


def connection() -> Connection:
    return ImageRecord._get_connection().connection


def new_token() -> str:
    """A ClientRequestToken (at most 36 characters)."""
    return uuid.uuid4().hex


def committed(image_id: str, version: int, token: str) -> bool:
    """Whether the change with this token is in: its history entry exists (one consistent read)."""
    try:
        entry = ImageHistory.get(image_id, version, consistent_read=True)
    except DoesNotExist:
        return False
    return entry.request == token


def commit(build: Callable[[TransactWrite], None], *, image_id: str, version: int, token: str,
           on_condition: Callable[[], AppError]) -> None:
    """Run one transaction; map its failure to the domain's errors (see the module docstring)."""
    try:
        with TransactWrite(connection=connection(), client_request_token=token) as tx:
            build(tx)
        return
    except TransactWriteError as exc:
        # Not exc.cause_response_code: a timeout's cause has `response = None`, which it trips on.
        code = ((getattr(exc.cause, "response", None) or {}).get("Error") or {}).get("Code")
        reasons = {r.code for r in exc.cancellation_reasons if r is not None} if code else set()
        if code == "TransactionCanceledException" and "ConditionalCheckFailed" in reasons:
            # A retry (by botocore, after a lost reply) of a transaction that had committed
            # fails its own conditions; the token in the history entry tells.
            if _settle(image_id, version, token):
                return
            raise on_condition() from exc
        if (code == "TransactionCanceledException" and reasons & TRANSIENT_REASONS) or code in TRANSIENT_CODES:
            raise ServiceUnavailable() from exc
        if code is None and isinstance(exc.cause, BotoCoreError):  # no reply at all
            if _settle(image_id, version, token):
                return
            raise Unsettled() from exc
        raise


def _settle(image_id: str, version: int, token: str) -> bool:
    try:
        return committed(image_id, version, token)
    except (GetError, PynamoDBException) as exc:
        log.warning("could not tell whether change %s of image %s committed", token, image_id)
        raise Unsettled("The change may or may not have been saved; look at the image before trying "
                        "again.") from exc


def s3_call(what: str, call: Callable[[], object]) -> object:
    """Run one S3 call (already retried by botocore); a transient failure becomes a 503."""
    try:
        return call()
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code in TRANSIENT_CODES or status >= 500:
            raise ServiceUnavailable() from exc
        raise
    except BotoCoreError as exc:
        log.warning("%s failed: %s", what, exc)
        raise ServiceUnavailable() from exc
