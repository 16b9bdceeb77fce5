"""Record the AWS calls a local process makes, for the end-to-end tests' permission check
(tests/infra/recorded.py): with AWS_CALL_LOG set to a folder, every botocore call (boto3 and
PynamoDB alike) and every presigned URL or POST the process signs is appended to a JSON-lines
file there, with the role that would make it in AWS and where in the code it came from. Only
the names IAM authorises by are kept (tables, indexes, bucket, key, pool, secret): no item,
body or credential is written.

The portal's process is the instance role ("portal"); the local gateway names the Lambda
handler it is running ("handler:<module.function>"), which Terraform maps to its function."""

from __future__ import annotations

import contextlib
import contextvars
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROLE = contextvars.ContextVar("aws_call_role", default="portal")
WHERE = contextvars.ContextVar("aws_call_where", default="")

_NAMES = ("TableName", "IndexName", "Bucket", "Prefix", "UserPoolId", "DistributionId", "SecretId")
_lock = threading.Lock()
_file = None


@contextlib.contextmanager
def acting(role: str, where: str) -> Iterator[None]:
    """Calls made inside are `role`'s, made for `where` (a route or a page)."""
    tokens = ROLE.set(role), WHERE.set(where)
    try:
        yield
    finally:
        WHERE.reset(tokens[1])
        ROLE.reset(tokens[0])


def wrap_wsgi(application):
    """A WSGI application whose requests name their method and path as `where`."""
    def wrapped(environ, start_response):
        with acting(ROLE.get(), f"{environ.get('REQUEST_METHOD', '')} {environ.get('PATH_INFO', '')}"):
            return application(environ, start_response)
    return wrapped


def slim(service: str, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters IAM authorises a call by, and nothing else (an S3 key, never an item's)."""
    kept = {name: params[name] for name in _NAMES if name in params}
    if service == "s3" and "Key" in params:
        kept["Key"] = params["Key"]
    source = params.get("CopySource")
    if source is not None:
        kept["CopySource"] = source if isinstance(source, str) else {"Bucket": source["Bucket"], "Key": source["Key"]}
    if "TransactItems" in params:
        kept["TransactItems"] = [{kind: {"TableName": body["TableName"]}}
                                 for item in params["TransactItems"] for kind, body in item.items()]
    if "RequestItems" in params:
        kept["RequestItems"] = {name: {} for name in params["RequestItems"]}
    if "Objects" in (params.get("Delete") or {}):
        kept["Delete"] = {"Objects": [{"Key": o["Key"]} for o in params["Delete"]["Objects"]]}
    return kept


def _write(service: str, operation: str, params: dict[str, Any]) -> None:
    line = json.dumps({"role": ROLE.get(), "where": WHERE.get(), "service": service, "operation": operation,
                       "params": params}, sort_keys=True)
    with _lock:
        _file.write(line + "\n")
        _file.flush()


def _keep_params(params: dict, model, context: dict, **_: Any) -> None:
    context["call_log_params"] = slim(model.service_model.endpoint_prefix, params)


def _before_call(model, context: dict, **_: Any) -> None:
    _write(model.service_model.endpoint_prefix, model.name, context.get("call_log_params", {}))


def _before_sign(request, operation_name: str, **_: Any) -> None:
    # A presigned URL or POST is signed, not called: S3 authorises it as the signing role when
    # a browser follows the URL or posts the form.
    fields = request.context.get("s3-presign-post-fields")
    if fields is not None and operation_name == "PutObject":
        policy = request.context["s3-presign-post-policy"]
        bucket = next(c["bucket"] for c in policy["conditions"] if isinstance(c, dict) and "bucket" in c)
        _write("s3", "PresignedPost", {"Bucket": bucket, "Key": fields["key"]})
    elif request.context.get("is_presign_request") and "call_log_params" in request.context:
        _write("s3", operation_name, request.context["call_log_params"])


def install() -> bool:
    """Record this process's calls if AWS_CALL_LOG names a folder; call before any client is made."""
    global _file
    folder = os.environ.get("AWS_CALL_LOG")
    if not folder or _file is not None:
        return False
    from botocore import handlers

    Path(folder).mkdir(parents=True, exist_ok=True)
    _file = open(Path(folder) / f"calls-{os.getpid()}.jsonl", "a", encoding="utf-8")  # noqa: SIM115 (process-long)
    handlers.BUILTIN_HANDLERS.extend([
        ("before-parameter-build", _keep_params),
        ("before-call", _before_call),
        ("before-sign.s3", _before_sign),
    ])
    return True
