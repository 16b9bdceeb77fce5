"""The local AWS emulator: moto's server in its own process on 127.0.0.1.

On top of stock moto it adds what the local stack needs to behave like AWS:
- state that survives a restart (local/state.py: the metadata in one file, each object's
  bytes in a file of its own), saved shortly after each change and on shutdown;
- requests served one at a time (moto's backends are not thread-safe);
- anonymous requests allowed only where the bucket policy allows them (public image
  objects; the bucket itself is not listable), with the CDN's nosniff header;
- browser-style presigned POST uploads (the signature travels in the multipart form, not
  in a header or the query): checked like S3 does (signature, expiry, every field covered
  by the policy's conditions, content-length-range) before moto stores them, since moto
  checks none of it;
- real password checks in the Cognito SRP flow (local/cognito_checks.py);
- ClientRequestToken honoured by TransactWriteItems, as DynamoDB does (local/dynamodb_checks.py);
- renditions made on demand, as CloudFront's fallback origin does in AWS: a GET of a missing
  renditions/ key runs the render function (images/render.py) in process, which stores it;
- GET /_local/health and GET /_local/mailbox (the mail the local Cognito would send);
- with --s3-list-bucket deny, a missing object answers 403 AccessDenied instead of 404, as
  S3 answers a caller without s3:ListBucket on the bucket (the API's create/update roles);
- on every answer, `Server-Timing: emulator;dur=…, queue;dur=…`: the milliseconds it worked
  on the request and the milliseconds the request waited for the lock (local/timing.py adds
  them up per request of the portal and the API, for `make load`);
- for tests, slow storage: EMULATOR_S3_READ_DELAY=<seconds> delays every object read
  (GetObject), outside the request lock, so exports can be made to outlast a worker timeout.

Run: python -m local.emulator --port 4566 --state .local/emulator-state.pickle
"""

from __future__ import annotations

import argparse
import base64
import fnmatch
import hashlib
import hmac
import io
import json
import logging
import os
import signal
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qs, unquote

from werkzeug.formparser import parse_form_data

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.s3.models import s3_backends
from werkzeug.serving import make_server

from local import cognito_checks, dynamodb_checks, mailbox, state, timing

log = logging.getLogger("emulator")

# DynamoDB calls that change nothing: no need to save after them.
_READ_ONLY_TARGETS = {
    f"DynamoDB_20120810.{op}"
    for op in ("GetItem", "BatchGetItem", "Query", "Scan", "DescribeTable", "ListTables", "DescribeTimeToLive")
}
_SAVE_DELAY = 0.2  # seconds: one save for a burst of writes
READ_DELAY_ENV = "EMULATOR_S3_READ_DELAY"


def _is_object_read(environ: dict) -> bool:
    """An S3 GetObject: GET /<bucket>/<key> that is no other service's call."""
    if environ.get("REQUEST_METHOD") != "GET" or environ.get("HTTP_X_AMZ_TARGET"):
        return False
    path = unquote(environ.get("PATH_INFO", ""))
    if path.startswith(("/moto-api", "/_local/")) or path.endswith("/.well-known/jwks.json"):
        return False
    parts = path.lstrip("/").split("/", 1)
    return len(parts) == 2 and bool(parts[1])


def _bucket_policy_allows_anonymous_get(bucket: str, key: str) -> bool:
    """Whether the bucket policy lets anyone GetObject `key` (Allow, Principal "*", no Condition)."""
    for account in s3_backends.values():
        for backend in account.values():
            found = backend.buckets.get(bucket)
            if found is None or not found.policy:
                continue
            policy = json.loads(found.policy)
            for statement in policy.get("Statement", []):
                principal = statement.get("Principal")
                actions = statement.get("Action", [])
                resources = statement.get("Resource", [])
                actions = [actions] if isinstance(actions, str) else actions
                resources = [resources] if isinstance(resources, str) else resources
                if (
                    statement.get("Effect") == "Allow"
                    and principal in ("*", {"AWS": "*"})
                    and "Condition" not in statement
                    and any(a in ("s3:GetObject", "s3:*") for a in actions)
                    and any(fnmatch.fnmatchcase(f"arn:aws:s3:::{bucket}/{key}", r) for r in resources)
                ):
                    return True
    return False


