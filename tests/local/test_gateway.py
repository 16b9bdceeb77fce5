"""The local API gateway in-process: routes from openapi.yaml, the Cognito authorizer, proxy
events, and the error bodies the document configures for API Gateway's own answers."""

from __future__ import annotations

import json

import pytest
from pycognito.aws_srp import AWSSRP
from werkzeug.test import Client

from local import gateway


@pytest.fixture
def seen(monkeypatch):
    """Record the events the handlers get; answer like a trivial Lambda."""
    events = []

    def fake(event, context):
        events.append(event)
        return {"statusCode": 200, "headers": {"X-Test": "1"}, "body": json.dumps({"ok": True})}

    monkeypatch.setattr(gateway.Route, "function", lambda self: fake)
    return events


@pytest.fixture
def client():
    return Client(gateway.Gateway(gateway.load_routes(), gateway.load_gateway_responses()))


@pytest.fixture
def token(aws):
    import boto3

    from accounts import cognito

    cognito.admin_create_user("gina", "gina@example.com", "Gina-pass-1", staff=True)
    result = AWSSRP(username="gina", password="Gina-pass-1", pool_id=aws.cognito_user_pool_id,
                    client_id=aws.cognito_client_id, client=boto3.client("cognito-idp")).authenticate_user()
    return result["AuthenticationResult"]["IdToken"]


def test_every_route_of_the_document_is_served():
    routes = {(r.method, r.resource): r for r in gateway.load_routes()}
    assert set(routes) == {("GET", "/images"), ("POST", "/images"), ("PUT", "/images"), ("DELETE", "/images"),
                           ("GET", "/images/{key}/{value}"), ("POST", "/images/uploads"), ("POST", "/users"),
                           ("POST", "/users/token"), ("GET", "/images/trash"), ("POST", "/images/restore"),
                           ("POST", "/images/purge"), ("GET", "/images/history/{id}")}
    assert not routes[("POST", "/users")].secured and not routes[("POST", "/users/token")].secured
    assert all(r.secured for k, r in routes.items() if k[1].startswith("/images"))


def test_no_token_is_401_with_the_documented_body_before_any_handler(client, seen, aws):
    reply = client.get("/images")
    assert reply.status_code == 401 and json.loads(reply.data)["status"] == "fail"
    assert seen == []


def test_valid_token_reaches_the_handler_with_string_claims(client, seen, token):
    reply = client.get("/images/title/red%20sunset?limit=5", headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 200 and reply.headers["X-Test"] == "1"
    event = seen[0]
    assert event["resource"] == "/images/{key}/{value}"
    assert event["pathParameters"] == {"key": "title", "value": "red sunset"}
    assert event["queryStringParameters"] == {"limit": "5"}
    claims = event["requestContext"]["authorizer"]["claims"]
    assert claims["cognito:username"] == "gina" and claims["cognito:groups"] == "[staff]"
    assert all(isinstance(v, str) for v in claims.values())


def test_unsecured_routes_need_no_token(client, seen):
    assert client.post("/users/token", json={}).status_code == 200
    assert "authorizer" not in seen[0]["requestContext"]


def test_unknown_route_and_wrong_method_are_api_gateway_403s(client, seen):
    for reply in (client.get("/nowhere"), client.patch("/images")):
        assert reply.status_code == 403
        assert json.loads(reply.data) == {"status": "fail", "msg": "Missing Authentication Token"}
    assert seen == []


def test_payload_over_10_mb_is_413(client, seen, token):
    reply = client.post("/images", data=b"x" * (10 * 1024 * 1024 + 1), headers={"Authorization": token})
    assert reply.status_code == 413 and json.loads(reply.data)["status"] == "fail"
    assert seen == []


def test_a_crashing_handler_is_a_502_without_internals(client, monkeypatch, token):
    def crash(event, context):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(gateway.Route, "function", lambda self: crash)
    reply = client.get("/images", headers={"Authorization": token})
    assert reply.status_code == 502 and b"secret" not in reply.data
    assert json.loads(reply.data)["status"] == "fail"
