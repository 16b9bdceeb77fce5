"""The portal on a phone (issue 13): at 390x844 in headless Chromium no page scrolls sideways,
the search box takes at least half the width, the filters wait behind a control, and each
row of the change list shows its thumbnail, title and actions with the other columns below
them. Also the rough spots a newcomer met on a desktop: buttons of one height whose text sits
in the middle, a refused non-image without a broken-image icon, date fields whose display and
help agree, and a favicon. Screenshots go to test-artifacts/phone-*.png."""

from __future__ import annotations

import base64
import io

import pytest
import requests
from PIL import Image

from tests.e2e.conftest import create_user, sign_in

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
USER, PASSWORD = "phone-paula", "Paula-pass-1!"
TITLES = ("Phone: a quay at dusk, with a long title that must wrap", "Phone: lake", "Phone: old town")


def png(color) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), color).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def phone_user(local_stack):
    """A user with three images, made through the REST API."""
    create_user(local_stack, USER, PASSWORD)
    api = local_stack.api_url
    token = requests.post(f"{api}/users/token", json={"username": USER, "password": PASSWORD},
                          timeout=30).json()["id_token"]
    for n, title in enumerate(TITLES):
        reply = requests.post(f"{api}/images", headers={"Authorization": token}, timeout=60, json={
            "title": title, "description": "", "author": "Paula Ruiz",
            # A long word without a break must wrap, not widen the page.
            "keywords": "phone,test" + (",supercalifragilisticexpialidociousness" if n == 0 else ""),
            "capture_date": f"2021-0{n + 1}-15", "filename": f"p{n}.png",
            "image_content": base64.b64encode(png((40 * n, 90, 160))).decode()})
        assert reply.status_code == 201, reply.text
    return local_stack


def fits(page, name: str, artifacts_dir) -> None:
    """Screenshot the page and check it does not scroll sideways."""
    page.wait_for_load_state("load")
    page.screenshot(path=str(artifacts_dir / f"{name}.png"), full_page=True)
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner, f"{name}: the page is {scroll} px wide in a {inner} px window"


def box(page, selector: str) -> dict:
    found = page.locator(selector).first.bounding_box()
    assert found, f"{selector} is not displayed"
    return found


def on_screen(page, selector: str) -> None:
    b = box(page, selector)
    assert b["x"] >= 0 and b["x"] + b["width"] <= PHONE["width"] + 0.5, f"{selector} sticks out: {b}"


def text_offset(page, selector: str) -> float:
    """How far the middle of an element's text is from the middle of the element, in px."""
    return page.locator(selector).first.evaluate("""el => {
        const r = el.getBoundingClientRect(), range = document.createRange();
        range.selectNodeContents(el);
        const t = range.getBoundingClientRect();
        return Math.abs((t.top + t.height / 2) - (r.top + r.height / 2));
    }""")


def same_height(page, *selectors: str) -> None:
    heights = {s: round(box(page, s)["height"], 1) for s in selectors}
    assert max(heights.values()) - min(heights.values()) <= 1, heights
    for s in selectors:
        room = page.locator(s).first.evaluate("""el => {
            const r = el.getBoundingClientRect(), range = document.createRange();
            range.selectNodeContents(el);
            const t = el.tagName === "INPUT" ? null : range.getBoundingClientRect();
            return t ? Math.min(t.left - r.left, r.right - t.right) : parseFloat(getComputedStyle(el).paddingLeft);
        }""")
        assert room >= 12, f"{s}: cramped ({room} px beside its text)"
        if page.locator(s).first.evaluate("el => el.tagName") != "INPUT":
            assert text_offset(page, s) <= 1.5, f"{s}: its text is not in the middle"


