"""URLs of the portal."""

from functools import cache
from pathlib import Path

from csp.decorators import csp_update
from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe
from django.views.generic import TemplateView

FAVICON = Path(__file__).resolve().parent / "static" / "portal" / "favicon.ico"
# The one route table of the REST API, shipped in the portal's bundle for /api/docs/.
OPENAPI = Path(__file__).resolve().parent.parent / "infra" / "openapi.yaml"


def healthz(request):
    """Answer the load balancer's health check without a session."""
    return HttpResponse("ok", content_type="text/plain")


@cache
def _favicon() -> bytes:
    return FAVICON.read_bytes()


@require_safe
@cache_control(public=True, max_age=86400)
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page links; pages link the static copy."""
    return HttpResponse(_favicon(), content_type="image/vnd.microsoft.icon")


@require_safe
def openapi_document(request):
    """infra/openapi.yaml as it is: the file API Gateway and the local gateway route by."""
    return HttpResponse(OPENAPI.read_bytes(), content_type="application/yaml; charset=utf-8")


# Swagger UI's stylesheet draws its icons as data: SVGs; the rest of the policy stays as it is.
api_docs = csp_update({"img-src": ["data:"]})(require_safe(TemplateView.as_view(template_name="portal/api_docs.html")))

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("api/docs/", api_docs, name="api_docs"),
    path("api/openapi.yaml", openapi_document, name="openapi"),
    path("accounts/", include("accounts.urls")),
    path("", include("images.urls")),
]

handler500 = "portal.errors.server_error"