def _is_anonymous_s3(environ: dict) -> bool:
    if environ.get("HTTP_AUTHORIZATION") or environ.get("HTTP_X_AMZ_TARGET"):
        return False
    query = parse_qs(environ.get("QUERY_STRING", ""))
    if "X-Amz-Signature" in query or "Signature" in query:
        return False  # presigned URL
    path = environ.get("PATH_INFO", "")
    # Unsigned non-S3 calls: Cognito's public APIs carry X-Amz-Target; JWKS is public.
    return not (path.startswith(("/moto-api", "/_local/")) or path.endswith("/.well-known/jwks.json"))


_POST_FORM_FIELDS = {"key", "policy", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature"}


def _is_presigned_post(environ: dict) -> bool:
    """A multipart/form-data POST to a bucket's root, without credentials in a header or the
    query: a browser's (or curl's) presigned POST, whose signature is in the form itself."""
    if environ.get("REQUEST_METHOD") != "POST" or environ.get("HTTP_AUTHORIZATION") or environ.get("QUERY_STRING"):
        return False
    if not environ.get("CONTENT_TYPE", "").startswith("multipart/form-data"):
        return False
    parts = unquote(environ.get("PATH_INFO", "")).strip("/").split("/")
    return len(parts) == 1 and bool(parts[0])


def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _check_presigned_post(bucket: str, fields: dict[str, str], size: int, now: datetime) -> tuple[str, str, str] | None:
    """Why S3 would refuse this presigned POST, as (HTTP status, error code, message), or None."""
    denied = ("403 Forbidden", "AccessDenied")
    lowered = {k.lower(): v for k, v in fields.items()}
    missing = _POST_FORM_FIELDS - set(lowered)
    if missing:
        return (*denied, f"Missing form fields: {', '.join(sorted(missing))}")
    if lowered["x-amz-algorithm"] != "AWS4-HMAC-SHA256":
        return (*denied, "Only AWS4-HMAC-SHA256 is supported")
    try:
        _access_key, date, region, service, _ = lowered["x-amz-credential"].split("/")
        policy = json.loads(base64.b64decode(lowered["policy"], validate=True))
        expiration = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
        conditions = policy["conditions"]
    except (ValueError, KeyError, TypeError) as exc:
        return ("400 Bad Request", "InvalidPolicyDocument", f"Invalid policy or credential: {exc}")
    secret = os.environ.get("AWS_SECRET_ACCESS_KEY")
    if secret:  # the local stack's one secret (the local AWS env): check the signature like S3
        expected = hmac.new(_signing_key(secret, date, region, service), lowered["policy"].encode(), hashlib.sha256)
        if not hmac.compare_digest(expected.hexdigest(), lowered["x-amz-signature"]):
            return ("403 Forbidden", "SignatureDoesNotMatch", "The request signature we calculated does not match")
    if now >= expiration:
        return (*denied, "Invalid according to Policy: Policy expired.")
    values = {**lowered, "bucket": bucket}
    covered = {"policy", "x-amz-signature", "file"}
    for condition in conditions:
        if isinstance(condition, dict):
            ((name, value),) = condition.items()
            condition = ["eq", f"${name}", value]
        op = str(condition[0]).lower()
        if op == "content-length-range":
            low, high = int(condition[1]), int(condition[2])
            if size < low:
                return ("400 Bad Request", "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size")
            if size > high:
                return ("400 Bad Request", "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
            continue
        name = str(condition[1]).lstrip("$").lower()
        covered.add(name)
        actual = values.get(name)
        if actual is None or (op == "eq" and actual != condition[2]) \
                or (op == "starts-with" and not actual.startswith(condition[2])) or op not in ("eq", "starts-with"):
            return (*denied, f"Invalid according to Policy: Policy Condition failed: {condition}")
    uncovered = {k for k in lowered if not k.startswith("x-ignore-")} - covered
    if uncovered:
        return (*denied, f"Invalid according to Policy: Extra input fields: {', '.join(sorted(uncovered))}")
    return None


def _xml_error(start_response, status: str, code: str, message: str) -> list[bytes]:
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error>").encode()
    start_response(status, [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
    return [body]


def _json(start_response, status: str, body) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def _object_path(path: str) -> bool:
    """A path-style S3 object path: /<bucket>/<key>."""
    parts = unquote(path).lstrip("/").split("/", 1)
    return len(parts) == 2 and bool(parts[1]) and not path.startswith(("/moto-api", "/_local/"))


def _is_rendition_path(path: str) -> bool:
    """GET /<bucket>/renditions/...: a key the render function may make."""
    parts = unquote(path).lstrip("/").split("/", 1)
    return len(parts) == 2 and parts[1].startswith("renditions/")


class Emulator:
    """WSGI app: moto behind one lock, plus the local additions."""

    def __init__(self, state_path: Path | None, *, s3_list_bucket: bool = True):
        # False: answer as S3 does to a caller without s3:ListBucket (403 for a missing key).
        self.s3_list_bucket = s3_list_bucket
        self.moto = DomainDispatcherApplication(create_backend_app)
        self.lock = threading.Lock()
        self.store = state.Store(state_path) if state_path else None
        self.dirty = threading.Event()
        self.save_lock = threading.Lock()
        self.read_delay = float(os.environ.get(READ_DELAY_ENV) or 0)

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        timed: dict[str, float] = {"waited": 0.0}

        def answer(status, headers, exc_info=None):
            served = time.perf_counter() - started - timed["waited"]
            return start_response(status, [*headers, ("Server-Timing", timing.emulator_header(served, timed["waited"]))],
                                  exc_info)

        return self.serve(environ, answer, timed)

    def serve(self, environ, start_response, timed: dict[str, float]):
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/_local/health":
            return _json(start_response, "200 OK", {"status": "ok"})
        if path == "/_local/mailbox":
            username = parse_qs(environ.get("QUERY_STRING", "")).get("username", [None])[0]
            return _json(start_response, "200 OK", mailbox.messages(username))
        if _is_presigned_post(environ):
            refused = self._check_presigned_post(environ)
            if refused:
                return _xml_error(start_response, *refused)
            anonymous = False  # authorised by its policy: moto stores it
        else:
            # A CORS preflight carries no credentials in S3 either: moto answers it from the
            # bucket's CORS rules.
            anonymous = method != "OPTIONS" and _is_anonymous_s3(environ)
        if anonymous:
            parts = unquote(path).lstrip("/").split("/", 1)
            if method not in ("GET", "HEAD") or len(parts) < 2 or not parts[1] \
                    or not _bucket_policy_allows_anonymous_get(parts[0], parts[1]):
                body = b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>'
                start_response("403 Forbidden", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
                return [body]
        if self.read_delay and _is_object_read(environ):
            time.sleep(self.read_delay)  # outside the lock: slow storage, not a stalled emulator
            timed["waited"] += self.read_delay  # not the emulator's work
        captured: dict = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, list(headers)
            return lambda data: None

        waiting = time.perf_counter()
        with self.lock:
            timed["waited"] += time.perf_counter() - waiting
            # Consume the whole response inside the lock: moto may build it lazily.
            body = b"".join(self.moto(environ, capture))
            if method != "GET" and environ.get("HTTP_X_AMZ_TARGET") not in _READ_ONLY_TARGETS:
                self.dirty.set()
        headers = captured["headers"]
        # Anonymous only, as through the CDN: the render function's own signed GETs see the 404.
        if (anonymous and method in ("GET", "HEAD") and captured["status"].startswith("404") and b"NoSuchKey" in body
                and _is_rendition_path(path)):
            return self._render(environ, start_response)
        if (not self.s3_list_bucket and method in ("GET", "HEAD") and captured["status"].startswith("404")
                and _object_path(path) and (method == "HEAD" or b"NoSuchKey" in body)):
            return _xml_error(start_response, "403 Forbidden", "AccessDenied", "Access Denied")
        if anonymous:
            headers.append(("X-Content-Type-Options", "nosniff"))
        start_response(captured["status"], headers)
        return [body]

    @staticmethod
    def _render(environ: dict, start_response) -> list[bytes]:
        """Answer a missing rendition from the render function, which reads and stores through
        this emulator (its own signed calls, outside the request lock)."""
        import boto3

        from common.config import get_config
        from images import render

        bucket, key = unquote(environ["PATH_INFO"]).lstrip("/").split("/", 1)
        client = boto3.client("s3", endpoint_url=f"http://{environ['HTTP_HOST']}", region_name="us-east-1",
                              aws_access_key_id="local", aws_secret_access_key="local")  # nosec B106 - the emulator's own
        answer = render.serve(client, bucket, key, max_pixels=get_config().image_max_pixels)
        headers = [*answer.headers.items(), ("Content-Length", str(len(answer.body))),
                   ("X-Content-Type-Options", "nosniff")]
        start_response(f"{answer.status} {'OK' if answer.status == 200 else 'Error'}", headers)
        return [b"" if environ.get("REQUEST_METHOD") == "HEAD" else answer.body]

    @staticmethod
    def _check_presigned_post(environ: dict) -> tuple[str, str, str] | None:
        """Read the form (then put the body back for moto) and check it like S3 would."""
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length <= 0:
            return ("411 Length Required", "MissingContentLength", "You must provide the Content-Length HTTP header.")
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)
        _, form, files = parse_form_data({**environ, "wsgi.input": io.BytesIO(body)})
        upload = files.get("file")
        if upload is None:
            return ("400 Bad Request", "InvalidArgument", "POST requires exactly one file upload per request.")
        size = len(upload.stream.read())
        bucket = unquote(environ.get("PATH_INFO", "")).strip("/")
        return _check_presigned_post(bucket, dict(form.items()), size, datetime.now(timezone.utc))

    def save(self) -> None:
        """Write the current state to disk (atomically)."""
        if self.store is None:
            return
        with self.save_lock:
            with self.lock:
                self.dirty.clear()
                data, named = self.store.snapshot()
            self.store.save(data, named)

    def saver(self, stop: threading.Event) -> None:
        """Save shortly after changes, until stopped."""
        while not stop.is_set():
            if self.dirty.wait(timeout=0.5):
                time.sleep(_SAVE_DELAY)
                try:
                    self.save()
                except Exception:  # keep serving; the next change retries
                    log.exception("could not save the emulator state")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4566)
    parser.add_argument("--state", type=Path, default=None, help="file to keep the state in across restarts")
    parser.add_argument("--s3-list-bucket", choices=("allow", "deny"), default="allow",
                        help="deny: a missing object is 403 AccessDenied, as for a role without s3:ListBucket")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[emulator] %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    cognito_checks.install()
    dynamodb_checks.install()
    if args.state and state.Store(args.state).restore():
        log.debug("restored state from %s", args.state)
    app = Emulator(args.state, s3_list_bucket=args.s3_list_bucket == "allow")
    server = make_server(args.host, args.port, app, threaded=True)
    stop = threading.Event()
    saver = threading.Thread(target=app.saver, args=(stop,), daemon=True)
    saver.start()

    def shutdown(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    log.debug("listening on http://%s:%d", args.host, args.port)  # `make run` prints the URLs
    try:
        server.serve_forever()
    finally:
        stop.set()
        saver.join(timeout=5)
        app.save()
        log.debug("state saved; stopped")
    sys.exit(0)


if __name__ == "__main__":
    main()
