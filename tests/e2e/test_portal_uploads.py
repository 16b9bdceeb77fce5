"""Portal uploads go from the browser straight to S3 (issue 11), in headless Chromium on the
local stack: the request carrying the file goes to the storage endpoint, never the portal (the
form's prefill reads the stored file); the file's progress bar moves; the server verifies the
stored object before the image is visible; a refused file can be tried again; the stored bytes
come back byte for byte. A file already in the catalog shows the match (issue 12): keep both, or
use the existing image and the upload is dropped."""

from __future__ import annotations

import io
import os
import uuid

import pytest
import requests
from PIL import Image

from tests.e2e.conftest import create_user, images_bucket, s3_client, sign_in
from tests.helpers import jpeg_with_artist

pytestmark = pytest.mark.e2e

USER, PASSWORD = "upload-uma", "Uma-pass-1!"
# The most a form posted to the portal carries when no file byte is in it.
FORM_BYTES = 16 * 1024


def noise_png(megabytes: float) -> bytes:
    side = int((megabytes * 1024 * 1024 / 3) ** 0.5)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def person(local_stack):
    create_user(local_stack, USER, PASSWORD)
    return USER


def upload_through_the_add_page(page, stack, name: str, data: bytes, *, author: str = "Uma") -> list[tuple]:
    """Add one file with the page's script; the (url, method, body size) of every request."""
    sent: list[tuple[str, str, int]] = []
    # Content-Length as sent (Playwright reports no body size for a File in a FormData).
    page.on("requestfinished", lambda r: sent.append((r.url, r.method, int(r.all_headers().get("content-length") or 0))))
    page.goto(f"{stack.portal_url}/add/")
    page.set_input_files("#multi-files", [{"name": name, "mimeType": "image/png", "buffer": data}])
    card = page.locator(".file-card").last
    card.locator("input[name=author]").fill(author)
    page.click("#upload-all")
    return sent


def test_a_file_goes_to_the_storage_endpoint_not_the_portal(local_stack, person, new_context):
    page = new_context().new_page()
    page.set_default_timeout(60_000)
    sign_in(page, local_stack, USER, PASSWORD, next_path="/add/")
    data = noise_png(9)
    seen = []
    page.expose_function("noteProgress", lambda value: seen.append(value))
    # Loopback sends 9 MB before the browser's first progress event: send it at 20 MB/s.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1,
                                                  "uploadThroughput": 20 * 1024 * 1024})
    # Every value the bar takes (the upload's progress events may come faster than a poll).
    page.add_init_script("""
        new MutationObserver(changes => changes.forEach(c => {
            if (c.target.classList.contains('file-progress')) { window.noteProgress(c.target.value); }
        })).observe(document, {attributes: true, attributeFilter: ['value'], subtree: true});
    """)
    sent = upload_through_the_add_page(page, local_stack, "big noise.png", data)
    page.wait_for_selector(".file-card.done")
    status = page.locator(".file-card .file-status").inner_text()
    assert "Uploaded and checked" in status
    for done_with in (".file-retry", ".file-remove"):  # nothing left to do with this file
        assert page.locator(f".file-card {done_with}").is_hidden()

    to_storage = [s for s in sent if s[0].startswith(local_stack.emulator_url) and s[1] == "POST"]
    to_portal = [s for s in sent if s[0].startswith(local_stack.portal_url) and s[1] == "POST"]
    assert len(to_storage) == 1 and to_storage[0][2] > len(data)  # the whole file, in one form
    assert to_portal and all(size <= FORM_BYTES for _, _, size in to_portal), to_portal  # not even a prefill
    assert any(0 < value < 99 for value in seen), seen  # the bar moved while the file went up

    link = page.locator(".file-card .file-status a").get_attribute("href")
    page.goto(f"{local_stack.portal_url}{link}")
    object_url = page.locator(".image-preview > a").get_attribute("href")
    assert requests.get(object_url, timeout=60).content == data  # byte for byte


