"""Idempotency keys: a request retried with the same key runs once and gets the first answer.

Built on the idempotency utility of Powertools for AWS Lambda with its DynamoDB persistence
layer (the IDEMPOTENCY_TABLE; items expire after 24 h through DynamoDB's TTL). Keys are scoped
to the caller (the Cognito sub), so two users can never see each other's answers; the same key
with another payload is refused. Used by POST /images (the Idempotency-Key header) and by the
portal's add form (a one-time token per form). Django-free.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)
from botocore.config import Config as BotoConfig

from common.config import Config, get_config
from common.errors import AppError, Conflict, InvalidInput, ServiceUnavailable

EXPIRES_AFTER_SECONDS = 24 * 60 * 60
# How long a request that died half-way keeps its key "in progress" (then a retry may run).
IN_PROGRESS_SECONDS = 120
KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,255}$")


class IdempotencyKeyReused(AppError):
    code = "idempotency_key_reused"
    status = 422
    default_message = ("This Idempotency-Key was already used with a different request; use a new key "
                       "for a new request.")


class IdempotencyInProgress(Conflict):
    code = "idempotency_in_progress"
    default_message = "A request with this Idempotency-Key is still being processed; try again in a moment."


class _Deadline:
    """What Powertools asks of a Lambda context: the time left, here a fixed window."""

    def get_remaining_time_in_millis(self) -> int:
        return IN_PROGRESS_SECONDS * 1000


@functools.cache
def _store(config: Config) -> DynamoDBPersistenceLayer:
    return DynamoDBPersistenceLayer(table_name=config.idempotency_table,
                                    boto_config=BotoConfig(retries={"mode": "standard"}))


def check_key(key: str) -> str:
    if not isinstance(key, str) or not KEY.match(key):
        raise InvalidInput("Idempotency-Key must be 1 to 255 letters, digits or . _ : -")
    return key


def once(*, scope: str, operation: str, key: str, payload: dict, run: Callable[[], dict]) -> dict:
    """`run()` the first time (scope, operation, key) is seen; the stored answer after that."""
    config = IdempotencyConfig(
        event_key_jmespath="[scope, key]",
        payload_validation_jmespath="payload",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=EXPIRES_AFTER_SECONDS,
    )
    config.register_lambda_context(_Deadline())

    @idempotent_function(data_keyword_argument="request", persistence_store=_store(get_config()),
                         config=config, key_prefix=f"image-manager.{operation}")
    def guarded(request: dict) -> dict:
        return run()

    try:
        return guarded(request={"scope": scope, "key": check_key(key), "payload": payload})
    except IdempotencyValidationError as exc:
        raise IdempotencyKeyReused() from exc
    except IdempotencyAlreadyInProgressError as exc:
        raise IdempotencyInProgress() from exc
    except IdempotencyPersistenceLayerError as exc:
        raise ServiceUnavailable() from exc
