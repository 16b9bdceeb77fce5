"""The portal's accounts pages, backend and middleware against the in-process local Cognito."""

from __future__ import annotations

import io
import time

import boto3
import pytest
from django.contrib.auth import SESSION_KEY as AUTH_USER_KEY
from django.test import Client
from django.urls import reverse

from accounts import cognito
from accounts.backends import SESSION_KEY
from accounts.models import User
from accounts.tokens import verify_id_token

from .conftest import PASSWORD, last_code

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
SAME_MESSAGE = "Incorrect username or password."


def sign_in(client: Client, username: str, password: str = PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password, **extra})


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_right_password_signs_in_and_keeps_the_tokens_in_the_session(client, alice, aws):
    response = sign_in(client, "alice")
    assert response.status_code == 302 and response.url == "/"
    data = client.session[SESSION_KEY]
    claims = verify_id_token(data["id_token"])
    assert client.session[AUTH_USER_KEY] == claims["sub"]
    user = User.objects.get(pk=claims["sub"])
    assert (user.username, user.is_staff) == ("alice", False)
    assert data["refresh_token"] and data["expires_at"] == claims["exp"]


@pytest.mark.parametrize("username,password", [("alice", "Wrong-pass-1"), ("nobody", PASSWORD)])
def test_wrong_password_and_unknown_user_get_the_same_message(client, alice, username, password):
    response = sign_in(client, username, password)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [SAME_MESSAGE]
    assert SAME_MESSAGE in response.content.decode()
    assert AUTH_USER_KEY not in client.session


def test_login_page_has_the_usual_fields_and_csrf(client, aws):
    response = client.get(LOGIN + "?next=/images/")
    html = response.content.decode()
    for needle in ('name="username"', 'name="password"', 'name="next" value="/images/"', "csrfmiddlewaretoken"):
        assert needle in html


def test_posting_without_csrf_token_is_refused(alice):
    client = Client(enforce_csrf_checks=True)
    assert sign_in(client, "alice").status_code == 403


@pytest.mark.parametrize("next_url,expected", [
    ("/images/?q=cat", "/images/?q=cat"),
    ("https://evil.example.com/", "/"),
    ("//evil.example.com/", "/"),
])
def test_next_is_followed_only_within_the_site(client, alice, next_url, expected):
    response = sign_in(client, "alice", next=next_url)
    assert response.status_code == 302 and response.url == expected


def test_unconfirmed_user_is_sent_to_confirmation(client, unconfirmed):
    response = sign_in(client, "carol")
    assert response.status_code == 302
    assert response.url == reverse("accounts:confirm") + "?username=carol"
    page = client.get(response.url)
    assert "Confirm your account with the code" in " ".join(messages_of(page))
    assert 'value="carol"' in page.content.decode()


def test_sign_up_confirm_then_sign_in(client, aws):
    page = client.get(reverse("accounts:signup"))
    assert "At least 8 characters" in page.content.decode()
    response = client.post(reverse("accounts:signup"), {
        "username": "dave", "email": "dave@example.com", "password1": "Dave-pass-1", "password2": "Dave-pass-1",
    })
    assert response.status_code == 302 and response.url == reverse("accounts:confirm") + "?username=dave"
    wrong = f"{(int(last_code('dave')) + 1) % 1_000_000:06d}"
    refused = client.post(reverse("accounts:confirm"), {"username": "dave", "code": wrong})
    assert refused.status_code == 200
    assert refused.context["form"].errors["code"] == [cognito.CodeMismatch.default_message]
    done = client.post(reverse("accounts:confirm"), {"username": "dave", "code": last_code("dave")})
    assert done.status_code == 302 and done.url.startswith(LOGIN)
    assert sign_in(client, "dave", "Dave-pass-1").status_code == 302
    assert client.session[SESSION_KEY]["claims"]["cognito:username"] == "dave"


