"""The portal's one mapping of the core's errors (common.errors) to HTTP answers: a view that
does not handle a domain error itself gets the matching error page, never a 500 for a client's
mistake. (The API's mapping is common.lambda_http.handler.)"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render

from common import errors


class DomainErrorMiddleware:
    """404, 403 and Django's own pages for NotFound and PermissionDenied; a page with the
    message (and Retry-After for 503) for the rest."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
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
