"""A password change, a reset and a disable end every other session: Cognito revokes the
refresh tokens, and every other portal session is signed out at its next request, while the
session that changed the password stays in. Two HTTP sessions (Django test clients)."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY as AUTH_USER_KEY
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from accounts import cognito
from accounts.backends import SESSION_KEY
from accounts.sessions import SessionStore

from .conftest import PASSWORD, last_code
from .test_portal import LOGIN, sign_in

pytestmark = pytest.mark.django_db

NEW = "New-pass-2!"
PAGE = "/accounts/password_change/"


def two_sessions(username: str = "alice") -> tuple[Client, Client]:
    first, second = Client(), Client(REMOTE_ADDR="10.0.0.2")
    assert sign_in(first, username).status_code == 302 and sign_in(second, username).status_code == 302
    return first, second


def assert_signed_out(client: Client) -> None:
    response = client.get(PAGE)
    assert response.status_code == 302 and response.url.startswith(LOGIN)
    assert AUTH_USER_KEY not in client.session


def test_a_password_change_signs_the_other_session_out_and_keeps_this_one(alice):
    here, there = two_sessions()
    assert there.get(PAGE).status_code == 200
    old_refresh = there.session[SESSION_KEY]["refresh_token"]
    changed = here.post(PAGE, {"old_password": PASSWORD, "password1": NEW, "password2": NEW}, follow=True)
    assert "Your other sessions were signed out" in changed.content.decode()
    assert_signed_out(there)  # at its very next request, not when its ID token expires
    with pytest.raises(cognito.SessionEnded):  # a token refreshed with the old refresh token
        cognito.refresh(old_refresh)
    assert here.get(PAGE).status_code == 200  # the session that changed it stays in...
    cognito.refresh(here.session[SESSION_KEY]["refresh_token"])  # ...with fresh tokens


def test_a_password_reset_ends_every_session(alice):
    first, second = two_sessions()
    refresh_tokens = [c.session[SESSION_KEY]["refresh_token"] for c in (first, second)]
    Client().post(reverse("accounts:password_reset"), {"username": "Alice"})
    reset = Client().post(reverse("accounts:password_reset_confirm"),
                          {"username": "Alice", "code": last_code("alice"), "password1": NEW, "password2": NEW})
    assert reset.status_code == 302
    for client in (first, second):
        assert_signed_out(client)
    for token in refresh_tokens:
        with pytest.raises(cognito.SessionEnded):
            cognito.refresh(token)


def test_disable_user_ends_every_session_and_sign_in(alice, capsys):
    first, second = two_sessions()
    refresh_token = first.session[SESSION_KEY]["refresh_token"]
    call_command("disable_user", "alice")
    assert "Disabled alice" in capsys.readouterr().out
    for client in (first, second):
        assert_signed_out(client)
    with pytest.raises(cognito.SessionEnded):
        cognito.refresh(refresh_token)
    assert sign_in(Client(), "alice").status_code == 200


def test_other_users_sessions_are_untouched(alice, boss):
    mine, _ = two_sessions()
    theirs = Client()
    sign_in(theirs, "boss")
    mine.post(PAGE, {"old_password": PASSWORD, "password1": NEW, "password2": NEW})
    assert theirs.get(PAGE).status_code == 200


def test_the_mark_cannot_be_loaded_as_a_session(aws, alice):
    from accounts.sessions import end_sessions

    end_sessions("alice")
    assert SessionStore("ended#alice").load() == {} and not SessionStore().exists("ended#alice")


def test_a_session_made_after_a_password_change_outlives_the_mark(alice):
    # The mark expired by TTL 12 h after the change, and the hash is built differently without
    # it: every session signed in after the change was signed out once, when it went.
    from accounts.records import SessionsEnded

    here, _ = two_sessions()
    here.post(PAGE, {"old_password": PASSWORD, "password1": NEW, "password2": NEW})
    later = Client(REMOTE_ADDR="10.0.0.3")
    assert sign_in(later, "alice", NEW).status_code == 302
    mark = SessionsEnded.get("ended#alice")
    if mark.expires_at is not None:
        mark.delete()  # what DynamoDB's TTL does once expires_at passes
    assert later.get(PAGE).status_code == 200 and here.get(PAGE).status_code == 200
