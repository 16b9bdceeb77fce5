"""The portal's logs: one JSON object a line (Powertools' formatter, as the Lambdas write
them) with the request's id on every line logged while it is handled. The id comes from the
load balancer's X-Amzn-Trace-Id (or X-Request-Id) when it is sane, else a new one, and goes
back as X-Request-Id. A failed sign-in is logged (the username only, never the password), and
a refusal the portal means (403, 404) is one line with its reason, not a stack trace."""

from __future__ import annotations

import contextvars
import logging
import re
import uuid

from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from django.http import Http404

_REQUEST_ID = contextvars.ContextVar("request_id", default=None)
_SANE = re.compile(r"[A-Za-z0-9=;.:_-]{8,200}")
log = logging.getLogger("portal.security")


class RequestIdMiddleware:
    """First in MIDDLEWARE: every line logged while a request is handled carries its id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Amzn-Trace-Id") or request.headers.get("X-Request-Id") or ""
        request_id = given if _SANE.fullmatch(given) else uuid.uuid4().hex
        token = _REQUEST_ID.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _REQUEST_ID.reset(token)
        response["X-Request-Id"] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on each record (the JSON formatter writes it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _REQUEST_ID.get()
        return True


class ExpectedRefusalFilter(logging.Filter):
    """On django.request: a 403 or 404 raised on purpose (PermissionDenied, Http404) is logged
    as its one line and reason; the stack trace would only say where the view said no."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, (PermissionDenied, Http404)):
            record.reason = str(exc)
            record.exc_info, record.exc_text = None, None
        return True


@receiver(user_login_failed)
def _sign_in_failed(sender, credentials, request=None, **kwargs):
    log.warning("sign-in refused", extra={"username": str(credentials.get("username", ""))[:150]})
