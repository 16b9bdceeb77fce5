"""The portal's list, change page, duplicate question and trash pick renditions with
<picture>/srcset/sizes: headless Chromium loads the width its screen needs, in AVIF, made on
demand by the local images URL (the trash's drawn by the portal for the owner)."""

from __future__ import annotations

import base64
import io
import os
import re

import pytest
import requests
from PIL import Image

from tests.e2e.conftest import api_auth, create_user, sign_in

pytestmark = pytest.mark.e2e

USER, PASSWORD = "srcset-sam", "Sam-pass-1!"
ORIGINAL_WIDTH = 1600
RENDITION = r"/renditions/[^/]+/[^/]+/(\d+)\.(\w+)$"


def street(width: int = ORIGINAL_WIDTH) -> bytes:
    """A noisy JPEG (so renditions have work to do), the same bytes for one module."""
    noise = Image.frombytes("RGB", (200, 125), os.urandom(200 * 125 * 3)).resize((width, width * 5 // 8))
    buffer = io.BytesIO()
    noise.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def add(stack, title: str, data: bytes) -> str:
    token = api_auth(stack, USER, PASSWORD)["Authorization"]
    reply = requests.post(f"{stack.api_url}/images", headers={"Authorization": token}, timeout=60, json={
        "title": title, "description": "", "author": "Sam", "keywords": "srcset",
        "capture_date": "2023-03-01", "filename": "street.jpg", "image_content": base64.b64encode(data).decode()})
    assert reply.status_code == 201, reply.text
    return reply.json()["id"]


@pytest.fixture(scope="module")
def original(local_stack):
    create_user(local_stack, USER, PASSWORD)
    return street()


@pytest.fixture(scope="module")
def image_id(local_stack, original):
    return add(local_stack, "Srcset: a wide street", original)


def shown(page, img) -> str:
    """The URL the <img> (a locator) shows, once decoded."""
    img.evaluate("i => i.decode()")
    return img.evaluate("i => i.currentSrc")


def read_back(fetch, url: str, pattern: str) -> tuple[int, str]:
    """The (width, format) the URL names, checked against the image it answers."""
    match = re.search(pattern, url)
    assert match, url
    reply = fetch(url)
    with Image.open(io.BytesIO(reply.body() if hasattr(reply, "body") else reply.content)) as im:
        assert (im.width, im.format) == (int(match[1]), match[2].upper())
    return int(match[1]), match[2]


def loaded_rendition(page, path: str, stack) -> tuple[int, str]:
    """Open the page; the (width, format) of the rendition its picture of the test image shows."""
    page.goto(f"{stack.portal_url}{path}")
    page.wait_for_load_state("load")
    source = shown(page, page.locator("img[alt='Srcset: a wide street']").first)
    # Made by the browser's request: now a stored hit.
    return read_back(lambda url: requests.get(url, timeout=30), source, RENDITION)


def test_a_phone_at_2x_gets_narrower_renditions_than_the_original(image_id, local_stack, new_context):
    page = new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2).new_page()
    sign_in(page, local_stack, USER, PASSWORD, next_path="/")
    # The list's 96 px thumbnails at 2x: 192 device pixels, so the 320 rendition.
    assert loaded_rendition(page, "/?q=srcset", local_stack) == (320, "avif")
    # The change page's picture of at most 320 CSS px at 2x: the 640 rendition.
    assert loaded_rendition(page, f"/{image_id}/change/", local_stack) == (640, "avif")


def test_a_desktop_at_1x_gets_the_widths_it_shows(image_id, local_stack, new_context):
    page = new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(page, local_stack, USER, PASSWORD, next_path="/")
    assert loaded_rendition(page, "/?q=srcset", local_stack) == (160, "avif")
    assert loaded_rendition(page, f"/{image_id}/change/", local_stack) == (320, "avif")


def test_a_wide_desktop_at_2x_gets_a_wider_rendition_than_the_phone(image_id, local_stack, new_context):
    page = new_context(viewport={"width": 1440, "height": 900}, device_scale_factor=2).new_page()
    sign_in(page, local_stack, USER, PASSWORD, next_path="/")
    # At 1300 px and wider the change page shows its picture at 480 CSS px: 960 device pixels.
    assert loaded_rendition(page, f"/{image_id}/change/", local_stack) == (1280, "avif")


def test_the_duplicate_question_shows_a_rendition(image_id, original, local_stack, new_context):
    # The form without JavaScript (the add page's file cards build the same <picture>: add.js).
    page = new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                       java_script_enabled=False).new_page()
    sign_in(page, local_stack, USER, PASSWORD, next_path="/add/")
    page.goto(f"{local_stack.portal_url}/add/")
    page.set_input_files("#id_image", {"name": "again.jpg", "mimeType": "image/jpeg", "buffer": original})
    page.fill("#id_title", "The street again")
    page.fill("#id_author", "Sam")
    page.click("input[name=_save]")
    question = page.locator(".duplicate-question")
    assert "the same file as" in question.inner_text()
    # 120 CSS px at 2x: 240 device pixels, so the 320 rendition.
    assert read_back(lambda url: requests.get(url, timeout=30), shown(page, question.locator("img")),
                     RENDITION) == (320, "avif")


def test_the_trash_page_shows_renditions_of_the_thumbnail(local_stack, new_context):
    trashed = add(local_stack, "Srcset: a trashed street", street())
    token = api_auth(local_stack, USER, PASSWORD)["Authorization"]
    assert requests.delete(f"{local_stack.api_url}/images", headers={"Authorization": token},
                           json={"id": trashed}, timeout=30).status_code == 200
    page = new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2).new_page()
    sign_in(page, local_stack, USER, PASSWORD, next_path="/trash/")
    source = shown(page, page.locator("img[alt='Srcset: a trashed street']"))
    # The 96 px cell at 2x: the 320 rendition, drawn by the portal for the signed-in owner.
    assert source.startswith(f"{local_stack.portal_url}/trash/{trashed}/")
    assert read_back(page.request.get, source, r"/trash/[^/]+/\d+/(\d+)\.(\w+)$") == (320, "avif")
    assert requests.get(source, timeout=30, allow_redirects=False).status_code in (302, 403, 404)  # not public
