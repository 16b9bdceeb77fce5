"""The faces record their AWS calls for the session's permission check (local/call_log.py,
tests/e2e/conftest.py): a check of nothing would pass whatever the policies say."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import api_auth, create_user

pytestmark = pytest.mark.e2e


def test_the_portal_and_each_handler_record_their_calls_with_role_and_route(local_stack):
    create_user(local_stack, "recorder", "Record-pass-1")
    auth = api_auth(local_stack, "recorder", "Record-pass-1")
    assert requests.get(f"{local_stack.api_url}/images?limit=1", headers=auth, timeout=30).status_code == 200
    session = requests.Session()
    login = session.get(f"{local_stack.portal_url}/accounts/login/", timeout=30)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
    session.post(f"{local_stack.portal_url}/accounts/login/", timeout=30, allow_redirects=False,
                 headers={"Referer": f"{local_stack.portal_url}/accounts/login/"},
                 data={"username": "recorder", "password": "Record-pass-1", "csrfmiddlewaretoken": csrf})

    lines = [json.loads(line) for path in Path(local_stack.env["AWS_CALL_LOG"]).glob("calls-*.jsonl")
             for line in path.read_text(encoding="utf-8").splitlines()]
    seen = {(line["role"], line["where"], line["service"], line["operation"]) for line in lines}
    assert ("handler:images.api.images.list_images", "GET /images", "dynamodb", "Query") in seen
    assert ("handler:accounts.api.create_token", "POST /users/token", "dynamodb", "UpdateItem") in seen
    assert ("portal", "POST /accounts/login/", "dynamodb", "UpdateItem") in seen
    # Names only: no item key, body or credential is written.
    assert not any("Key" in line["params"] for line in lines if line["service"] == "dynamodb")
    assert "Record-pass-1" not in json.dumps(lines)