def test_a_refused_file_says_why_and_can_be_tried_again(local_stack, person, new_context):
    page = new_context().new_page()
    page.set_default_timeout(30_000)
    sign_in(page, local_stack, USER, PASSWORD, next_path="/add/")
    upload_through_the_add_page(page, local_stack, "fake.png", b"not an image " * 100)
    page.wait_for_selector(".file-card.failed")
    card = page.locator(".file-card").last
    assert "JPEG, PNG, GIF or WebP" in card.locator(".file-errors").inner_text()
    assert card.locator(".file-retry").is_visible()
    # Try again (here: with an author missing, refused before any byte is sent).
    card.locator("input[name=author]").fill("")
    card.locator(".file-retry").click()
    page.wait_for_function("() => document.querySelector('.file-card .file-errors').innerText.includes('Author')")
    assert card.locator(".file-retry").is_visible()


def test_an_image_of_more_than_100_mb_through_both_faces(local_stack, person, new_context, tmp_path):
    """Issue 11's "Done when": one generated noisy PNG of 105 MB in through the API's presigned
    route and through the portal in Chromium; accepted, verified, thumbnailed, and served back
    byte for byte both times."""
    data = noise_png(105)
    assert len(data) > 100 * 1024 * 1024
    path = tmp_path / "panorama.png"
    path.write_bytes(data)

    # The API: a presigned form, the file straight to the storage, then the registration.
    token = requests.post(f"{local_stack.api_url}/users/token", json={"username": USER, "password": PASSWORD},
                          timeout=30).json()["id_token"]
    auth = {"Authorization": token}
    upload = requests.post(f"{local_stack.api_url}/images/uploads", headers=auth, timeout=30).json()
    assert upload["max_bytes"] >= 200 * 1024 * 1024
    with path.open("rb") as f:
        stored = requests.post(upload["url"], data=upload["fields"], files={"file": ("panorama.png", f)}, timeout=300)
    assert stored.status_code == 204, stored.text
    created = requests.post(f"{local_stack.api_url}/images", headers=auth, timeout=300, json={
        "title": "Panorama by API", "author": "Uma", "filename": "panorama.png", "upload_key": upload["upload_key"]})
    assert created.status_code == 201, created.text
    image = created.json()["image"]
    assert image["byte_size"] == len(data) and image["width"] * image["height"] > 30_000_000
    assert requests.get(image["thumbnail_url"], timeout=60).headers["Content-Type"] == "image/jpeg"
    assert requests.get(image["object_url"], timeout=300).content == data

    # The portal: the page's script sends it to the storage with its progress bar.
    page = new_context().new_page()
    page.set_default_timeout(300_000)
    sign_in(page, local_stack, USER, PASSWORD, next_path="/add/")
    sent: list[tuple[str, int]] = []
    page.on("requestfinished", lambda r: sent.append((r.url, int(r.all_headers().get("content-length") or 0))))
    page.set_input_files("#multi-files", str(path))
    page.locator(".file-card input[name=author]").fill("Uma")
    page.locator(".file-card input[name=title]").fill("Panorama by portal")
    page.click("#upload-all")
    # The same file went in through the API just now: the page asks first (issue 12).
    page.locator(".file-card.duplicate .duplicate-keep").click()
    page.wait_for_selector(".file-card.done")
    assert [u for u, size in sent if size > len(data)] == [upload["url"]]  # the file went to the storage only
    link = page.locator(".file-card .file-status a").get_attribute("href")
    page.goto(f"{local_stack.portal_url}{link}")
    object_url = page.locator(".image-preview > a").get_attribute("href")
    assert requests.get(object_url, timeout=300).content == data


def jpeg(*, artist: str, color) -> bytes:
    """A small JPEG; the same colour with another Artist is the same picture in other bytes."""
    return jpeg_with_artist(Image.new("RGB", (96, 64), color), artist)


