"""The local AWS emulator: moto's server in its own process on 127.0.0.1.

On top of stock moto it adds what the local stack needs to behave like AWS:
- state that survives a restart (portal/local/state.py), saved shortly after each change
  and on shutdown;
- requests served one at a time (moto's backends are not thread-safe);
- anonymous requests allowed only where the bucket policy allows them (public image
  objects; the bucket itself is not listable), with the CDN's nosniff header;
- real password checks in the Cognito SRP flow (portal/local/cognito_checks.py);
- GET /_local/health and GET /_local/mailbox (the mail the local Cognito would send).

Run: python -m portal.local.emulator --port 4566 --state .local/emulator-state.pickle
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import logging
import signal
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, unquote

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.s3.models import s3_backends
from werkzeug.serving import make_server

from portal.local import cognito_checks, mailbox, state

log = logging.getLogger("emulator")

# DynamoDB calls that change nothing: no need to save after them.
_READ_ONLY_TARGETS = {
    f"DynamoDB_20120810.{op}"
    for op in ("GetItem", "BatchGetItem", "Query", "Scan", "DescribeTable", "ListTables", "DescribeTimeToLive")
}
_SAVE_DELAY = 0.2  # seconds: one save for a burst of writes


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


def _json(start_response, status: str, body) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


class Emulator:
    """WSGI app: moto behind one lock, plus the local additions."""

    def __init__(self, state_path: Path | None):
        self.moto = DomainDispatcherApplication(create_backend_app)
        self.lock = threading.Lock()
        self.state_path = state_path
        self.dirty = threading.Event()
        self.save_lock = threading.Lock()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/_local/health":
            return _json(start_response, "200 OK", {"status": "ok"})
        if path == "/_local/mailbox":
            username = parse_qs(environ.get("QUERY_STRING", "")).get("username", [None])[0]
            return _json(start_response, "200 OK", mailbox.messages(username))
        anonymous = _is_anonymous_s3(environ)
        if anonymous:
            parts = unquote(path).lstrip("/").split("/", 1)
            if method not in ("GET", "HEAD") or len(parts) < 2 or not parts[1] \
                    or not _bucket_policy_allows_anonymous_get(parts[0], parts[1]):
                body = b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>'
                start_response("403 Forbidden", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
                return [body]
        captured: dict = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, list(headers)
            return lambda data: None

        with self.lock:
            # Consume the whole response inside the lock: moto may build it lazily.
            body = b"".join(self.moto(environ, capture))
            if method != "GET" and environ.get("HTTP_X_AMZ_TARGET") not in _READ_ONLY_TARGETS:
                self.dirty.set()
        headers = captured["headers"]
        if anonymous:
            headers.append(("X-Content-Type-Options", "nosniff"))
        start_response(captured["status"], headers)
        return [body]

    def save(self) -> None:
        """Write the current state to disk (atomically)."""
        if self.state_path is None:
            return
        with self.save_lock:
            with self.lock:
                self.dirty.clear()
                data = state.snapshot()
            state.write_atomically(self.state_path, data)

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
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[emulator] %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    cognito_checks.install()
    if args.state and state.restore(args.state):
        log.info("restored state from %s", args.state)
    app = Emulator(args.state)
    server = make_server(args.host, args.port, app, threaded=True)
    stop = threading.Event()
    saver = threading.Thread(target=app.saver, args=(stop,), daemon=True)
    saver.start()

    def shutdown(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    log.info("listening on http://%s:%d", args.host, args.port)
    try:
        server.serve_forever()
    finally:
        stop.set()
        saver.join(timeout=5)
        app.save()
        log.info("state saved; stopped")
    sys.exit(0)


if __name__ == "__main__":
    main()
