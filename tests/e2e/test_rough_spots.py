"""The rough spots a new user met (issue 24), each checked in Chromium at 390 px and on a
desktop, or over HTTP: the history readable on a phone; the add page's states honest (the bar
full once uploaded, the fields read-only while saved and visibly done after, the duplicate
question pointing where its buttons are); a count on the list; the API's 409 carrying the
image it talks about; DELETE described as what it does; one log line per API request and a
portal 403 as one line. Screenshots go to test-artifacts/rough-*.png."""

from __future__ import annotations

import base64
import io
import json
import os
import time

import pytest
import requests
import yaml
from PIL import Image

from local import timing
from tests.e2e.conftest import create_user, sign_in

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
USER, OTHER, PASSWORD = "rough-rosa", "rough-otto", "Rosa-pass-1!"
AUTHOR = "Rosa Rough-Spots"


def png(color=None) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), color or tuple(os.urandom(3))).save(buffer, format="PNG")
    return buffer.getvalue()


def token(stack, user: str) -> dict:
    reply = requests.post(f"{stack.api_url}/users/token", json={"username": user, "password": PASSWORD}, timeout=30)
    return {"Authorization": reply.json()["id_token"]}


@pytest.fixture(scope="module")
def rosa(local_stack):
    """Rosa with three images made through the API; the first edited three times (its file too)."""
    create_user(local_stack, USER, PASSWORD)
    create_user(local_stack, OTHER, PASSWORD)
    auth, made = token(local_stack, USER), []
    for n, keywords in enumerate(("rough,demo", "rough", "other")):
        reply = requests.post(f"{local_stack.api_url}/images", headers=auth, timeout=60, json={
            "title": f"Rough harbour {n}", "description": "", "author": AUTHOR, "keywords": keywords,
            "filename": f"rough-{n}.png", "image_content": base64.b64encode(png()).decode()})
        assert reply.status_code == 201, reply.text
        made.append(reply.json()["image"])
    first = made[0]
    for change in ({"title": "Rough harbour at dawn, Lisbon", "keywords": "rough,demo,supercalifragilistic"},
                   {"description": "A long description of the harbour at dawn, with boats, gulls and a lighthouse."},
                   {"image_content": base64.b64encode(png()).decode(), "filename": "rough-0-v2.png"}):
        reply = requests.put(f"{local_stack.api_url}/images", headers=auth, timeout=60,
                             json={"id": first["id"], "version": first["version"], **change})
        assert reply.status_code == 200, reply.text
        first = reply.json()["image"]
    return local_stack, made, first


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_history_reads_on_a_phone_and_a_desktop(rosa, new_context, artifacts_dir, viewport):
    stack, _, image = rosa
    page = new_context(viewport=viewport).new_page()
    sign_in(page, stack, USER, PASSWORD, next_path=f"/{image['id']}/history/")
    page.screenshot(path=str(artifacts_dir / f"rough-history-{viewport['width']}.png"), full_page=True)
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner, f"the page is {scroll} px wide in a {inner} px window"
    for bar in ("#header", "div.breadcrumbs"):
        box = page.locator(bar).bounding_box()
        assert box["x"] == 0 and box["width"] == inner, (bar, box)
    changes = page.locator("#change-history td.history-changes")
    assert changes.count() == 4
    assert min(changes.nth(i).bounding_box()["width"] for i in range(4)) >= (300 if viewport is PHONE else 600)
    # Field names and short words stay whole; only a value longer than the line (a sha256) breaks.
    broken = page.evaluate("""() => {
        const broken = [];
        for (const cell of document.querySelectorAll('#change-history td.history-changes')) {
            const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
            while (walker.nextNode()) {
                const node = walker.currentNode, text = node.textContent;
                for (const m of text.matchAll(/[^\\s,]+/g)) {
                    if (m[0].length > 30) continue;
                    const range = document.createRange();
                    range.setStart(node, m.index); range.setEnd(node, m.index + m[0].length);
                    const lines = new Set(Array.from(range.getClientRects()).map(r => Math.round(r.top)));
                    if (lines.size > 1) broken.push(m[0]);
                }
            }
        }
        return broken;
    }""")
    assert broken == [], f"words broken mid-word: {broken}"
    sha = page.locator("#change-history tr", has_text="replace").locator("td.history-changes")
    assert "sha256" in sha.inner_text() and sha.bounding_box()["x"] + sha.bounding_box()["width"] <= inner


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_add_page_says_what_is_happening(rosa, new_context, artifacts_dir, viewport):
    stack, _, _ = rosa
    page = new_context(viewport=viewport).new_page()
    page.set_default_timeout(20_000)
    sign_in(page, stack, USER, PASSWORD, next_path="/add/")
    picture = png()
    page.set_input_files("#multi-files", [{"name": "rough-new.png", "mimeType": "image/png", "buffer": picture}])
    card = page.locator(".file-card").first
    card.locator(".file-status", has_text="Uploaded").wait_for()
    bar = card.locator(".file-progress")
    assert bar.evaluate("p => [p.value, p.max]") == [100, 100]  # uploaded: the bar is full
    card.locator(".field-author input").fill("Rosa Adds")

    held = []
    page.route("**/add/register/", lambda route: held.append(route))
    page.click("#upload-all")
    deadline = time.monotonic() + 20
    while not held:
        assert time.monotonic() < deadline, "the page did not register the file"
        page.wait_for_timeout(50)
    # While the server checks the file: the fields are what is sent, so read-only; no fraction to show.
    assert card.locator(".file-status").inner_text() == "Checking the file…"
    assert all(i.evaluate("el => el.readOnly") for i in card.locator(".file-fields input, .file-fields textarea").all())
    assert bar.evaluate("p => p.hasAttribute('value')") is False
    held[0].continue_()
    page.unroute("**/add/register/")
    card.locator(".file-status", has_text="Uploaded and checked").wait_for()
    assert bar.evaluate("p => p.value") == 100
    title = card.locator(".field-title input")
    assert title.is_disabled()
    # Done: the fields look as unchangeable as they are (not the white of a field to fill in).
    assert title.evaluate("el => getComputedStyle(el).backgroundColor") != "rgb(255, 255, 255)"
    page.screenshot(path=str(artifacts_dir / f"rough-add-done-{viewport['width']}.png"), full_page=True)

    # The same picture again: the question is on its card, above the summary that points to it.
    page.set_input_files("#multi-files", [{"name": "rough-again.png", "mimeType": "image/png", "buffer": picture}])
    again = page.locator(".file-card").nth(1)
    again.locator(".file-status", has_text="Uploaded").wait_for()
    again.locator(".field-author input").fill("Rosa Adds")
    page.click("#upload-all")
    page.locator("#upload-summary", has_text="already in the catalog").wait_for()
    assert "choose above" in page.inner_text("#upload-summary")
    assert again.locator(".file-progress").evaluate("p => p.value") == 100
    use = again.locator(".duplicate-use").bounding_box()
    assert use["y"] + use["height"] <= page.locator("#upload-summary").bounding_box()["y"]
    page.screenshot(path=str(artifacts_dir / f"rough-add-duplicate-{viewport['width']}.png"), full_page=True)
    again.locator(".duplicate-use").click()
    again.locator(".file-status", has_text="Not added").wait_for()


