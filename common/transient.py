"""Tell a busy or unreachable AWS from a bug: the one test both faces use to answer 503 with
Retry-After (botocore has already retried with backoff) instead of 500. Django-free."""

from __future__ import annotations

from botocore.exceptions import ClientError, HTTPClientError

# DynamoDB and S3 answers that mean "busy or briefly broken, try again later".
TRANSIENT_CODES = frozenset({
    "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
    "InternalServerError", "ServiceUnavailable", "TransactionInProgressException",
    "TransactionConflictException", "SlowDown", "InternalError", "RequestTimeout", "503", "500",
})


def is_transient(exc: BaseException | None) -> bool:
    """Whether `exc`, or what caused it (PynamoDB keeps the botocore error as `cause`), is a
    throttle, a 5xx or a connection that failed or timed out."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, HTTPClientError):  # timeouts, refused and dropped connections
            return True
        if isinstance(exc, ClientError):
            code = str(exc.response.get("Error", {}).get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0
            return code in TRANSIENT_CODES or status >= 500
        exc = getattr(exc, "cause", None) or exc.__cause__ or exc.__context__
    return False
