"""The local REST API: API Gateway's part, on loopback.

Routes come from infra/openapi.yaml (the same file Terraform gives API Gateway): each
operation's `x-handler` names the Lambda handler. Secured operations are authorized like
API Gateway's Cognito user-pool authorizer: the ID token from `Authorization` (bare or
"Bearer "), checked against the pool's JWKS, iss, aud, token_use and exp; its claims reach
the handler in requestContext.authorizer.claims; without a valid token the answer is 401
before any handler runs. Events and responses use the REST proxy format.

One log line per request: a handler's own JSON line ("answered" or "refused", with its
status), or, for what the gateway answers itself (401, 403 for an unknown route, 413, 502),
a JSON line of the gateway's; werkzeug's access lines are not written. Each answer of a
handler carries Server-Timing: the emulator's share of its time (local/timing.py).

Run: python -m local.gateway --port 8001
"""

from __future__ import annotations

import argparse
import base64
import importlib
import json
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable
from urllib.parse import unquote

import yaml
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from accounts.tokens import bearer_token, verify_id_token
from common import logs
from common.errors import AppError
from local import call_log, timing

OPENAPI = Path(__file__).resolve().parent.parent / "infra" / "openapi.yaml"
MAX_PAYLOAD = 10 * 1024 * 1024  # API Gateway's limit
METHODS = ("get", "post", "put", "delete", "patch", "head", "options")
log = logging.getLogger("gateway")


@dataclass(frozen=True)
class Route:
    """One operation of the OpenAPI document."""

    method: str
    resource: str
    pattern: re.Pattern
    handler: str
    secured: bool

    def function(self) -> Callable:
        module, _, name = self.handler.rpartition(".")
        return getattr(importlib.import_module(module), name)


def load_routes(path: Path = OPENAPI) -> list[Route]:
    """The routes of the OpenAPI document, most specific first."""
    document = yaml.safe_load(path.read_text())
    default_security = document.get("security") or []
    routes = []
    for resource, item in (document.get("paths") or {}).items():
        regex = "^" + re.sub(r"\\\{([^}]+)\\\}", r"(?P<\1>[^/]+)", re.escape(resource)) + "$"
        for method in METHODS:
            operation = item.get(method)
            if not operation:
                continue
            security = operation.get("security", default_security)
            routes.append(
                Route(method.upper(), resource, re.compile(regex), operation["x-handler"], bool(security))
            )
    return sorted(routes, key=lambda r: r.resource.count("{"))


def _claims_as_api_gateway_passes_them(claims: dict) -> dict[str, str]:
    """API Gateway hands the authorizer's claims to Lambda as strings (lists as "[a, b]")."""
    out = {}
    for name, value in claims.items():
        if isinstance(value, list):
            out[name] = "[" + ", ".join(str(v) for v in value) + "]"
        elif isinstance(value, (int, float)) and name in ("exp", "iat", "auth_time"):
            out[name] = datetime.fromtimestamp(value, timezone.utc).strftime("%a %b %d %H:%M:%S UTC %Y")
        else:
            out[name] = str(value)
    return out


# Gateway response types (API Gateway's names) the local gateway produces, and their defaults.
_RESPONSE_TYPES = {
    "UNAUTHORIZED": (401, "Unauthorized", "DEFAULT_4XX"),
    "MISSING_AUTHENTICATION_TOKEN": (403, "Missing Authentication Token", "DEFAULT_4XX"),
    "REQUEST_TOO_LARGE": (413, "Request Too Long", "DEFAULT_4XX"),
    "INTEGRATION_FAILURE": (502, "Internal server error", "DEFAULT_5XX"),
}


def load_gateway_responses(path: Path = OPENAPI) -> dict:
    """The document's x-amazon-apigateway-gateway-responses (custom error bodies)."""
    return yaml.safe_load(path.read_text()).get("x-amazon-apigateway-gateway-responses") or {}


def _gateway_error(kind: str, responses: dict, request: Request) -> Response:
    """An error API Gateway itself answers, with the body the document configures for it."""
    status, message, fallback = _RESPONSE_TYPES[kind]
    # The one line of a request no handler saw, as loud as the handlers' own (common.logs).
    logs.logger.append_keys(route=f"{request.method} {request.path}")
    try:
        logs.refused(status, kind, message)
    finally:
        logs.logger.remove_keys(["route"])
    configured = responses.get(kind) or responses.get(fallback) or {}
    template = (configured.get("responseTemplates") or {}).get("application/json")
    body = (
        template.replace("$context.error.messageString", json.dumps(message))
        if template
        else json.dumps({"message": message})
    )
    return Response(body, status=configured.get("statusCode", status), content_type="application/json")


