"""Accessibility of the portal's pages, measured with a real engine (issue 5's quality bar:
labelled fields, keyboard reachable actions, alt text from titles).

axe-core (bundled inside the axe-playwright-python package, injected into the page; nothing
is fetched at run time) runs on every page people use, in Debian's headless Chromium against
the local stack. No violation of impact "serious" or "critical" is allowed; every violation
found, of any impact, is printed as a compact table and saved under test-artifacts/. A
keyboard test walks the change list with Tab and opens a change page with Enter."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
import uuid
from collections import defaultdict

import pytest
from axe_playwright_python.sync_playwright import Axe
from PIL import Image

from local.stack import ROOT
from tests.e2e.conftest import create_user, sign_in

pytestmark = pytest.mark.e2e

USER, PASSWORD = "a11y-ada", "Ada-pass-1!"
BLOCKING = {"serious", "critical"}
TITLES = ["Quay at dusk", "Red kite", "Old mill"]

# Rules switched off on one page only, each with the reason it is outside our control.
# (page name -> rule ids). Empty: every rule runs on every page.
DISABLED: dict[str, set[str]] = {}


def png(color, size=(320, 240)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def catalog_user(local_stack):
    """A person with three images of their own (made through the catalog core, the same
    write path as the portal)."""
    sub = create_user(local_stack, USER, PASSWORD)
    source = ROOT / ".local" / f"a11y-{uuid.uuid4().hex[:8]}.png"
    source.parent.mkdir(exist_ok=True)
    source.write_bytes(png((40, 90, 160)))
    code = (
        "import sys, pathlib\n"
        "from images import catalog\n"
        "data = pathlib.Path(sys.argv[1]).read_bytes()\n"
        "who = catalog.Actor(sub=sys.argv[2], username=sys.argv[3])\n"
        "for title in sys.argv[4:]:\n"
        "    catalog.image_create(owner=who, original_filename='a11y.png', data=data, meta=catalog.validate_meta(\n"
        "        title=title, description='', keywords='a11y, birds', author='Ada Axe', capture_date='2021-05-04'))\n"
    )
    try:
        subprocess.run([sys.executable, "-c", code, str(source), sub, USER, *TITLES],
                       cwd=ROOT, env=local_stack.env, check=True)
    finally:
        source.unlink(missing_ok=True)
    return local_stack


def row(page, title: str):
    return page.locator("#result_list tbody tr", has=page.locator("th.field-title", has_text=title))


def where(violation: dict) -> dict:
    """The first few nodes of an axe result and axe's messages about them."""
    nodes = violation["nodes"][:5]
    return {"targets": [", ".join(map(str, n["target"])) for n in nodes],
            "why": sorted({c["message"] for n in nodes for c in n["any"] + n["all"] + n["none"]})}


class Audit:
    """Runs axe on pages and keeps every violation found, by page."""

    def __init__(self):
        self.axe = Axe()
        self.found: dict[str, list[dict]] = {}
        self.review: dict[tuple[str, str], list[str]] = defaultdict(list)  # axe's "incomplete"
        self.review_nodes: dict[str, list[dict]] = {}
        self.seconds = 0.0

    def check(self, page, name: str) -> None:
        page.wait_for_load_state("load")
        started = time.monotonic()
        options = {"resultTypes": ["violations"]}
        if DISABLED.get(name):
            options["rules"] = {rule: {"enabled": False} for rule in DISABLED[name]}
        results = self.axe.run(page, options=options)
        self.seconds += time.monotonic() - started
        self.found[name] = [{"id": v["id"], "impact": v["impact"], "count": len(v["nodes"]), **where(v)}
                            for v in results.response["violations"]]
        for v in results.response.get("incomplete", []):  # one node each (resultTypes)
            self.review[(v["id"], v["impact"] or "-")].append(name)
            self.review_nodes.setdefault(name, []).append({"id": v["id"], **where(v)})

    def table(self) -> str:
        totals: dict[tuple[str, str], list] = defaultdict(lambda: [0, []])
        for name, violations in self.found.items():
            for v in violations:
                entry = totals[(v["id"], v["impact"])]
                entry[0] += v["count"]
                entry[1].append(name)
        lines = [f"axe-core on {len(self.found)} pages ({self.seconds:.1f} s in axe): "
                 f"{len(totals)} distinct violations"]
        if totals:
            lines.append(f"{'rule':<28} {'impact':<9} {'nodes':>5}  pages")
        for (rule, impact), (count, pages) in sorted(totals.items(), key=lambda kv: (-kv[1][0], kv[0])):
            lines.append(f"{rule:<28} {impact:<9} {count:>5}  {', '.join(pages)}")
        if self.review:
            lines.append("needs a person's review (axe could not decide; not violations): " + "; ".join(
                f"{rule} ({impact}) on {len(pages)} page{'s' if len(pages) > 1 else ''}"
                for (rule, impact), pages in sorted(self.review.items())))
        return "\n".join(lines)

    def blocking(self) -> dict[str, list[dict]]:
        return {name: [v for v in vs if v["impact"] in BLOCKING]
                for name, vs in self.found.items() if any(v["impact"] in BLOCKING for v in vs)}