def add_file(page, stack, name: str, data: bytes, title: str | None = None):
    page.goto(f"{stack.portal_url}/add/")
    page.set_input_files("#multi-files", [{"name": name, "mimeType": "image/jpeg", "buffer": data}])
    page.locator(".file-card input[name=author]").fill("Uma")
    if title:
        page.locator(".file-card input[name=title]").fill(title)
    page.click("#upload-all")


def pending_uploads(stack) -> list[str]:
    listed = s3_client(stack).list_objects_v2(Bucket=images_bucket(stack), Prefix="uploads/")
    return [o["Key"] for o in listed.get("Contents", [])]


def test_a_file_already_in_the_catalog_shows_the_match_to_keep_both_or_use_it(local_stack, person, new_context,
                                                                               artifacts_dir):
    page = new_context().new_page()
    page.set_default_timeout(30_000)
    sign_in(page, local_stack, USER, PASSWORD, next_path="/add/")
    color = tuple(uuid.uuid4().bytes[:3])
    original = jpeg(artist="Uma", color=color)
    title = f"Quay {uuid.uuid4().hex[:6]}"
    add_file(page, local_stack, "quay.jpg", original, title)
    page.wait_for_selector(".file-card.done")
    token = requests.post(f"{local_stack.api_url}/users/token", json={"username": USER, "password": PASSWORD},
                          timeout=30).json()["id_token"]

    def titled(name):
        return requests.get(f"{local_stack.api_url}/images/title/{name}", headers={"Authorization": token},
                            timeout=30).json()

    # The same bytes again: the match with its thumbnail; "Keep both" adds it all the same.
    add_file(page, local_stack, "quay-again.jpg", original)
    card = page.locator(".file-card").last
    card.locator(".file-duplicate").wait_for()
    assert "the same file as" in card.locator(".duplicate-text").inner_text()
    assert title in card.locator(".duplicate-text").inner_text()
    thumb = card.locator(".duplicate-preview img")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
    assert "/thumbnails/" in thumb.get_attribute("src")
    page.screenshot(path=str(artifacts_dir / "portal-add-duplicate.png"), full_page=True)
    assert titled("quay again") == []  # nothing stored while the page asks
    card.locator(".duplicate-keep").click()
    page.wait_for_selector(".file-card.done")
    both = titled("quay again")
    assert len(both) == 1 and both[0]["sha256"] == titled(title)[0]["sha256"]

    # The same pixels with another Artist: "the same picture"; using the existing image stores
    # nothing and drops the upload.
    before = pending_uploads(local_stack)
    add_file(page, local_stack, "quay-retouched.jpg", jpeg(artist="Someone else", color=color))
    card = page.locator(".file-card").last
    card.locator(".file-duplicate").wait_for()
    assert "the same picture" in card.locator(".duplicate-text").inner_text()
    card.locator(".duplicate-use").click()
    page.wait_for_selector(".file-card.skipped")
    assert card.locator(".file-duplicate").is_hidden() and card.locator(".file-retry").is_hidden()
    assert "Not added" in card.locator(".file-status").inner_text()
    assert card.locator(".file-status a").get_attribute("href").endswith("/change/")
    assert "already in the catalog" in page.locator("#upload-summary").inner_text()
    assert titled("quay retouched") == [] and pending_uploads(local_stack) == before


def test_leaving_with_files_sent_but_not_added_asks_first(local_stack, person, new_context):
    page = new_context().new_page()
    page.set_default_timeout(30_000)
    sign_in(page, local_stack, USER, PASSWORD, next_path="/add/")
    page.set_input_files("#multi-files", [{"name": "left.jpg", "mimeType": "image/jpeg",
                                          "buffer": jpeg(artist="Uma", color=tuple(uuid.uuid4().bytes[:3]))}])
    page.wait_for_selector(".file-card.stored")
    page.locator(".file-card input[name=author]").fill("Uma")  # the person has used the page
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    page.close(run_before_unload=True)
    page.wait_for_timeout(500)
    assert asked == ["beforeunload"]