def test_expired_code_is_refused_and_resend_sends_a_new_one(client, unconfirmed, monkeypatch):
    from local import cognito_checks

    old = last_code("carol")
    later = cognito_checks._now() + cognito_checks.SIGNUP_CODE_SECONDS + 1
    monkeypatch.setattr(cognito_checks, "_now", lambda: later)
    refused = client.post(reverse("accounts:confirm"), {"username": "carol", "code": old})
    assert refused.context["form"].errors["code"] == [cognito.CodeExpired.default_message]
    resent = client.post(reverse("accounts:resend_code"), {"username": "carol"})
    assert resent.status_code == 302
    new = last_code("carol")
    done = client.post(reverse("accounts:confirm"), {"username": "carol", "code": new})
    assert done.status_code == 302 and done.url.startswith(LOGIN)


def test_sign_up_shows_cognito_refusals_as_form_errors(client, alice):
    taken = client.post(reverse("accounts:signup"), {
        "username": "alice", "email": "a2@example.com", "password1": PASSWORD, "password2": PASSWORD,
    })
    assert taken.context["form"].errors["username"] == [cognito.UsernameExists.default_message]
    # Long enough for the form, refused by Cognito's policy (no upper case, no symbol).
    weak = client.post(reverse("accounts:signup"), {
        "username": "erin", "email": "erin@example.com", "password1": "weakpass1", "password2": "weakpass1",
    })
    errors = weak.context["form"].errors["password1"]
    assert len(errors) == 1 and "At least 8 characters" in errors[0]
    mismatch = client.post(reverse("accounts:signup"), {
        "username": "erin", "email": "erin@example.com", "password1": PASSWORD, "password2": PASSWORD + "x",
    })
    assert "password2" in mismatch.context["form"].errors


def expire_session_token(client: Client) -> str:
    """Make the session's ID token look an hour old; return the old token."""
    session = client.session
    data = session[SESSION_KEY]
    old = data["id_token"]
    data["expires_at"] = int(time.time()) - 10
    session[SESSION_KEY] = data
    session.save()
    return old


def test_expired_id_token_is_refreshed_silently(client, alice):
    sign_in(client, "alice")
    old = expire_session_token(client)
    response = client.get(reverse("accounts:password_change"))
    assert response.status_code == 200 and response.context["user"].username == "alice"
    data = client.session[SESSION_KEY]
    assert data["id_token"] != old and data["expires_at"] > time.time() + 600
    assert verify_id_token(data["id_token"])["cognito:username"] == "alice"


def test_revoked_refresh_token_ends_the_session_cleanly(client, alice):
    sign_in(client, "alice")
    cognito.sign_out(client.session[SESSION_KEY]["refresh_token"])  # e.g. signed out elsewhere
    expire_session_token(client)
    response = client.get(reverse("accounts:password_change"))
    assert response.status_code == 302 and response.url.startswith(LOGIN)
    assert AUTH_USER_KEY not in client.session and SESSION_KEY not in client.session
    page = client.get(response.url)
    assert "Your session has ended" in " ".join(messages_of(page))


def test_global_sign_out_ends_the_session_at_the_next_refresh(client, alice, aws):
    sign_in(client, "alice")
    boto3.client("cognito-idp", region_name=aws.aws_region).admin_user_global_sign_out(
        UserPoolId=aws.cognito_user_pool_id, Username="alice")
    expire_session_token(client)
    assert client.get(reverse("accounts:password_change")).status_code == 302


def test_sign_out_revokes_the_refresh_token(client, alice):
    sign_in(client, "alice")
    refresh_token = client.session[SESSION_KEY]["refresh_token"]
    cognito.refresh(refresh_token)  # valid before
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302 and response.url == LOGIN
    assert AUTH_USER_KEY not in client.session
    with pytest.raises(cognito.SessionEnded):
        cognito.refresh(refresh_token)


def test_staff_group_makes_staff_and_changes_follow_the_token(client, alice, boss, aws):
    sign_in(client, "boss")
    assert User.objects.get(username="boss").is_staff
    other = Client()
    sign_in(other, "alice")
    assert not User.objects.get(username="alice").is_staff
    boto3.client("cognito-idp", region_name=aws.aws_region).admin_add_user_to_group(
        UserPoolId=aws.cognito_user_pool_id, Username="alice", GroupName=aws.cognito_staff_group)
    expire_session_token(other)
    assert other.get(reverse("accounts:password_change")).context["user"].is_staff