def test_portal_pages_have_no_serious_or_critical_axe_violations(catalog_user, new_context, artifacts_dir):
    stack = catalog_user
    base = stack.portal_url
    audit = Audit()
    started = time.monotonic()

    # Signed out: the account pages.
    page = new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(20_000)
    page.goto(base + "/accounts/login/")
    audit.check(page, "sign-in")
    page.screenshot(path=str(artifacts_dir / "a11y-sign-in.png"))
    page.fill("input[name=username]", USER)
    page.fill("input[name=password]", "Wrong-pass-1")
    with page.expect_navigation():
        page.click("#login-form [type=submit]")
    assert page.locator(".errornote").count() == 1
    audit.check(page, "sign-in (error)")
    page.goto(base + "/accounts/signup/")
    audit.check(page, "sign-up")
    page.goto(base + f"/accounts/confirm/?username={USER}")
    assert page.locator("#resend-form input[name=username]").input_value() == USER
    audit.check(page, "confirm")
    page.goto(base + "/accounts/password_reset/")
    audit.check(page, "forgot password")

    # Signed in: the image pages.
    sign_in(page, stack, USER, PASSWORD, next_path="/")
    page.goto(base + "/?creator=" + USER)
    assert page.locator("#result_list tbody tr").count() == len(TITLES)
    assert page.locator("#changelist-filter").is_visible() and page.locator(".actions").is_visible()
    page.locator("#result_list input.action-select").first.check()  # a selected row, the counter live
    page.wait_for_timeout(300)  # the admin's 0.15 s colour transitions on links and rows
    audit.check(page, "change list")
    # The admin's CSS follows the system's dark theme. Loaded afresh in it: switching on a
    # shown page would catch the admin's colour transitions halfway.
    page.emulate_media(color_scheme="dark")
    page.reload()
    page.locator("#result_list input.action-select").first.check()
    page.wait_for_timeout(300)  # the admin's 0.15 s colour transitions on links and rows
    audit.check(page, "change list (dark)")
    page.emulate_media(color_scheme="light")
    page.goto(base + "/?q=nothing-matches-this")
    audit.check(page, "change list (empty)")

    page.goto(base + "/add/")
    page.set_input_files("#multi-files", [
        {"name": "one.png", "mimeType": "image/png", "buffer": png((200, 30, 30))},
        {"name": "two.png", "mimeType": "image/png", "buffer": png((30, 200, 30))},
    ])
    assert page.locator(".file-card").count() == 2
    page.wait_for_load_state("networkidle")  # the per-file metadata prefill
    audit.check(page, "add (JS, two files)")
    # A file already in the catalog (the fixture's images): the card asks what to do.
    page.goto(base + "/add/")
    page.set_input_files("#multi-files", [{"name": "again.png", "mimeType": "image/png", "buffer": png((40, 90, 160))}])
    page.locator(".file-card input[name=author]").fill("Ada Axe")
    page.click("#upload-all")
    page.locator(".file-card .file-duplicate").wait_for()
    audit.check(page, "add (JS, already in the catalog)")

    # The no-JS form: axe itself needs JavaScript, so the page's own scripts are blocked
    # instead (the templates have no inline scripts or <noscript>: the same DOM as no JS).
    no_js_context = new_context(viewport={"width": 1280, "height": 900})
    no_js_context.route("**/*", lambda route: route.abort() if route.request.resource_type == "script"
                        else route.continue_())
    no_js = no_js_context.new_page()
    no_js.set_default_timeout(20_000)
    sign_in(no_js, stack, USER, PASSWORD, next_path="/add/")
    assert no_js.locator("#single-upload").is_visible() and no_js.locator(".file-card").count() == 0
    audit.check(no_js, "add (no JS)")
    no_js.set_input_files("#id_image", {"name": "fake.png", "mimeType": "image/png",
                                        "buffer": b"<svg xmlns='http://www.w3.org/2000/svg'/>"})
    no_js.fill("#id_title", "Not an image")
    with no_js.expect_navigation():
        no_js.click("input[name=_save]")
    assert no_js.locator(".errornote").count() == 1 and no_js.locator(".errorlist").count() >= 1
    audit.check(no_js, "add (no JS, error)")
    # The same question without JavaScript: the match, "use the existing image", "keep both".
    no_js.set_input_files("#id_image", {"name": "again.png", "mimeType": "image/png", "buffer": png((40, 90, 160))})
    no_js.fill("#id_title", "Again")
    no_js.fill("#id_author", "Ada Axe")
    with no_js.expect_navigation():
        no_js.click("input[name=_save]")
    assert no_js.locator(".duplicate-question input[name=on_duplicate]").count() == 1
    audit.check(no_js, "add (no JS, already in the catalog)")

    page.goto(base + "/?creator=" + USER)
    row(page, TITLES[0]).locator("a.changelink").click()
    page.wait_for_url("**/change/")
    audit.check(page, "change")
    page.screenshot(path=str(artifacts_dir / "a11y-change.png"))

    page.goto(base + "/?creator=" + USER)
    row(page, TITLES[1]).locator("a.deletelink").click()
    page.wait_for_url("**/delete/")
    audit.check(page, "delete confirmation")

    page.goto(base + "/?creator=" + USER)
    for title in TITLES[:2]:
        row(page, title).locator("input.action-select").check()
    page.select_option("#action-select", "set_author")
    with page.expect_navigation():
        page.click("#changelist-form .actions button[type=submit]")
    assert "Set the author" in page.locator("h1").inner_text()
    audit.check(page, "bulk action (set author)")
    page.goto(base + "/?creator=" + USER)
    for title in TITLES[:2]:
        row(page, title).locator("input.action-select").check()
    page.select_option("#action-select", "delete_selected")
    with page.expect_navigation():
        page.click("#changelist-form .actions button[type=submit]")
    audit.check(page, "bulk action (delete)")

    assert page.goto(base + "/no-such-page/here/").status == 404
    audit.check(page, "404")

    report = audit.table()
    print(f"\n{report}\naccessibility pages: {time.monotonic() - started:.1f} s")
    (artifacts_dir / "axe-report.json").write_text(json.dumps(
        {"violations": audit.found, "needs_review": audit.review_nodes}, indent=1))
    (artifacts_dir / "axe-report.txt").write_text(report + "\n")
    blocking = audit.blocking()
    assert not blocking, f"serious or critical axe violations:\n{report}\n{json.dumps(blocking, indent=1)}"


