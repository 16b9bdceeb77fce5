"""The portal's image pages in a real headless Chromium against the local stack (issue 5's
"Done when"): sign in, upload two files at once, search, filter, edit, replace, bulk-edit,
export, delete; another person sees no controls and is refused; the list page for 50 images
transfers thumbnails, not originals."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time

import pytest
import requests
from PIL import Image

from local.stack import ROOT
from tests.e2e.conftest import create_user, running_stack, sign_in

pytestmark = pytest.mark.e2e

OWNER, OWNER_PASSWORD = "portal-olga", "Olga-pass-1!"
OTHER, OTHER_PASSWORD = "portal-piet", "Piet-pass-1!"


def jpeg_with_exif(size=(640, 480), color=(30, 60, 120)) -> bytes:
    exif = Image.Exif()
    exif[0x013B] = "Lee Wong"  # Artist
    exif[0x8769] = {0x9003: "2019:08:07 20:15:00"}  # DateTimeOriginal
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="JPEG", quality=90, exif=exif)
    return buffer.getvalue()


def png(size=(500, 400), color=(200, 120, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def payload(name: str, data: bytes, mime: str) -> dict:
    return {"name": name, "mimeType": mime, "buffer": data}


def row(page, title: str):
    return page.locator("#result_list tbody tr", has=page.locator("th.field-title", has_text=title))


def choose_action(page, titles: list[str], action: str) -> None:
    for title in titles:
        row(page, title).locator("input.action-select").check()
    page.select_option("#action-select", action)


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory):
    """A stack of this module's own: its pages count and search the whole catalog (sidebar
    counts, "harbour" finds one row), which other modules' images would change."""
    with running_stack(tmp_path_factory.mktemp("portal-stack")) as stack:
        yield stack


@pytest.fixture(scope="module")
def people(own_stack):
    create_user(own_stack, OWNER, OWNER_PASSWORD)
    create_user(own_stack, OTHER, OTHER_PASSWORD)
    return own_stack


