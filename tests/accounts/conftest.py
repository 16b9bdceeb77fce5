"""Fixtures of the accounts tests: users in the in-process local Cognito, codes from its mailbox."""

from __future__ import annotations

import gzip
import http.server
import pathlib
import threading

import boto3
import moto.cognitoidp
import pytest
from moto.cognitoidp.models import cognitoidp_backends

from accounts import cognito
from portal.local import mailbox

PASSWORD = "Right-pass-1"


def last_code(username: str) -> str:
    """The latest code the local Cognito mailed to `username`."""
    found = [m["code"] for m in mailbox.messages(username) if m["code"]]
    assert found, f"no mail with a code for {username}"
    return found[-1]


def moto_user(config, username: str):
    """moto's own user object (to age its codes)."""
    return cognitoidp_backends["123456789012"][config.aws_region].user_pools[config.cognito_user_pool_id]._get_user(username)


class _JWKSHandler(http.server.BaseHTTPRequestHandler):
    body = gzip.decompress(
        (pathlib.Path(moto.cognitoidp.__file__).parent / "resources" / "jwks-public.json.gz").read_bytes()
    )

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def jwks_url():
    """moto's JWKS served over HTTP on loopback, as the emulator serves it (PyJWT refuses file://)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _JWKSHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    server.shutdown()


@pytest.fixture
def aws(aws, jwks_url, monkeypatch):
    """The root `aws` fixture, with the pool's JWKS fetched over HTTP as in AWS."""
    from common.config import get_config

    monkeypatch.setenv("COGNITO_JWKS_URL", jwks_url)
    get_config.cache_clear()
    return get_config()


@pytest.fixture
def idp(aws):
    """A boto3 client on the in-process Cognito."""
    return boto3.client("cognito-idp", region_name=aws.aws_region)


@pytest.fixture
def alice(aws):
    """A confirmed user, alice, with PASSWORD."""
    cognito.admin_create_user("alice", "alice@example.com", PASSWORD)
    return "alice"


@pytest.fixture
def boss(aws):
    """A confirmed staff user, boss, with PASSWORD."""
    cognito.admin_create_user("boss", "boss@example.com", PASSWORD, staff=True)
    return "boss"


@pytest.fixture
def unconfirmed(aws):
    """A user, carol, who signed up and has not confirmed."""
    cognito.sign_up("carol", "carol@example.com", PASSWORD)
    return "carol"