def test_a_new_instance_rebuilds_the_user_row_from_the_session(client, alice):
    sign_in(client, "alice")
    sub = client.session[AUTH_USER_KEY]
    User.objects.all().delete()  # as if the next request landed on an instance with its own database
    response = client.get(reverse("accounts:password_change"))
    assert response.status_code == 200 and response.context["user"].pk == sub
    assert User.objects.get(pk=sub).username == "alice"


def test_sign_in_is_rate_limited_per_username_and_address_but_a_colleague_signs_in(client, alice, boss, aws):
    for _ in range(aws.signin_max_failures_per_pair):
        assert sign_in(client, "alice", "Wrong-pass-1").status_code == 200
    blocked = sign_in(client, "alice")  # even the right password
    assert blocked.status_code == 200
    assert blocked.context["form"].non_field_errors() == ["Too many failed sign-in attempts. Try again in 3 minutes."]
    # A colleague behind the same address signs in while alice is locked.
    assert sign_in(Client(), "boss").status_code == 302


def test_sign_in_is_rate_limited_per_username_from_anywhere(client, alice, aws, monkeypatch):
    from common.config import get_config

    monkeypatch.setenv("SIGNIN_MAX_FAILURES_PER_USER", "3")
    get_config.cache_clear()
    for number in range(3):
        sign_in(Client(REMOTE_ADDR=f"10.0.1.{number}"), "alice", "Wrong-pass-1")
    blocked = sign_in(Client(REMOTE_ADDR="10.0.1.99"), "alice")
    assert "Too many failed sign-in attempts" in blocked.context["form"].non_field_errors()[0]


def test_sign_in_is_rate_limited_per_address(client, alice, boss, aws, monkeypatch):
    from common.config import get_config

    monkeypatch.setenv("SIGNIN_MAX_FAILURES_PER_ADDRESS", "3")
    get_config.cache_clear()
    for name in ("u1", "u2", "u3"):
        sign_in(client, name, "Wrong-pass-1")
    blocked = sign_in(client, "boss")
    assert "Too many failed sign-in attempts" in blocked.context["form"].non_field_errors()[0]
    elsewhere = Client(REMOTE_ADDR="10.0.0.7")
    assert sign_in(elsewhere, "boss").status_code == 302


def test_address_comes_from_our_proxy_only(rf, monkeypatch):
    from accounts.forms import client_address
    from common.config import get_config

    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5")
    monkeypatch.setenv("TRUSTED_PROXY_HOPS", "0")
    get_config.cache_clear()
    assert client_address(request) == "10.0.0.1"
    monkeypatch.setenv("TRUSTED_PROXY_HOPS", "1")
    get_config.cache_clear()
    assert client_address(request) == "203.0.113.5"
    get_config.cache_clear()


def test_successful_sign_in_clears_the_username_count(client, alice, aws):
    for _ in range(aws.signin_max_failures_per_pair - 1):
        sign_in(client, "alice", "Wrong-pass-1")
    assert sign_in(client, "alice").status_code == 302
    client.post(reverse("accounts:logout"))
    sign_in(client, "alice", "Wrong-pass-1")
    assert sign_in(client, "alice").status_code == 302


def test_forgot_password_and_reset_with_the_code(client, alice):
    response = client.post(reverse("accounts:password_reset"), {"username": "alice"})
    assert response.status_code == 302
    assert response.url == reverse("accounts:password_reset_confirm") + "?username=alice"
    code = last_code("alice")
    bad = client.post(response.url, {"username": "alice", "code": "000000" if code != "000000" else "111111",
                                     "password1": "New-pass-2!", "password2": "New-pass-2!"})
    assert bad.context["form"].errors["code"] == [cognito.CodeMismatch.default_message]
    done = client.post(response.url, {"username": "alice", "code": code,
                                      "password1": "New-pass-2!", "password2": "New-pass-2!"})
    assert done.status_code == 302 and done.url.startswith(LOGIN)
    assert sign_in(client, "alice").status_code == 200
    assert sign_in(client, "alice", "New-pass-2!").status_code == 302