def test_portal_image_pages_end_to_end(people, new_context, artifacts_dir, tmp_path):
    stack = people
    base = stack.portal_url
    context = new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    started = time.monotonic()
    sign_in(page, stack, OWNER, OWNER_PASSWORD, next_path="/add/")

    # Add: two files at once, metadata prefilled from the file, one progress bar each.
    assert page.url.endswith("/add/")
    assert page.locator("#single-upload").is_hidden()
    page.set_input_files("#multi-files", [
        payload("harbour.jpg", jpeg_with_exif(), "image/jpeg"),
        payload("mountain.png", png(), "image/png"),
    ])
    cards = page.locator(".file-card")
    assert cards.count() == 2
    first, second = cards.nth(0), cards.nth(1)
    first_author = first.locator("input[name=author]")
    page.wait_for_function("el => el.value === 'Lee Wong'", arg=first_author.element_handle())
    assert first.locator(".field-author .from-file").inner_text() == "from file"
    assert first.locator("input[name=capture_date]").input_value() == "2019-08-07"
    first.locator("input[name=title]").fill("Harbour lights")
    first.locator("input[name=keywords]").fill("coast, night")
    assert first.locator(".field-title .from-file").is_hidden()  # edited: no longer "from file"
    second.locator("input[name=title]").fill("Mountain dawn")
    second.locator("input[name=keywords]").fill("alps")
    second.locator("input[name=author]").fill("Ana Díaz")
    page.screenshot(path=str(artifacts_dir / "portal-add.png"), full_page=True)
    page.click("#upload-all")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.file-card progress')].every(p => p.value === 100)"
        " && document.querySelectorAll('.file-card.done').length === 2")
    assert [p.get_attribute("value") for p in page.locator(".file-card progress").all()] == ["100", "100"]
    assert "2 added" in page.locator("#upload-summary").inner_text()

    # The list: both, with thumbnails (not originals), linked to the full-size URL.
    page.click("#upload-summary a")
    for title in ("Harbour lights", "Mountain dawn"):
        image = row(page, title).locator("img.thumb")
        assert image.get_attribute("alt") == title
        assert "/thumbnails/" in image.get_attribute("src")
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
        link = row(page, title).locator("td.field-thumbnail a").get_attribute("href")
        assert "/images/" in link and requests.get(link, timeout=30).status_code == 200
    page.screenshot(path=str(artifacts_dir / "portal-list.png"), full_page=True)

    # Search by a title word, then by keyword; filter by author from the sidebar.
    page.fill("#searchbar", "harbour")
    page.select_option("#search-key", "title")
    page.click("#changelist-search input[type=submit]")
    assert page.locator("#result_list tbody tr").count() == 1 and row(page, "Harbour lights").count() == 1
    page.fill("#searchbar", "ALPS")
    page.select_option("#search-key", "keywords")
    page.click("#changelist-search input[type=submit]")
    assert page.locator("#result_list tbody tr").count() == 1 and row(page, "Mountain dawn").count() == 1
    # The sidebar offers the whole catalog's values with counts, even on a page of one image.
    page.goto(base + "/?limit=1")
    authors = page.locator("#changelist-filter details[data-filter-title=author] a")
    assert {"Lee Wong (1)", "Ana Díaz (1)"} <= set(authors.all_inner_texts())
    assert page.locator("#changelist-filter .filter-note").count() == 0
    page.goto(base + "/")
    authors.filter(has_text="Lee Wong").click()
    assert page.locator("#result_list tbody tr").count() == 1 and row(page, "Harbour lights").count() == 1
    chosen = page.locator("#changelist-filter details[data-filter-title=author] li.selected a")
    assert chosen.inner_text() == "Lee Wong (1)" and chosen.get_attribute("aria-current") == "true"
    # The Stored header turns the order around and back.
    page.goto(f"{base}/?creator={OWNER}")
    titles = page.locator("#result_list tbody th.field-title")
    newest_first = titles.all_inner_texts()
    page.click("#result_list thead th.column-storage_date a")
    assert "order=oldest" in page.url
    assert page.locator("#result_list thead th.column-storage_date").get_attribute("aria-sort") == "ascending"
    assert len(newest_first) == 2 and titles.all_inner_texts() == newest_first[::-1]
    assert f"creator={OWNER}" in page.url  # the filter stays
    page.click("#result_list thead th.column-storage_date a")
    assert titles.all_inner_texts() == newest_first and "order=" not in page.url

    # Change: edit the title, then replace the file (same id; the new file has a URL of its own).
    row(page, "Harbour lights").locator("th.field-title a").click()
    image_id = page.url.rstrip("/").split("/")[-2]
    object_url = page.locator(".image-preview a").first.get_attribute("href")
    page.fill("#id_title", "Harbour lights at night")
    page.click("input[name=_continue]")
    assert "was changed" in page.locator(".messagelist").inner_text()
    assert page.locator("#id_title").input_value() == "Harbour lights at night"
    replacement = png(size=(300, 200), color=(10, 200, 10))
    page.set_input_files("#id_image", payload("green.png", replacement, "image/png"))
    page.screenshot(path=str(artifacts_dir / "portal-change.png"), full_page=True)
    page.click("input[name=_continue]")
    assert "file was replaced" in page.locator(".messagelist").inner_text()
    assert page.url.rstrip("/").split("/")[-2] == image_id
    new_url = page.locator(".image-preview a").first.get_attribute("href")
    assert new_url != object_url and requests.get(object_url, timeout=30).status_code in (403, 404)
    served = requests.get(new_url, timeout=30)
    assert served.content == replacement and served.headers["Content-Type"] == "image/png"

    # Bulk: set the author on both (through the action's page).
    page.goto(base + "/")
    choose_action(page, ["Harbour lights at night", "Mountain dawn"], "set_author")
    page.click("#changelist-form .actions button[type=submit]")
    assert "Set the author" in page.locator("h1").inner_text()
    page.fill("#id_author", "Studio North")
    page.click(".submit-row input[type=submit]")
    assert "2 images updated" in page.locator(".messagelist").inner_text()
    for title in ("Harbour lights at night", "Mountain dawn"):
        assert row(page, title).locator("td.field-author").inner_text() == "Studio North"

    # Export the metadata of both as CSV and check its rows.
    choose_action(page, ["Harbour lights at night", "Mountain dawn"], "export_csv")
    with page.expect_download() as download_info:
        page.click("#changelist-form .actions button[type=submit]")
    download = download_info.value
    target = tmp_path / "export.csv"
    download.save_as(target)
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    assert sorted(r["title"] for r in rows) == ["Harbour lights at night", "Mountain dawn"]
    assert {r["author"] for r in rows} == {"Studio North"} and {r["creator"] for r in rows} == {OWNER}
    assert {r["keywords"] for r in rows} == {"coast,night", "alps"}
    assert all(r["object_url"].startswith("http") and r["id"] for r in rows)

    # Delete one through the confirmation page, and see it gone.
    page.goto(base + "/")
    mountain_id = row(page, "Mountain dawn").get_attribute("data-image-id")
    row(page, "Mountain dawn").locator("a.deletelink").click()
    assert "Are you sure" in page.locator("h1").inner_text()
    assert page.locator(".image-preview img").get_attribute("alt") == "Mountain dawn"
    page.click("input[value='Yes, I’m sure']")
    assert "moved to the trash" in page.locator(".messagelist").inner_text()
    assert row(page, "Mountain dawn").count() == 0 and row(page, "Harbour lights at night").count() == 1
    assert page.locator(f"[data-image-id='{mountain_id}']").count() == 0

    # Another person: no controls on those images, and 403 when posting anyway.
    other = new_context().new_page()
    sign_in(other, stack, OTHER, OTHER_PASSWORD)
    theirs = row(other, "Harbour lights at night")
    assert theirs.count() == 1
    assert theirs.locator("a.changelink, a.deletelink").count() == 0
    assert theirs.locator("a.viewlink").count() == 1
    assert other.locator("#action-select option[value=delete_selected]").count() == 0
    other.goto(f"{base}/{image_id}/change/")
    assert other.locator("#image-form, input[name=title]").count() == 0
    assert other.goto(f"{base}/{image_id}/delete/").status == 403
    assert "You can’t do that here" in other.content()
    csrf = next(c["value"] for c in other.context.cookies() if c["name"] == "csrftoken")
    for path, form in [(f"/{image_id}/change/", {"title": "Taken", "author": "X", "version": "99"}),
                       (f"/{image_id}/delete/", {"version": "1"})]:
        reply = other.request.post(base + path, form={**form, "csrfmiddlewaretoken": csrf},
                                   headers={"Referer": base + "/"}, max_redirects=0)
        assert reply.status == 403, (path, reply.status)
    # A bulk action on it is refused and said so, not silently skipped.
    other.goto(base + "/")
    reply = other.request.post(base + "/actions/", form={
        "csrfmiddlewaretoken": csrf, "action": "delete_selected", "post": "yes", "_selected_action": image_id})
    assert reply.ok and "You may not change any of the selected images" in reply.text()
    page.goto(base + "/")
    assert row(page, "Harbour lights at night").count() == 1
    print(f"\nportal browser flow: {time.monotonic() - started:.1f} s")


