"""The portal's Content-Security-Policy in a real headless Chromium: the main pages (list,
add, change, delete, sign-in, sign-up) load with their scripts, styles and thumbnails and
report no CSP violation (console messages and securitypolicyviolation events), and a script
injected inline is refused, so the check can fail."""

from __future__ import annotations

import base64

import pytest
import requests

from tests.e2e.conftest import create_user, sign_in
from tests.helpers import make_image

pytestmark = pytest.mark.e2e

USER, PASSWORD = "csp-cleo", "Cleo-pass-1!"
# Collects violations from the first script that runs on each page.
LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


@pytest.fixture(scope="module")
def image_id(local_stack):
    create_user(local_stack, USER, PASSWORD)
    token = requests.post(f"{local_stack.api_url}/users/token", json={"username": USER, "password": PASSWORD},
                          timeout=30).json()["id_token"]
    created = requests.post(f"{local_stack.api_url}/images", headers={"Authorization": token}, timeout=30, json={
        "title": "Policy test", "author": "Cleo", "image_content": base64.b64encode(make_image()).decode()})
    assert created.status_code == 201, created.text
    return created.json()["id"]


def visit(page, url: str, console: list[str]) -> list[str]:
    """Open `url`; the CSP violations it reported."""
    page.goto(url)
    page.wait_for_load_state("networkidle")
    events = page.evaluate("window.__violations")
    return events + [m for m in console if "Content Security Policy" in m]


def test_main_pages_report_no_csp_violation(local_stack, new_context, image_id):
    base = local_stack.portal_url
    context = new_context()
    context.add_init_script(LISTEN)
    page = context.new_page()
    page.set_default_timeout(20_000)
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))

    for path in ("/accounts/login/", "/accounts/signup/"):
        response = page.goto(base + path)
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "default-src 'none'" in policy
        assert visit(page, base + path, console) == [], path
    sign_in(page, local_stack, USER, PASSWORD)
    for path in ("/", "/add/", f"/{image_id}/change/", f"/{image_id}/delete/"):
        assert visit(page, base + path, console) == [], path
        console.clear()
    # The list really showed the thumbnail from the images domain, and the add page's script ran.
    page.goto(base + "/")
    thumbnail = page.locator(f"img[src^='{local_stack.emulator_url}/']").first  # the images domain here
    assert thumbnail.evaluate("i => i.complete && i.naturalWidth > 0")
    page.goto(base + "/add/")
    assert page.locator("#single-upload").is_hidden()

    # An inline script (as a stored XSS would inject) is refused and reported.
    page.goto(base + "/")
    page.evaluate("""() => { const s = document.createElement("script"); s.textContent = "window.__ran = 1";
                             document.body.appendChild(s); }""")
    page.wait_for_timeout(200)
    assert page.evaluate("window.__ran") is None
    assert any(v.startswith("script-src") for v in page.evaluate("window.__violations"))