class Gateway:
    """WSGI app: route, authorize, build the proxy event, call the handler."""

    def __init__(self, routes: list[Route], responses: dict | None = None):
        self.routes = routes
        self.responses = responses or {}

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            found = route.pattern.match(path)
            if found and route.method == method:
                return route, {k: unquote(v) for k, v in found.groupdict().items()}
        return None

    def event(self, request: Request, route: Route, path_parameters: dict, claims: dict | None) -> dict[str, Any]:
        body = request.get_data()
        try:
            text, is_base64 = body.decode("utf-8"), False
        except UnicodeDecodeError:
            text, is_base64 = base64.b64encode(body).decode(), True
        query = {k: request.args.getlist(k) for k in request.args}
        # API Gateway tells the Lambda the scheme and port the client used.
        headers = {**dict(request.headers.items()), "X-Forwarded-Proto": request.scheme,
                   "X-Forwarded-Port": str(request.environ.get("SERVER_PORT", ""))}
        context: dict[str, Any] = {
            "resourcePath": route.resource,
            "httpMethod": route.method,
            "path": request.path,
            "stage": "$default",  # routes at the root, so links carry no stage prefix
            "domainName": request.host,
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": request.remote_addr},
        }
        if claims is not None:
            context["authorizer"] = {"claims": _claims_as_api_gateway_passes_them(claims)}
        return {
            "resource": route.resource,
            "path": request.path,
            "httpMethod": route.method,
            "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
            "multiValueQueryStringParameters": query or None,
            "pathParameters": path_parameters or None,
            "stageVariables": None,
            "requestContext": context,
            "body": text if body else None,
            "isBase64Encoded": is_base64,
        }

    def __call__(self, environ, start_response):
        request = Request(environ)
        found = self.match(request.method, request.path)
        if found is None:
            reply = _gateway_error("MISSING_AUTHENTICATION_TOKEN", self.responses, request)
        elif (request.content_length or 0) > MAX_PAYLOAD:
            reply = _gateway_error("REQUEST_TOO_LARGE", self.responses, request)
        else:
            route, path_parameters = found
            reply = self.dispatch(request, route, path_parameters)
        return reply(environ, start_response)

    def dispatch(self, request: Request, route: Route, path_parameters: dict) -> Response:
        claims = None
        if route.secured:
            try:
                claims = verify_id_token(bearer_token(request.headers.get("Authorization")))
            except AppError:
                return _gateway_error("UNAUTHORIZED", self.responses, request)
        try:
            with call_log.acting(f"handler:{route.handler}", f"{route.method} {route.resource}"), \
                    timing.measured() as spent:
                result = route.function()(self.event(request, route, path_parameters, claims), None)
        except Exception:  # a crashed Lambda: API Gateway answers 502
            log.exception("handler %s failed", route.handler)
            return _gateway_error("INTEGRATION_FAILURE", self.responses, request)
        body = result.get("body") or ""
        data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
        reply = Response(data, status=result.get("statusCode", 200))
        for name, value in (result.get("headers") or {}).items():
            reply.headers[name] = value
        for name, values in (result.get("multiValueHeaders") or {}).items():
            for value in values:
                reply.headers.add(name, value)
        reply.headers["Server-Timing"] = timing.header(spent)
        return reply


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The local REST API (API Gateway + Lambda).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args(argv)
    call_log.install()  # with AWS_CALL_LOG set (end-to-end tests): record each handler's calls
    logging.basicConfig(level=logging.INFO, format="[api] %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access line: each request logs one line itself
    # The handlers' JSON lines go out through their own handler only (Powertools keeps them from
    # the root's when the root is set up first; here it is set up after common.logs was imported).
    logging.getLogger(logs.logger.service).propagate = False
    # As the portal's settings do: where boto found credentials and PynamoDB's "Override
    # settings for pynamo not available" are noise on every request.
    for name in ("botocore", "boto3", "urllib3", "pynamodb.settings"):
        logging.getLogger(name).setLevel(logging.WARNING)
    timing.install()
    server = make_server(args.host, args.port, Gateway(load_routes(), load_gateway_responses()), threaded=True)
    log.debug("listening on http://%s:%d", args.host, args.port)  # `make run` prints the URLs
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
