"""Shared end-to-end fixtures: the local stack as real processes on loopback, a headless
Debian Chromium driven by Playwright, and helpers to make Cognito users and sign in."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from local.stack import ROOT, LocalStack, free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts"


@contextlib.contextmanager
def running_stack(state_dir: Path, **options) -> Iterator[LocalStack]:
    """The emulator, the portal and the REST API on free ports, stopped on exit (never
    restarted, so the emulator keeps its state in memory only)."""
    stack = LocalStack(state_dir=state_dir, emulator_port=free_port(), portal_port=free_port(),
                       api_port=free_port(), quiet=True, persist=False, **options)
    try:
        stack.start_emulator()
        # The faces record their AWS calls for the permission check at the session's end.
        stack.env["AWS_CALL_LOG"] = str(state_dir / "aws-calls")
        RECORDED.append((state_dir / "aws-calls", dict(stack.env)))
        stack.start_faces()
        yield stack
    finally:
        stack.stop()


# (folder of recorded calls, the stack's environment) of every stack this session started.
RECORDED: list[tuple[Path, dict[str, str]]] = []


@pytest.fixture(scope="session", autouse=True)
def permissions_of_recorded_calls(artifacts_dir):
    """After the session's end-to-end tests: every AWS call the portal and the gateway made must
    be allowed by its role's policy as infra/*.tf defines it (tests/infra/recorded.py). The
    report, with each role's grants no call used, goes to test-artifacts/."""
    yield
    if not RECORDED:
        return  # no stack was started (e.g. a run of one unit test in this folder)
    from tests.infra.recorded import check_folder

    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    denied = []
    for number, (folder, env) in enumerate(RECORDED):
        report = check_folder(folder, env)
        (artifacts_dir / f"aws-calls-{worker}-{number}.json").write_text(report.to_json(), encoding="utf-8")
        denied += report.denied
    # (that the faces do record is tests/e2e/test_recorded_calls.py's)
    assert not denied, "calls the deployed roles may not make:\n" + "\n".join(sorted(set(denied)))


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory):
    """The emulator, the portal and the REST API, started once per test session."""
    with running_stack(tmp_path_factory.mktemp("local-stack")) as stack:
        yield stack


@pytest.fixture(scope="module")
def playwright_instance():
    """Playwright's sync API keeps an asyncio loop running in this thread while it is open, and
    Django refuses ORM calls while a loop runs; under pytest-xdist a worker goes on from a
    browser module to Django tests (the fault matrix's portal face). So the loop lives for one
    module, not the session (a browser starts in about a second)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright_instance):
    """Debian's Chromium, headless (never a downloaded browser). Playwright's launch() gives
    it a fresh temporary profile of its own, deleted on close."""
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where screenshots go (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def cognito_client(stack: LocalStack):
    """A boto3 Cognito client on the stack's emulator."""
    return boto3.client(
        "cognito-idp",
        endpoint_url=stack.emulator_url,
        region_name=stack.env["AWS_REGION"],
        aws_access_key_id=stack.env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=stack.env["AWS_SECRET_ACCESS_KEY"],
    )


def s3_client(stack: LocalStack):
    """A boto3 S3 client on the stack's emulator."""
    return boto3.client("s3", endpoint_url=stack.emulator_url, region_name=stack.env["AWS_REGION"],
                        aws_access_key_id=stack.env["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=stack.env["AWS_SECRET_ACCESS_KEY"])


def images_bucket(stack: LocalStack) -> str:
    return stack.env.get("IMAGES_BUCKET", "image-manager-images")  # the code's default locally


def create_user(stack: LocalStack, username: str, password: str, *, email: str | None = None,
                staff: bool = False) -> str:
    """Make a confirmed user with a permanent password in the stack's pool; return its sub."""
    client = cognito_client(stack)
    pool_id = stack.env["COGNITO_USER_POOL_ID"]
    created = client.admin_create_user(
        UserPoolId=pool_id,
        Username=username,
        UserAttributes=[
            {"Name": "email", "Value": email or f"{username}@example.com"},
            {"Name": "email_verified", "Value": "true"},
        ],
        MessageAction="SUPPRESS",
    )
    client.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=password, Permanent=True)
    if staff:
        client.admin_add_user_to_group(
            UserPoolId=pool_id, Username=username, GroupName=stack.env.get("COGNITO_STAFF_GROUP", "staff")
        )
    return next(a["Value"] for a in created["User"]["Attributes"] if a["Name"] == "sub")


def api_auth(stack: LocalStack, username: str, password: str) -> dict[str, str]:
    """The Authorization header of a user's ID token from the stack's POST /users/token."""
    import requests

    reply = requests.post(f"{stack.api_url}/users/token", json={"username": username, "password": password},
                          timeout=30)
    assert reply.status_code == 200, reply.text
    return {"Authorization": reply.json()["id_token"]}


def sign_in(page, stack: LocalStack, username: str, password: str, next_path: str = "/") -> None:
    """Sign in through the portal's login form and wait to land on `next_path`."""
    page.goto(f"{stack.portal_url}/accounts/login/?next={next_path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.locator("form:has(input[name=password]) [type=submit]").click()
    assert "/accounts/login/" not in page.url, f"sign-in as {username} failed: {page.url}"


@pytest.fixture
def new_context(browser):
    """A factory of fresh browser contexts (separate cookies), closed after the test."""
    contexts = []

    def make(**kwargs):
        context = browser.new_context(**kwargs)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
