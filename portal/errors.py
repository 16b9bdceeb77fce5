"""The portal's one mapping of the core's errors (common.errors) to HTTP answers: a view that
does not handle a domain error itself gets the matching error page, never a 500 for a client's
mistake. (The API's mapping is common.lambda_http.handler.)"""

from __future__ import annotations

import sys

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.http import HttpResponse
from django.shortcuts import render
from django.template import loader
from django.views.defaults import server_error as django_server_error

from common import errors
from common.transient import is_transient


class DomainErrorMiddleware:
    """404, 403 and Django's own pages for NotFound and PermissionDenied; a page with the
    message (and Retry-After for 503) for the rest."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if is_transient(exception):  # AWS busy or unreachable after botocore's retries
            exception = errors.ServiceUnavailable()
        if not isinstance(exception, errors.AppError):
            return None
        if isinstance(exception, errors.NotFound):
            raise Http404(exception.message) from exception
        if isinstance(exception, errors.PermissionDenied):
            raise PermissionDenied(exception.message) from exception
        response = render(request, "error.html", {"status": exception.status, "message": exception.message},
                          status=exception.status)
        if exception.retry_after:
            response["Retry-After"] = str(exception.retry_after)
        return response


def server_error(request):
    """Django's handler500: a busy or unreachable AWS met outside a view (e.g. the session
    read in a middleware) is a 503 with Retry-After; anything else the plain 500 page."""
    exception = sys.exc_info()[1]
    if is_transient(exception):
        busy = errors.ServiceUnavailable()
        # Without the request's context: reading the session may be what failed.
        response = HttpResponse(loader.render_to_string("503.html"), status=busy.status)
        response["Retry-After"] = str(busy.retry_after)
        return response
    return django_server_error(request)
