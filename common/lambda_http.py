"""API Gateway REST proxy events in, proxy responses out: the one place where the API maps
the core's exceptions to HTTP. Django-free (the Lambda package imports it)."""

from __future__ import annotations

import base64
import functools
import json
import logging
import re
from collections.abc import Callable
from typing import Any

from common import logs
from common.errors import AppError, ServiceUnavailable
from common.transient import is_transient

log = logging.getLogger(__name__)

Event = dict[str, Any]
Response = dict[str, Any]


def response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    """A proxy response with a JSON body."""
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", **(headers or {})},
        "body": json.dumps(body),
    }


# How deep a body's arrays and objects may nest: every documented body is one flat object (its
# deepest value a list of strings), and json.loads recurses once per level, so 100,000 "[" would
# end in RecursionError (a 500) rather than a 400.
MAX_JSON_DEPTH = 8
# A JSON string, escapes included; possessive, so a 6 MB base64 string is one run (~30 ms,
# not ~500 ms char by char) and nothing backtracks.
_JSON_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_INNERMOST = re.compile(r"\[\]|\{\}")
_OPEN_RUN = re.compile(r"[\[{]{%d}" % (MAX_JSON_DEPTH + 1))
BAD_BODY = "The body must be a JSON object."


def json_body(event: Event) -> dict:
    """The request's JSON object, or an AppError (400) naming what is wrong."""
    raw = event.get("body") or ""
    if event.get("isBase64Encoded"):
        raw = base64.b64decode(raw).decode("utf-8", "replace")
    if not isinstance(raw, str):
        raise AppError(BAD_BODY)
    if _too_deep(raw):
        raise AppError(f"{BAD_BODY[:-1]}, nested at most {MAX_JSON_DEPTH} levels deep.")
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, TypeError, RecursionError) as exc:
        raise AppError(BAD_BODY) from exc
    if not isinstance(body, dict):
        raise AppError(BAD_BODY)
    if not _valid_text(body):
        # "\ud800" is valid JSON but no Unicode text: it cannot be stored (UTF-8) nor shown.
        raise AppError("The body holds text that is not valid Unicode (a lone surrogate \\ud800-\\udfff).")
    return body


def _too_deep(raw: str) -> bool:
    """Tell whether the brackets outside strings nest deeper than MAX_JSON_DEPTH: each pass
    removes the innermost pairs (in C, linear), so the check costs MAX_JSON_DEPTH passes at most.
    Brackets that do not pair up are left to json.loads to refuse."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", raw))
    for _ in range(MAX_JSON_DEPTH):
        brackets, found = _INNERMOST.subn("", brackets)
        if not found:
            # Unpaired brackets (json.loads refuses them): still too deep if they open a run.
            return bool(_OPEN_RUN.search(brackets))
    return bool(brackets)


def _valid_text(value: Any) -> bool:
    """Tell whether every string in a parsed body (keys included) encodes as UTF-8."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(_valid_text(key) and _valid_text(item) for key, item in value.items())
    if isinstance(value, list):
        return all(_valid_text(item) for item in value)
    return True


def claims(event: Event) -> dict:
    """The ID token's claims that API Gateway's Cognito authorizer passed on."""
    return ((event.get("requestContext") or {}).get("authorizer") or {}).get("claims") or {}


def handler(fail_body: Callable[[AppError], dict]) -> Callable:
    """Wrap a handler: AppError → its status with the route's documented failure body;
    anything else → 500 with the same shape and nothing internal in it."""

    def decorate(func: Callable[[Event], Response]) -> Callable[[Event, Any], Response]:
        @functools.wraps(func)
        def lambda_handler(event: Event, context: Any = None) -> Response:
            request = event.get("requestContext") or {}
            logs.logger.append_keys(request_id=request.get("requestId"),
                                    lambda_request_id=getattr(context, "aws_request_id", None),
                                    route=f"{event.get('httpMethod')} {event.get('resource')}")
            figures, token = logs.begin_figures()
            try:
                reply = func(event)
                logs.logger.info("answered", extra={"status": reply["statusCode"], **figures})
                return reply
            except AppError as exc:
                logs.refused(exc.status, type(exc).__name__, exc.message, figures)
                headers = dict(getattr(exc, "headers", None) or {})
                if exc.retry_after:
                    headers.setdefault("Retry-After", str(exc.retry_after))
                return response(exc.status, fail_body(exc), headers or None)
            except Exception as exc:
                if is_transient(exc):  # AWS busy or unreachable after botocore's retries
                    log.warning("AWS unavailable in %s: %r", func.__name__, exc)
                    busy = ServiceUnavailable()
                    return response(busy.status, fail_body(busy), {"Retry-After": str(busy.retry_after)})
                log.exception("unhandled error in %s", func.__name__)
                return response(500, fail_body(AppError("Internal error; try again later.")))
            finally:
                logs.end_figures(token)
                logs.logger.remove_keys(["request_id", "lambda_request_id", "route"])

        return lambda_handler

    return decorate


def status_msg(exc: AppError) -> dict:
    """The seed's {status: "fail", msg} body (plus what the error adds, e.g. duplicate_of)."""
    return {"status": "fail", "msg": exc.message, **(getattr(exc, "body_extra", None) or {})}
