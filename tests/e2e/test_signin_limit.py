"""The sign-in limit under concurrency, over HTTP against the running faces: 20 wrong
passwords for one user at once, from threads, let exactly 5 reach Cognito (a wrong password
that reached Cognito is a 401 / "Incorrect"; the rest are refused before it, each told when to
come back), and a colleague behind the same address still signs in meanwhile."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from .conftest import create_user

pytestmark = pytest.mark.e2e

PASSWORD = "Right-pass-1"
WRONG = "Wrong-pass-1"
ATTEMPTS = 20
LIMIT = 5  # SIGNIN_MAX_FAILURES_PER_PAIR's default


def at_once(count: int, attempt) -> list:
    """Run attempt(i) from `count` threads released together."""
    barrier = threading.Barrier(count)

    def run(i):
        barrier.wait(timeout=30)
        return attempt(i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def api_sign_in(stack, username: str, password: str) -> requests.Response:
    return requests.post(f"{stack.api_url}/users/token", json={"username": username, "password": password}, timeout=60)


def test_api_concurrent_wrong_passwords_reach_cognito_five_times(local_stack):
    create_user(local_stack, "race-api", PASSWORD)
    create_user(local_stack, "colleague-api", PASSWORD)
    replies = at_once(ATTEMPTS, lambda i: api_sign_in(local_stack, "race-api", WRONG))
    statuses = sorted(r.status_code for r in replies)
    assert set(statuses) <= {401, 429}, statuses
    assert statuses.count(401) == LIMIT, statuses
    for refused in (r for r in replies if r.status_code == 429):
        assert refused.json()["status"] == "fail"
        assert refused.json()["msg"].startswith("Too many failed sign-in attempts. Try again in ")
        assert 0 < int(refused.headers["Retry-After"]) <= 900
    # Locked: even the right password waits; a colleague at the same address signs in.
    assert api_sign_in(local_stack, "race-api", PASSWORD).status_code == 429
    assert api_sign_in(local_stack, "colleague-api", PASSWORD).status_code == 200


def portal_sign_in(stack, username: str, password: str) -> str:
    """Sign in through the login form in a fresh HTTP session; the answer's page or "signed in"."""
    session = requests.Session()
    page = session.get(f"{stack.portal_url}/accounts/login/", timeout=60).text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    reply = session.post(f"{stack.portal_url}/accounts/login/", allow_redirects=False, timeout=60,
                         data={"csrfmiddlewaretoken": token, "username": username, "password": password})
    return "signed in" if reply.status_code == 302 else reply.text


def error_text(page: str) -> str:
    """The page's error notes (its first 200 characters when it has none)."""
    notes = re.findall(r'<p class="errornote">(.*?)</p>', page, re.S)
    return " ".join(notes) if notes else page[:200]


def test_portal_concurrent_wrong_passwords_reach_cognito_five_times(local_stack):
    create_user(local_stack, "race-portal", PASSWORD)
    create_user(local_stack, "colleague-portal", PASSWORD)
    pages = at_once(ATTEMPTS, lambda i: portal_sign_in(local_stack, "race-portal", WRONG))
    wrong = [p for p in pages if "Incorrect username or password." in p]
    refused = [p for p in pages if re.search(r"Too many failed sign-in attempts\. Try again in (a minute|\d+ minutes)\.", p)]
    others = [error_text(p) for p in pages if p not in wrong and p not in refused]
    assert len(wrong) == LIMIT and len(wrong) + len(refused) == ATTEMPTS, (len(wrong), len(refused), others)
    assert portal_sign_in(local_stack, "race-portal", PASSWORD) != "signed in"
    assert portal_sign_in(local_stack, "colleague-portal", PASSWORD) == "signed in"