def every_image(stack, auth) -> int:
    url, seen = f"{stack.api_url}/images?limit=100", 0
    while url:
        reply = requests.get(url, headers=auth, timeout=60)
        assert reply.status_code == 200
        seen += len(reply.json())
        url = reply.links.get("next", {}).get("url")
    return seen


def test_the_list_counts_as_the_admin_does(rosa, new_context):
    stack, _, _ = rosa
    page = new_context(viewport=DESKTOP).new_page()
    sign_in(page, stack, USER, PASSWORD)
    total = every_image(stack, token(stack, USER))
    count = page.locator("nav.paginator .result-count")
    assert count.inner_text() == f"{total:,} images in all."
    page.goto(f"{stack.portal_url}/?author={AUTHOR}")  # one filter: its counter, exact
    assert count.inner_text() == f"3 match, of {total:,} images in all."
    page.goto(f"{stack.portal_url}/?author={AUTHOR}&keyword=rough")  # two: the rarer one's count, a bound
    assert count.inner_text() == f"At most 2 match, of {total:,} images in all."
    assert page.locator("#result_list tbody tr").count() == 2


def test_the_api_409_carries_the_image_and_its_version(rosa):
    stack, made, _ = rosa
    auth = token(stack, USER)
    image = made[1]
    now = requests.put(f"{stack.api_url}/images", headers=auth, timeout=60,
                       json={"id": image["id"], "version": image["version"], "title": "Theirs"}).json()["image"]
    for method, body, text in (("PUT", {"title": "Mine"}, "message"), ("DELETE", {}, "msg")):
        reply = requests.request(method, f"{stack.api_url}/images", headers=auth, timeout=60,
                                 json={"id": image["id"], "version": image["version"], **body})
        assert reply.status_code == 409, reply.text
        answer = reply.json()
        assert answer["version"] == now["version"] and answer["image"] == now
        assert f"their version (version {now['version']}) is shown" in answer[text]


