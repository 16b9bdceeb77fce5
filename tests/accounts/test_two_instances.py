"""Two portal processes (gunicorn, each with its own SQLite file) behind no sticky sessions,
sharing one local emulator: a session cookie from one works on the other, as the same
person, and signing out on one signs out on both."""

from __future__ import annotations

import re
import subprocess
import sys

import boto3
import pytest
import requests

from local.stack import ROOT, LocalStack, free_port, wait_for_http

pytestmark = pytest.mark.e2e
PASSWORD = "Right-pass-1"


@pytest.fixture(scope="module")
def instances(tmp_path_factory):
    """An emulator with the stack's resources, and two portal instances on it."""
    state = tmp_path_factory.mktemp("two-instances")
    stack = LocalStack(state_dir=state, emulator_port=free_port(), quiet=True)
    urls = []
    try:
        stack.start_emulator()
        for name in ("a", "b"):
            env = {**stack.env, "DJANGO_DB_PATH": str(state / f"portal-{name}.sqlite3")}
            subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env,
                           check=True)
            port = free_port()
            process = subprocess.Popen(
                [str(ROOT / ".venv" / "bin" / "gunicorn"), "portal.wsgi:application", "-b", f"127.0.0.1:{port}",
                 "-w", "1", "--log-level", "warning"],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            stack.processes.append(process)
            urls.append(f"http://127.0.0.1:{port}")
            wait_for_http(f"{urls[-1]}/healthz", process=process)
        cognito = boto3.client("cognito-idp", endpoint_url=stack.emulator_url, region_name="us-east-1",
                               aws_access_key_id="local", aws_secret_access_key="local")
        pool_id = stack.env["COGNITO_USER_POOL_ID"]
        cognito.admin_create_user(UserPoolId=pool_id, Username="alice", MessageAction="SUPPRESS",
                                  UserAttributes=[{"Name": "email", "Value": "alice@example.com"}])
        cognito.admin_set_user_password(UserPoolId=pool_id, Username="alice", Password=PASSWORD, Permanent=True)
        yield urls, state
    finally:
        stack.stop()


def csrf_token(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def test_one_session_cookie_works_on_both_instances(instances):
    (a, b), state = instances
    browser = requests.Session()  # one cookie jar: cookies are per host, not per port
    page = browser.get(f"{a}/accounts/login/", timeout=30)
    signed_in = browser.post(f"{a}/accounts/login/?next=/accounts/password_change/", timeout=30,
                             data={"username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": csrf_token(page.text)},
                             headers={"Referer": f"{a}/accounts/login/"}, allow_redirects=False)
    assert signed_in.status_code == 302, signed_in.text[:500]
    assert "sessionid" in browser.cookies

    for url in (b, a, b):
        page = browser.get(f"{url}/accounts/password_change/", timeout=30, allow_redirects=False)
        assert page.status_code == 200, (url, page.status_code, page.headers.get("Location"))
        assert "Welcome, <strong>alice</strong>" in page.text

    # Each instance made its own user row, with the same key: the Cognito sub.
    import sqlite3

    rows = [sqlite3.connect(state / f"portal-{n}.sqlite3").execute("select id, username from accounts_user").fetchall()
            for n in ("a", "b")]
    assert rows[0] == rows[1] and len(rows[0]) == 1 and rows[0][0][1] == "alice"

    # Signing out on B ends the session on A too.
    page = browser.get(f"{b}/accounts/password_change/", timeout=30)
    out = browser.post(f"{b}/accounts/logout/", data={"csrfmiddlewaretoken": csrf_token(page.text)},
                       headers={"Referer": f"{b}/"}, timeout=30, allow_redirects=False)
    assert out.status_code == 302
    after = browser.get(f"{a}/accounts/password_change/", timeout=30, allow_redirects=False)
    assert after.status_code == 302 and "/accounts/login/" in after.headers["Location"]


def test_a_cookie_without_a_session_is_signed_out_everywhere(instances):
    (a, b), _state = instances
    for url in (a, b):
        page = requests.get(f"{url}/accounts/password_change/", cookies={"sessionid": "forged"}, timeout=30,
                            allow_redirects=False)
        assert page.status_code == 302