def test_every_page_fits_a_phone(phone_user, new_context, artifacts_dir):
    stack = phone_user
    page = new_context(viewport=PHONE).new_page()
    page.set_default_timeout(20_000)

    page.goto(f"{stack.portal_url}/accounts/login/")
    fits(page, "phone-sign-in", artifacts_dir)
    on_screen(page, "#id_username")
    on_screen(page, "#login-form [type=submit]")
    sign_in(page, stack, USER, PASSWORD, next_path="/")

    # The change list: a wide search box, filters behind a control, rows as cards.
    fits(page, "phone-list", artifacts_dir)
    assert box(page, "#searchbar")["width"] >= PHONE["width"] / 2
    for selector in ("#searchbar", "#search-key", "#changelist-search [type=submit]", "#action-select",
                     ".object-tools .addlink"):
        on_screen(page, selector)
    facets = page.locator("#changelist-filter details[data-filter-title]")
    assert facets.count() > 0 and not facets.first.is_visible(), "the filters are collapsed"
    page.click("#changelist-filter-toggle")
    assert facets.first.is_visible()
    fits(page, "phone-list-filters-open", artifacts_dir)
    page.click("#changelist-filter-toggle")
    row = page.locator("#result_list tbody tr", has=page.locator("th.field-title", has_text=TITLES[1]))
    for cell in ("td.field-thumbnail img", "th.field-title a", "td.field-tools a.changelink",
                 "td.field-author a", "td.field-keywords a", "td.field-capture_date a", "td.action-checkbox input"):
        b = row.locator(cell).first.bounding_box()
        assert b and b["x"] >= 0 and b["x"] + b["width"] <= PHONE["width"], f"{cell}: {b}"
    assert row.locator("td.field-author").inner_text() == "Paula Ruiz"

    # Bulk set-author: the form and both buttons, one height, text in the middle.
    for title in TITLES[:2]:
        page.locator("#result_list tbody tr", has=page.locator("th.field-title", has_text=title)) \
            .locator("input.action-select").check()
    page.select_option("#action-select", "set_author")
    page.click("#changelist-form .actions button[type=submit]")
    fits(page, "phone-set-author", artifacts_dir)
    on_screen(page, "#id_author")
    same_height(page, ".submit-row input[type=submit]", ".submit-row a.cancel-link")

    # Change: the date field shows the format its help text names.
    page.goto(f"{stack.portal_url}/?creator={USER}")
    page.locator("th.field-title a", has_text=TITLES[1]).click()
    fits(page, "phone-change", artifacts_dir)
    date = page.locator("#id_capture_date")
    assert date.input_value() == "2021-02-15" and date.get_attribute("placeholder") == "YYYY-MM-DD"
    assert date.evaluate("el => el.type") == "text"  # a browser's date field shows its locale's order
    assert "YYYY-MM-DD" in page.locator("#id_capture_date_helptext").inner_text()
    on_screen(page, "#id_title")
    on_screen(page, ".submit-row input[name=_save]")
    # A replacement file already in the catalog (the first image's): the question fits too.
    page.set_input_files("#id_image", {"name": "p0.png", "mimeType": "image/png", "buffer": png((0, 90, 160))})
    page.click(".submit-row input[name=_continue]")
    assert "Already in the catalog" in page.locator(".duplicate-question").inner_text()
    fits(page, "phone-change-duplicate", artifacts_dir)
    on_screen(page, ".duplicate-question a.duplicate-use")
    on_screen(page, ".duplicate-question input[name=on_duplicate]")

    page.click(".submit-row a.deletelink")
    fits(page, "phone-delete", artifacts_dir)
    same_height(page, "#content-main form input[type=submit]", "#content-main form a.cancel-link")

    page.goto(stack.portal_url + "/add/")
    fits(page, "phone-add", artifacts_dir)
    on_screen(page, "#dropzone label.button")
    add_a_picture_and_a_non_image(page, artifacts_dir, "phone-add-uploaded", (60, 160, 60))
    fits(page, "phone-add-refused", artifacts_dir)
    on_screen(page, "#upload-all")


def add_a_picture_and_a_non_image(page, artifacts_dir, name: str, color) -> None:
    """Two files on the add page, one not an image: its card has no broken preview, and its
    error line starts where the card's status line does. A colour of its own per call: the
    same picture twice would stop at the page's "already in the catalog" question."""
    page.set_input_files("#multi-files", [
        {"name": "phone-meadow.png", "mimeType": "image/png", "buffer": png(color)},
        {"name": "phone-notes.jpg", "mimeType": "image/jpeg", "buffer": b"not a picture at all\n" * 20},
    ])
    cards = page.locator(".file-card")
    assert cards.count() == 2
    for author in page.locator(".file-card .field-author input").all():
        author.fill("Ann Lee")
    same_height(page, "#upload-all", ".file-card .file-remove", "#multi-submit a.closelink")
    page.click("#upload-all")
    page.locator("#upload-summary", has_text="added").wait_for()
    page.screenshot(path=str(artifacts_dir / f"{name}.png"), full_page=True)
    assert page.locator(".file-card.done").count() == 1, page.locator(".file-card").all_inner_texts()
    refused = page.locator(".file-card.failed")
    broken = page.evaluate("""() => Array.from(document.querySelectorAll('.file-card img'))
        .filter(img => img.offsetParent !== null && img.complete && img.naturalWidth === 0).length""")
    assert broken == 0, "a broken-image icon is shown"
    errors, status = refused.locator(".file-errors").bounding_box(), refused.locator(".file-status").bounding_box()
    assert abs(errors["x"] - status["x"]) <= 1, (errors, status)
    assert "not" in refused.locator(".file-errors").inner_text().lower()


def test_rough_spots_on_a_desktop(phone_user, new_context, artifacts_dir):
    stack = phone_user
    page = new_context(viewport=DESKTOP).new_page()
    page.set_default_timeout(20_000)
    sign_in(page, stack, USER, PASSWORD, next_path="/add/")
    add_a_picture_and_a_non_image(page, artifacts_dir, "desktop-add-refused", (60, 60, 160))
    page.goto(f"{stack.portal_url}/?creator={USER}")
    page.locator("#result_list tbody input.action-select").first.check()
    page.select_option("#action-select", "set_author")
    page.click("#changelist-form .actions button[type=submit]")
    same_height(page, ".submit-row input[type=submit]", ".submit-row a.cancel-link")
    page.screenshot(path=str(artifacts_dir / "desktop-set-author.png"), full_page=True)

    # The favicon: linked from every page, and at /favicon.ico where browsers look unasked.
    icon = page.locator("link[rel=icon]").get_attribute("href")
    for url in (stack.portal_url + icon, stack.portal_url + "/favicon.ico"):
        reply = requests.get(url, timeout=10)
        assert reply.status_code == 200 and reply.headers["Content-Type"].startswith("image/"), url
        assert reply.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    page.set_viewport_size({"width": 820, "height": 1180})  # a tablet: the table scrolls in its box
    page.goto(stack.portal_url + "/")
    fits(page, "tablet-list", artifacts_dir)
    log = (stack.state_dir / "portal.log").read_text(errors="replace")
    assert "/favicon.ico HTTP/1.1\" 404" not in log