def test_change_list_is_keyboard_reachable(catalog_user, new_context):
    stack = catalog_user
    page = new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(20_000)
    sign_in(page, stack, USER, PASSWORD, next_path="/")
    page.goto(stack.portal_url + "/?creator=" + USER)
    page.locator("body").focus()

    wanted = {
        "search box": "el.id === 'searchbar'",
        "filter link": "!!el.closest('#changelist-filter') && el.tagName === 'A'",
        "row checkbox": "el.classList.contains('action-select')",
        "action select": "el.id === 'action-select'",
        "Go button": "el.closest('.actions') !== null && el.tagName === 'BUTTON'",
    }
    reached: dict[str, int] = {}
    for step in range(1, 200):
        page.keyboard.press("Tab")
        for name, test in wanted.items():
            if name not in reached and page.evaluate(f"() => {{ const el = document.activeElement; return {test}; }}"):
                reached[name] = step
        if len(reached) == len(wanted):
            break
    assert set(reached) == set(wanted), f"not reached by Tab: {set(wanted) - set(reached)}"
    assert reached["search box"] < reached["action select"] < reached["Go button"]

    # Enter on a focused "Change" link opens the change page.
    link = row(page, TITLES[2]).locator("a.changelink")
    link.focus()
    assert page.evaluate("() => document.activeElement.classList.contains('changelink')")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/change/") and page.locator("#id_title").input_value() == TITLES[2]
    print(f"\nkeyboard: Tab steps to reach {reached}")
