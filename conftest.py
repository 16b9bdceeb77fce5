"""Shared fixtures. The environment is set before any project module is imported: dummy AWS
credentials, a fixed region and no endpoint, so boto3 and PynamoDB talk to moto's in-process
mock_aws in unit tests and never to AWS."""

from __future__ import annotations

import os

from local.stack import LOCAL_AWS_ENV

os.environ.update(LOCAL_AWS_ENV)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

import pytest  # noqa: E402
from moto import mock_aws  # noqa: E402

from common.config import get_config  # noqa: E402
from local import cognito_checks, dynamodb_checks  # noqa: E402

cognito_checks.install()
dynamodb_checks.install()


def _one_request_at_a_time() -> None:
    """In-process moto serves one request at a time, as the emulator process does behind its
    lock (local/emulator.py): its backends are not thread-safe (a transaction deep-copies a
    table another thread is writing), and tests with several writers in threads test our code,
    not moto's locking. Each AWS call stays atomic, as in AWS."""
    import threading

    from moto.core.botocore_stubber import BotocoreStubber

    lock = threading.RLock()
    original = BotocoreStubber.process_request

    def process_request(self, request):
        with lock:
            return original(self, request)

    BotocoreStubber.process_request = process_request


_one_request_at_a_time()


@pytest.fixture(scope="session")
def _aws_snapshot():
    """The stack's resources made once, as `make run` makes them, kept as a snapshot."""
    from local import bootstrap, state

    with mock_aws():
        get_config.cache_clear()
        ids = bootstrap.ensure_stack()
        snapshot = state.snapshot()
    get_config.cache_clear()
    return ids, snapshot


@pytest.fixture(scope="session")
def jwks_url():
    """The pool's JWKS over HTTP on loopback, as the emulator serves it: moto signs tokens with
    the key pair it ships, so its public half is the key set (PyJWT refuses file:// URLs)."""
    import gzip
    import http.server
    import pathlib
    import threading

    import moto.cognitoidp

    body = gzip.decompress(
        (pathlib.Path(moto.cognitoidp.__file__).parent / "resources" / "jwks-public.json.gz").read_bytes()
    )

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    server.shutdown()


@pytest.fixture
def aws(_aws_snapshot, jwks_url, monkeypatch):
    """In-process AWS (moto) holding a fresh copy of the stack's resources."""
    from local import state

    ids, snapshot = _aws_snapshot
    monkeypatch.setenv("COGNITO_JWKS_URL", jwks_url)
    for name, value in ids.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        state.load(snapshot)
        get_config.cache_clear()
        yield get_config()
    get_config.cache_clear()


def pytest_terminal_summary(terminalreporter):
    """Print what tests recorded as a `summary` property (record_property): figures a reader
    of `make test` should see, such as what Terraform applied to the emulator and left out.
    Properties travel with the report, so this works under xdist too."""
    for outcome in ("passed", "failed"):
        for report in terminalreporter.stats.get(outcome, []):
            summaries = [value for name, value in getattr(report, "user_properties", []) if name == "summary"]
            if summaries and report.when == "call":  # the last one: how far the test got
                terminalreporter.write_sep("-", f"{report.nodeid} ({outcome})")
                terminalreporter.write_line(summaries[-1])


# The longest test files start first: with a file per worker at a time, one started last runs
# alone at the end and adds its whole length to the suite's (Terraform's apply is ~4 minutes).
_SLOW_FIRST = ("tests/infra/test_apply.py",)


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: not item.nodeid.startswith(_SLOW_FIRST))  # stable: the rest keep their order