def test_forgot_password_for_an_unknown_user_looks_the_same(client, aws):
    response = client.post(reverse("accounts:password_reset"), {"username": "nobody"}, follow=True)
    assert "If that account exists" in " ".join(messages_of(response))


def test_change_password(client, alice):
    url = reverse("accounts:password_change")
    assert client.get(url).status_code == 302  # signed out: to the login page
    sign_in(client, "alice")
    wrong = client.post(url, {"old_password": "Wrong-pass-1", "password1": "New-pass-2!", "password2": "New-pass-2!"})
    assert "old_password" in wrong.context["form"].errors
    weak = client.post(url, {"old_password": PASSWORD, "password1": "weakpass1", "password2": "weakpass1"})
    assert "password1" in weak.context["form"].errors
    done = client.post(url, {"old_password": PASSWORD, "password1": "New-pass-2!", "password2": "New-pass-2!"})
    assert done.status_code == 302
    client.post(reverse("accounts:logout"))
    assert sign_in(client, "alice", "New-pass-2!").status_code == 302


def test_create_user_command(aws, capsys):
    from django.core.management import CommandError, call_command

    call_command("create_user", "root", "--email", "root@example.com", "--password", PASSWORD, "--staff")
    assert "Created staff user root" in capsys.readouterr().out
    assert cognito.is_staff(verify_id_token(cognito.sign_in("root", PASSWORD).id_token))
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_user", "root", "--email", "root@example.com", "--password", PASSWORD)


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_create_user_command_prompts_for_the_password_on_a_terminal(aws, monkeypatch):
    from django.core.management import call_command

    monkeypatch.setattr("getpass.getpass", lambda prompt="": PASSWORD)
    call_command("create_user", "op", "--email", "op@example.com", stdin=Terminal())
    assert not cognito.is_staff(verify_id_token(cognito.sign_in("op", PASSWORD).id_token))


def test_create_user_command_reads_the_password_from_stdin_or_the_environment(aws, monkeypatch, capsys):
    from django.core.management import call_command

    call_command("create_user", "erin", "--email", "erin@example.com", "--password-stdin",
                 stdin=io.StringIO(PASSWORD + "\nignored\n"))
    assert "Created user erin" in capsys.readouterr().out
    assert cognito.sign_in("erin", PASSWORD).id_token
    monkeypatch.setenv("CREATE_USER_PASSWORD", "Env-pass-1!")
    call_command("create_user", "fred", "--email", "fred@example.com", stdin=io.StringIO(""))
    assert cognito.sign_in("fred", "Env-pass-1!").id_token


@pytest.mark.parametrize("argv, stdin, message", [
    ([], "", "No password given and no terminal to ask on: pipe it with --password-stdin or set CREATE_USER_PASSWORD."),
    (["--password-stdin"], "", "--password-stdin: standard input had no password on its first line."),
])
def test_create_user_command_without_a_password_source_says_so(aws, monkeypatch, argv, stdin, message):
    from django.core.management import CommandError, call_command

    monkeypatch.delenv("CREATE_USER_PASSWORD", raising=False)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": pytest.fail("asked without a terminal"))
    with pytest.raises(CommandError) as refused:
        call_command("create_user", "gus", "--email", "gus@example.com", *argv, stdin=io.StringIO(stdin))
    assert str(refused.value) == message
    with pytest.raises(cognito.InvalidCredentials):  # nobody was made
        cognito.sign_in("gus", PASSWORD)


def test_unconfirmed_user_with_a_wrong_password_is_not_sent_to_confirmation(client, unconfirmed):
    response = sign_in(client, "carol", "Wrong-pass-1")
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [SAME_MESSAGE]
