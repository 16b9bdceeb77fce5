"""Keep the portal session in step with Cognito (filled in below)."""

from __future__ import annotations


class CognitoSessionMiddleware:
    """Refresh expired ID tokens; end sessions Cognito no longer honours."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)