def test_delete_is_described_as_a_move_to_the_trash(rosa, new_context):
    stack, _, _ = rosa
    page = new_context().new_page()
    sign_in(page, stack, USER, PASSWORD)
    spec = yaml.safe_load(page.request.get(f"{stack.portal_url}/api/openapi.yaml").text())
    delete = spec["paths"]["/images"]["delete"]
    assert "trash" in delete["summary"] and "Delete an image, its record" not in delete["summary"]


def _lines(stack, name: str) -> list[str]:
    return (stack.state_dir / f"{name}.log").read_text(encoding="utf-8", errors="replace").splitlines()


def test_one_log_line_per_api_request_and_a_portal_403_in_one_line(rosa, new_context):
    stack, made, _ = rosa
    before = len(_lines(stack, "api"))
    auth = token(stack, USER)  # 1: answered
    sent = [requests.get(f"{stack.api_url}/images?limit=1", headers=auth, timeout=30),  # answered
            requests.get(f"{stack.api_url}/images", timeout=30),  # 401 from the gateway
            requests.get(f"{stack.api_url}/no-such-route", headers=auth, timeout=30),  # 403 from the gateway
            requests.delete(f"{stack.api_url}/images", headers=token(stack, OTHER), timeout=30,
                            json={"id": made[2]["id"]})]  # 2: a token, then 403 from the handler
    assert [r.status_code for r in sent] == [200, 401, 403, 403]
    time.sleep(0.3)
    lines = _lines(stack, "api")[before:]
    records = [json.loads(line) for line in lines]  # every line is JSON: no access lines
    assert [r["status"] for r in records] == [200, 200, 401, 403, 200, 403], lines

    page = new_context().new_page()
    sign_in(page, stack, OTHER, PASSWORD)
    before = len(_lines(stack, "portal"))
    assert page.goto(f"{stack.portal_url}/{made[2]['id']}/delete/").status == 403
    time.sleep(0.3)
    json_lines = [json.loads(line) for line in _lines(stack, "portal")[before:] if line.startswith("{")]
    forbidden = [r for r in json_lines if r.get("status_code") == 403]
    assert len(forbidden) == 1 and "exception" not in forbidden[0], forbidden
    assert forbidden[0]["reason"] == "Only the image's owner or staff may delete it."


def test_each_local_answer_says_what_the_emulator_took(rosa, new_context):
    """`make load` tells the code's time from the local stand-in's by these headers."""
    stack, made, _ = rosa
    reply = requests.get(f"{stack.api_url}/images/id/{made[2]['id']}", headers=token(stack, USER), timeout=30)
    spent = timing.parse(reply.headers["Server-Timing"])
    assert set(spent) == {"emulator", "queue", "aws", "app"}
    assert 0 < spent["emulator"] and spent["emulator"] + spent["queue"] <= spent["aws"] <= spent["app"]
    page = new_context().new_page()
    sign_in(page, stack, USER, PASSWORD)
    answer = page.goto(f"{stack.portal_url}/?author={AUTHOR}")
    spent = timing.parse(answer.headers["server-timing"])
    assert 0 < spent["emulator"] and spent["emulator"] + spent["queue"] <= spent["aws"] <= spent["app"]


def test_people_signing_in_at_once_all_get_in(local_stack):
    """Each sign-in writes its user's row in the portal's SQLite; at once, they used to meet
    "database is locked" (a 500) instead of waiting their turn."""
    import concurrent.futures
    import re

    users = [f"rough-at-once-{n}" for n in range(6)]
    for user in users:
        create_user(local_stack, user, PASSWORD)

    def sign_in_by_form(user: str) -> tuple[int, bool]:
        session, login = requests.Session(), f"{local_stack.portal_url}/accounts/login/"
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', session.get(login, timeout=30).text).group(1)
        reply = session.post(login, data={"username": user, "password": PASSWORD, "csrfmiddlewaretoken": token},
                             headers={"Referer": login}, timeout=120)
        return reply.status_code, "/accounts/login/" not in reply.url

    with concurrent.futures.ThreadPoolExecutor(len(users)) as pool:
        assert list(pool.map(sign_in_by_form, users)) == [(200, True)] * len(users)
