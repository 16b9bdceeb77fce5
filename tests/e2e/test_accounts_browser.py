"""A real headless Chromium (Debian's) on the local stack: sign up, read the code from the
local mailbox, confirm, sign in, sign out, and see the wrong-password message."""

from __future__ import annotations

import uuid

import pytest
import requests

pytestmark = pytest.mark.e2e
PASSWORD = "Browser-pass-1"


def mailed_code(stack, username: str) -> str:
    messages = requests.get(f"{stack.emulator_url}/_local/mailbox", params={"username": username}, timeout=10).json()
    codes = [m["code"] for m in messages if m.get("code")]
    assert codes, f"no code mailed to {username}: {messages}"
    return codes[-1]


def test_sign_up_confirm_sign_in_sign_out_in_a_browser(local_stack, new_context, artifacts_dir):
    username = f"eve{uuid.uuid4().hex[:8]}"
    page = new_context().new_page()
    try:
        page.goto(f"{local_stack.portal_url}/accounts/signup/")
        assert "At least 8 characters" in page.content()
        page.fill("input[name=username]", username)
        page.fill("input[name=email]", f"{username}@example.com")
        page.fill("input[name=password1]", PASSWORD)
        page.fill("input[name=password2]", PASSWORD)
        with page.expect_navigation():
            page.click("#account-form [type=submit]")
        assert "/accounts/confirm/" in page.url
        assert "We emailed a confirmation code" in page.inner_text("ul.messagelist")

        # A wrong code is refused; the mailed one confirms.
        code = mailed_code(local_stack, username)
        page.fill("input[name=code]", "000000" if code != "000000" else "111111")
        with page.expect_navigation():
            page.click("#confirm-form [type=submit]")
        assert "The code is not correct" in page.content()
        page.fill("input[name=code]", code)
        with page.expect_navigation():
            page.click("#confirm-form [type=submit]")
        assert "/accounts/login/" in page.url
        assert "Your account is confirmed" in page.inner_text("ul.messagelist")

        # Sign in (the username is filled in from the confirmation).
        assert page.input_value("input[name=username]") == username
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("#login-form [type=submit]")
        assert "/accounts/login/" not in page.url
        assert f"Welcome, {username}" in " ".join(page.text_content("#user-tools").split())

        # Sign out (a POST form in the header).
        with page.expect_navigation():
            page.click("#logout-form [type=submit]")
        assert "/accounts/login/" in page.url
        assert "You have signed out" in page.inner_text("ul.messagelist")
        page.goto(f"{local_stack.portal_url}/accounts/password_change/")
        assert "/accounts/login/" in page.url

        # A wrong password gets the same message as an unknown user.
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", "Wrong-pass-1")
        with page.expect_navigation():
            page.click("#login-form [type=submit]")
        wrong = page.inner_text(".errornote")
        page.fill("input[name=username]", f"nobody{uuid.uuid4().hex[:6]}")
        page.fill("input[name=password]", "Wrong-pass-1")
        with page.expect_navigation():
            page.click("#login-form [type=submit]")
        assert wrong == page.inner_text(".errornote") == "Incorrect username or password."
    except Exception:
        page.screenshot(path=str(artifacts_dir / "accounts-browser-failure.png"), full_page=True)
        raise