def test_list_of_50_images_transfers_thumbnails_not_originals(people, new_context, artifacts_dir):
    stack = people
    # 50 images made through the catalog core in the stack's environment (the same write path).
    original = io.BytesIO()
    Image.effect_noise((1200, 900), 60).convert("RGB").save(original, format="JPEG", quality=92)
    source = tmp_source = ROOT / ".local" / "e2e-original.jpg"
    tmp_source.parent.mkdir(exist_ok=True)
    source.write_bytes(original.getvalue())
    code = (
        "import sys, pathlib\n"
        "from images import catalog\n"
        "data = pathlib.Path(sys.argv[1]).read_bytes()\n"
        "who = catalog.Actor(sub='bulk-sub', username='bulk-maker')\n"
        "for n in range(50):\n"
        "    catalog.image_create(owner=who, original_filename='noise.jpg', data=data, meta=catalog.validate_meta(\n"
        "        title=f'Noise {n}', description='', keywords='noise', author='Bulk', capture_date='2020-01-01'))\n"
    )
    subprocess.run([sys.executable, "-c", code, str(source)], cwd=ROOT, env=stack.env, check=True)
    source.unlink()

    page = new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.set_default_timeout(20_000)
    sign_in(page, stack, OWNER, OWNER_PASSWORD, next_path="/add/")  # a page without images
    transferred: dict[str, int] = {}

    def on_finished(request):
        if request.resource_type == "image" and request.url.startswith(stack.emulator_url):
            transferred[request.url] = len(request.response().body())

    page.on("requestfinished", on_finished)
    page.goto(f"{stack.portal_url}/?keyword=noise&limit=50")
    assert page.locator("#result_list tbody tr").count() == 50
    # Lazy thumbnails: scroll to the end so every one of them loads, then count.
    for _ in range(30):
        page.mouse.wheel(0, 1500)
        page.wait_for_timeout(50)
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.thumb')].every(i => i.complete && i.naturalWidth > 0)")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(artifacts_dir / "portal-list-50.png"), full_page=True)
    # A list row shows a rendition (<picture> srcset, the browser's pick) or the thumbnail.
    thumbs = {u: n for u, n in transferred.items() if "/thumbnails/" in u or "/renditions/" in u}
    originals = {u: n for u, n in transferred.items() if "/images/" in u and "/renditions/" not in u}
    total = sum(transferred.values())
    original_total = 50 * len(original.getvalue())
    print(f"\nlist page with 50 images: {len(thumbs)} thumbnails or renditions, {total} image bytes "
          f"({total / 1024:.0f} KiB); the originals would be {original_total / 1024:.0f} KiB")
    assert len(thumbs) == 50 and not originals
    assert total < original_total / 5
    (artifacts_dir / "portal-list-50-bytes.json").write_text(json.dumps(
        {"thumbnails": len(thumbs), "image_bytes": total, "originals_bytes": original_total}))


