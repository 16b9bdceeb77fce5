"""Logs that help and never leak. A full flow on both faces of the local stack — sign-up with
its emailed code, sign-in, an upload, an edit, a delete, a denial and failed sign-ins —
then the logs the portal and the API (its Lambda handlers) wrote: every line is a JSON
object, each request's lines carry its request id, denials are warnings, and no password,
token, confirmation code or image bytes appear anywhere in them."""

from __future__ import annotations

import base64
import json
import re
import uuid

import pytest
import requests

from tests.e2e.conftest import create_user
from tests.e2e.test_accounts_browser import mailed_code
from tests.helpers import make_image

pytestmark = pytest.mark.e2e
PASSWORD = "Leak-test-pass-1"
WRONG = "Wrong-secret-9"
# The local servers' own access lines (werkzeug's for the gateway, colours and all; Django's
# development server's for the portal) stand for API Gateway's and the load balancer's access
# logs, not the application's.
ACCESS_LINE = re.compile(r'^(\[api\] 127\.0\.0\.1 - - )?\[[^]]+\] "')


def _csrf(session: requests.Session, url: str) -> str:
    page = session.get(url, timeout=30)
    assert page.status_code == 200, (url, page.status_code)
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)


def _post_form(session, url, data, files=None):
    data = {"csrfmiddlewaretoken": _csrf(session, url), **data}
    return session.post(url, data=data, files=files, headers={"Referer": url}, timeout=60)


def _lines(stack, name):
    return (stack.state_dir / f"{name}.log").read_text(encoding="utf-8", errors="replace").splitlines()


def test_a_full_flow_logs_json_with_request_ids_and_no_secrets(local_stack):
    stack, secrets = local_stack, []
    before = {name: len(_lines(stack, name)) for name in ("portal", "api")}
    png = make_image("PNG", size=(40, 30))
    png_b64 = base64.b64encode(png).decode()
    secrets += [PASSWORD, WRONG, png_b64[20:80]]

    # Portal: sign up, confirm with the mailed code, sign in, fail to sign in, upload.
    portal, user = requests.Session(), f"leak{uuid.uuid4().hex[:8]}"
    reply = _post_form(portal, f"{stack.portal_url}/accounts/signup/",
                       {"username": user, "email": f"{user}@example.com", "password1": PASSWORD, "password2": PASSWORD})
    assert "/accounts/confirm/" in reply.url, reply.url
    code = mailed_code(stack, user)
    secrets.append(code)
    reply = _post_form(portal, f"{stack.portal_url}/accounts/confirm/", {"username": user, "code": code})
    assert "/accounts/login/" in reply.url
    for password in (WRONG, WRONG):
        assert "/accounts/login/" in _post_form(portal, f"{stack.portal_url}/accounts/login/",
                                                {"username": user, "password": password}).url
    reply = _post_form(portal, f"{stack.portal_url}/accounts/login/", {"username": user, "password": PASSWORD})
    assert "/accounts/login/" not in reply.url
    assert reply.headers.get("X-Request-Id")
    reply = _post_form(portal, f"{stack.portal_url}/add/",
                       {"title": "Leak check", "author": "Ana", "keywords": "a,b", "description": "", "capture_date": ""},
                       files={"image": ("leak.png", png, "image/png")})
    assert reply.status_code == 200, reply.status_code
    secrets += [portal.cookies.get("sessionid") or "", portal.cookies.get("csrftoken") or ""]

    # API: sign up, get a token, fail to, upload, edit, be denied, delete.
    api_user = f"api{uuid.uuid4().hex[:8]}"
    assert requests.post(f"{stack.api_url}/users", json={"username": api_user, "password": PASSWORD,
                                                           "email": f"{api_user}@example.com"}, timeout=30).ok
    mailed = requests.get(f"{stack.emulator_url}/_local/mailbox", params={"username": api_user}, timeout=10).json()
    secrets += [m["code"] for m in mailed if m.get("code")]  # a code, where sign-up needs one
    create_user(stack, "leaky", PASSWORD)
    create_user(stack, "other", PASSWORD)
    for password in (WRONG, WRONG):
        assert requests.post(f"{stack.api_url}/users/token", json={"username": "leaky", "password": password},
                             timeout=30).status_code == 401
    token = requests.post(f"{stack.api_url}/users/token", json={"username": "leaky", "password": PASSWORD},
                          timeout=30).json()["id_token"]
    other = requests.post(f"{stack.api_url}/users/token", json={"username": "other", "password": PASSWORD},
                          timeout=30).json()["id_token"]
    secrets += [token, other, *token.split(".")[1:]]
    mine = {"Authorization": f"Bearer {token}"}
    created = requests.post(f"{stack.api_url}/images", headers=mine, timeout=60, json={
        "title": "Leak", "author": "Ana", "image_content": png_b64})
    assert created.status_code == 201
    image_id = created.json()["id"]
    assert requests.put(f"{stack.api_url}/images", headers=mine, json={"id": image_id, "title": "Edited"},
                        timeout=60).status_code == 200
    assert requests.delete(f"{stack.api_url}/images", headers={"Authorization": other}, json={"id": image_id},
                           timeout=60).status_code == 403
    assert requests.delete(f"{stack.api_url}/images", headers=mine, json={"id": image_id}, timeout=60).status_code == 200

    logged = {name: _lines(stack, name)[before[name]:] for name in ("portal", "api")}
    text = "\n".join(logged["portal"] + logged["api"])
    for secret in filter(None, secrets):
        assert secret not in text, f"a secret ({len(secret)} characters) is in the logs"
    assert not re.search(r"eyJ[A-Za-z0-9_-]{10,}\.", text), "a JWT is in the logs"

    records = {}
    for name, lines in logged.items():
        lines = [line for line in lines if not ACCESS_LINE.match(line)]
        assert all(line.startswith("{") for line in lines), [line for line in lines if line[:1] != "{"][:5]
        records[name] = [json.loads(line) for line in lines]
    api_requests = [r for r in records["api"] if r.get("message") in ("answered", "refused")]
    assert api_requests and all(r.get("request_id") for r in api_requests)
    denial = [r for r in api_requests if r.get("status") == 403]
    assert denial and denial[0]["level"] == "WARNING" and denial[0]["route"] == "DELETE /images"
    assert [r["level"] for r in api_requests if r.get("status") == 401] == ["WARNING", "WARNING"]
    refused = [r for r in records["portal"] if r.get("message") == "sign-in refused"]
    assert len(refused) == 2 and all(r["level"] == "WARNING" and r["request_id"] for r in refused)
    assert refused[0]["username"] == user
