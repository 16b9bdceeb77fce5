"""Two HTTP sessions signed in as one user against the running portal: a password change in
one signs the other out at its next request, and the one that changed it stays in."""

from __future__ import annotations

import re

import pytest
import requests

from .conftest import create_user

pytestmark = pytest.mark.e2e

USER, OLD, NEW = "two-browsers", "Old-pass-1!", "New-pass-2!"


def csrf(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def signed_in(stack, password: str) -> requests.Session:
    session = requests.Session()
    token = csrf(session.get(f"{stack.portal_url}/accounts/login/", timeout=60).text)
    reply = session.post(f"{stack.portal_url}/accounts/login/", allow_redirects=False, timeout=60,
                         data={"csrfmiddlewaretoken": token, "username": USER, "password": password})
    assert reply.status_code == 302, reply.text[-500:]
    return session


def lands_on(session: requests.Session, stack, path: str = "/") -> str:
    reply = session.get(stack.portal_url + path, allow_redirects=False, timeout=60)
    return reply.headers.get("Location", "") if reply.status_code == 302 else str(reply.status_code)


def test_a_password_change_signs_the_other_browser_out(local_stack):
    create_user(local_stack, USER, OLD)
    here, there = signed_in(local_stack, OLD), signed_in(local_stack, OLD)
    assert lands_on(there, local_stack) == "200"
    page = here.get(f"{local_stack.portal_url}/accounts/password_change/", timeout=60).text
    changed = here.post(f"{local_stack.portal_url}/accounts/password_change/", timeout=60, data={
        "csrfmiddlewaretoken": csrf(page), "old_password": OLD, "password1": NEW, "password2": NEW})
    assert "Your other sessions were signed out" in changed.text
    assert lands_on(there, local_stack).startswith("/accounts/login/")
    assert lands_on(here, local_stack) == "200"
    assert lands_on(signed_in(local_stack, NEW), local_stack) == "200"