def test_add_change_and_delete_work_without_javascript(people, new_context, artifacts_dir):
    stack = people
    page = new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(20_000)
    sign_in(page, stack, OWNER, OWNER_PASSWORD, next_path="/add/")
    # The plain form: one file; empty fields are taken from the file's own EXIF.
    assert page.locator("#single-upload").is_visible() and page.locator("#multi-upload").count() == 0
    page.set_input_files("#id_image", payload("plain.jpg", jpeg_with_exif(), "image/jpeg"))
    page.fill("#id_title", "Plain form picture")
    page.click("input[name=_save]")
    assert "was added" in page.locator(".messagelist").inner_text()
    added = row(page, "Plain form picture")
    assert added.locator("td.field-author").inner_text() == "Lee Wong"
    assert added.locator("td.field-capture_date").inner_text() == "2019-08-07"
    added_link = added.locator("a.changelink").get_attribute("href")
    # A refused file says why, on the file field.
    page.goto(stack.portal_url + "/add/")
    page.set_input_files("#id_image", payload("fake.png", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/png"))
    page.fill("#id_title", "Not an image")
    page.fill("#id_author", "X")
    page.click("input[name=_save]")
    assert "JPEG, PNG, GIF or WebP" in page.locator(".field-image .errorlist").inner_text()
    # The same file again: the match is shown and nothing is stored until "Keep both" is ticked.
    page.goto(stack.portal_url + "/add/")
    page.set_input_files("#id_image", payload("again.jpg", jpeg_with_exif(), "image/jpeg"))
    page.fill("#id_title", "Second copy")
    page.click("input[name=_save]")
    question = page.locator(".duplicate-question")
    assert "the same file as “Plain form picture”" in question.inner_text()
    assert question.locator("img").evaluate("img => img.complete && img.naturalWidth > 0")
    assert question.locator("a.duplicate-use").get_attribute("href") == added_link
    page.screenshot(path=str(artifacts_dir / "portal-add-duplicate-no-js.png"), full_page=True)
    page.check("input[name=on_duplicate]")
    page.set_input_files("#id_image", payload("again.jpg", jpeg_with_exif(), "image/jpeg"))
    page.click("input[name=_save]")
    assert "was added" in page.locator(".messagelist").inner_text()
    assert row(page, "Second copy").count() == 1
    # Change, then delete through the confirmation page.
    page.goto(stack.portal_url + "/")
    row(page, "Plain form picture").locator("a.changelink").click()
    page.fill("#id_title", "Plain form picture, renamed")
    page.click("input[name=_save]")
    assert row(page, "Plain form picture, renamed").count() == 1
    row(page, "Plain form picture, renamed").locator("a.deletelink").click()
    page.click("input[value='Yes, I’m sure']")
    assert "moved to the trash" in page.locator(".messagelist").inner_text()
    assert row(page, "Plain form picture, renamed").count() == 0
