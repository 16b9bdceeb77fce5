"""The portal's list and change page pick renditions with <picture>/srcset/sizes: headless
Chromium loads the width its screen needs, in AVIF, made on demand by the local images URL."""

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


@pytest.fixture(scope="module")
def image_id(local_stack):
    create_user(local_stack, USER, PASSWORD)
    api = local_stack.api_url
    token = api_auth(local_stack, USER, PASSWORD)["Authorization"]
    noise = Image.frombytes("RGB", (200, 125), os.urandom(200 * 125 * 3)).resize((ORIGINAL_WIDTH, 1000))
    buffer = io.BytesIO()
    noise.save(buffer, "JPEG", quality=85)
    reply = requests.post(f"{api}/images", headers={"Authorization": token}, timeout=60, json={
        "title": "Srcset: a wide street", "description": "", "author": "Sam", "keywords": "srcset",
        "capture_date": "2023-03-01", "filename": "street.jpg",
        "image_content": base64.b64encode(buffer.getvalue()).decode()})
    assert reply.status_code == 201, reply.text
    return reply.json()["id"]


def loaded_rendition(page, path: str, stack) -> tuple[int, str]:
    """Open the page; the (width, format) of the rendition its picture of the test image shows."""
    page.goto(f"{stack.portal_url}{path}")
    page.wait_for_load_state("load")
    img = page.locator("img[alt='Srcset: a wide street']").first
    img.evaluate("i => i.decode()")
    source = img.evaluate("i => i.currentSrc")
    match = re.search(r"/renditions/[^/]+/[^/]+/(\d+)\.(\w+)$", source)
    assert match, source
    stored = requests.get(source, timeout=30)  # made by the browser's request: now a stored hit
    with Image.open(io.BytesIO(stored.content)) as im:
        assert (im.width, im.format) == (int(match[1]), match[2].upper())
    return int(match[1]), match[2]


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
