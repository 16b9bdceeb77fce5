"""/api/docs/ (issue 13): the portal renders every route of infra/openapi.yaml with Swagger UI
from its own static files, in headless Chromium, with no request leaving the machine and
nothing refused by the portal's Content-Security-Policy (no inline script), at desktop and
phone width; the header links to it."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests
import yaml

from tests.infra.hcl import OPENAPI

pytestmark = pytest.mark.e2e

METHODS = ("get", "post", "put", "delete", "patch", "head", "options")
def operations() -> list[tuple[str, str]]:
    document = yaml.safe_load(OPENAPI.read_text())
    return [(method, path) for path, item in document["paths"].items() for method in item if method in METHODS]


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, {"width": 390, "height": 844}],
                         ids=["desktop", "phone"])
def test_api_docs_render_every_route_with_nothing_fetched_from_elsewhere(local_stack, new_context, artifacts_dir,
                                                                         viewport):
    docs_url = f"{local_stack.portal_url}/api/docs/"
    page = new_context(viewport=viewport).new_page()
    page.set_default_timeout(20_000)
    outside, refused, errors = [], [], []

    def guard(route):
        if urlsplit(route.request.url).hostname != "127.0.0.1":
            outside.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.route("**/*", guard)
    page.on("console", lambda m: (refused if "Content Security Policy" in m.text else errors).append(m.text)
            if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    policy = page.goto(docs_url).headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe" not in policy, policy  # the portal's own, unrelaxed
    expected = operations()
    blocks = page.locator("#swagger-ui .opblock")
    blocks.nth(len(expected) - 1).wait_for()  # (a string predicate would need eval, which the policy refuses)
    assert blocks.count() == len(expected) >= 8
    for method, path in expected:
        block = page.locator(f"#swagger-ui .opblock-{method}", has=page.locator(f'[data-path="{path}"]'))
        assert block.count() == 1, f"{method.upper()} {path} is not rendered"
    assert "Image Manager API" in page.locator("#swagger-ui .info .title").inner_text()
    page.locator("#swagger-ui .opblock-post", has=page.locator('[data-path="/images/uploads"]')).click()
    page.locator("#swagger-ui .opblock.is-open .responses-wrapper").wait_for()
    name = "desktop" if viewport["width"] > 800 else "phone"
    page.screenshot(path=str(artifacts_dir / f"api-docs-{name}.png"), full_page=name == "phone")
    assert outside == [], f"requests left the machine: {outside}"
    assert refused == [], f"the Content-Security-Policy refused: {refused}"
    assert errors == [], errors
    if name == "phone":
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll <= inner, f"the docs page is {scroll} px wide in a {inner} px window"


def test_the_header_links_the_docs_and_the_document_is_the_file(local_stack, new_context):
    page = new_context().new_page()
    page.goto(f"{local_stack.portal_url}/accounts/login/")
    page.click("#user-tools a:text('API docs')")
    assert page.url == f"{local_stack.portal_url}/api/docs/"
    reply = requests.get(f"{local_stack.portal_url}/api/openapi.yaml", timeout=10)
    assert reply.status_code == 200 and reply.headers["Content-Type"].startswith("application/yaml")
    assert reply.content == OPENAPI.read_bytes()
