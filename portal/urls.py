"""URLs of the portal."""

from django.http import HttpResponse
from django.urls import include, path


def healthz(request):
    """Answer the load balancer's health check without a session."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("", include("images.urls")),
]
