"""Sign-up over HTTP against the running stack (which opts in to instant API sign-up): POST
/users is confirmed by the PreSignUp trigger inside the emulator's Cognito and no mail is
sent; the portal's sign-up still mails a code."""

from __future__ import annotations

import re

import pytest
import requests

pytestmark = pytest.mark.e2e

PASSWORD = "Mail-less-1!"


def mailbox(stack, username: str) -> list[dict]:
    return requests.get(f"{stack.emulator_url}/_local/mailbox", params={"username": username}, timeout=30).json()


def test_instant_api_sign_up_sends_no_mail_and_the_portal_sign_up_does(local_stack):
    created = requests.post(f"{local_stack.api_url}/users", timeout=30,
                            json={"username": "no-mail", "password": PASSWORD, "email": "no-mail@example.com"})
    assert created.status_code == 201 and created.json() == {"status": "success", "msg": "User created."}
    token = requests.post(f"{local_stack.api_url}/users/token", json={"username": "no-mail", "password": PASSWORD},
                          timeout=30)
    assert token.status_code == 200
    assert mailbox(local_stack, "no-mail") == []

    session = requests.Session()
    page = session.get(f"{local_stack.portal_url}/accounts/signup/", timeout=30).text
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    signed_up = session.post(f"{local_stack.portal_url}/accounts/signup/", allow_redirects=False, timeout=30, data={
        "csrfmiddlewaretoken": csrf, "username": "with-mail", "email": "with-mail@example.com",
        "password1": PASSWORD, "password2": PASSWORD})
    assert signed_up.status_code == 302 and "/accounts/confirm/" in signed_up.headers["Location"]
    assert [m["subject"] for m in mailbox(local_stack, "with-mail")] == ["Your verification code"]
