"""What answers without a session is exactly what the README's security model calls public:
every parameterless page of the portal is fetched signed out, and the ones that answer (not a
redirect to sign-in, not a 403/404) are compared with the documented list. Runs in about 2 s."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

README = Path(__file__).resolve().parent.parent / "README.md"
# The README's list ("What is public"), as paths.
# (Sign-out and the resend form answer a GET with a redirect or a 405: not pages.)
DOCUMENTED = {"/healthz", "/favicon.ico", "/api/docs/", "/api/openapi.yaml", "/accounts/login/",
              "/accounts/signup/", "/accounts/confirm/", "/accounts/password_reset/",
              "/accounts/password_reset/confirm/"}


def _paths(patterns, prefix="") -> list[str]:
    found = []
    for entry in patterns:
        route = str(entry.pattern)
        if isinstance(entry, URLResolver):
            found += _paths(entry.url_patterns, prefix + route)
        elif isinstance(entry, URLPattern) and "<" not in route and not route.startswith("^"):
            found.append("/" + prefix + route)
    return found


@pytest.mark.django_db
def test_only_the_documented_pages_answer_without_a_session(aws):
    public = set()
    for path in _paths(get_resolver().url_patterns):
        response = Client().get(path)
        signed_out = response.status_code in (301, 302) and "/accounts/login/" in response.get("Location", "")
        if response.status_code < 400 and not signed_out:
            public.add(path)
    assert public == DOCUMENTED


def test_the_readme_names_the_api_docs_as_public():
    section = README.read_text().split("**What is public.**", 1)[1].split("\n\n", 1)[0]
    assert re.search(r"`/api/docs/`", section) and "`/api/openapi.yaml`" in section
