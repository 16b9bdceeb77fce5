"""Original file names on the local stack: "Download original" saves the file under the name
it was sent with (non-ASCII included) in headless Chromium and over plain HTTP, the bytes
coming straight from the storage endpoint."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
import requests
from PIL import Image

from local.stack import ROOT
from tests.e2e.conftest import create_user, sign_in

pytestmark = pytest.mark.e2e

USER, PASSWORD = "dl-dora", "Dora-pass-1!"
NAME = "Straße café 写真 \u202eevil.png"  # the override character is dropped on the way in
KEPT = "Straße café 写真 evil.png"


@pytest.fixture(scope="module")
def image(local_stack, tmp_path_factory):
    create_user(local_stack, USER, PASSWORD)
    source = tmp_path_factory.mktemp("dl") / "source.png"
    buffer = io.BytesIO()
    Image.effect_noise((300, 200), 40).convert("RGB").save(buffer, format="PNG")
    source.write_bytes(buffer.getvalue())
    code = (
        "import sys, pathlib\n"
        "from images import catalog\n"
        "who = catalog.Actor(sub='dl-sub', username='dl-maker')\n"
        "r = catalog.image_create(owner=who, original_filename=sys.argv[2], data=pathlib.Path(sys.argv[1]).read_bytes(),"
        " meta=catalog.validate_meta(title='Noise to download', description='', keywords='', author='A', capture_date=''))\n"
        "print(r.id)\n"
    )
    made = subprocess.run([sys.executable, "-c", code, str(source), NAME], cwd=ROOT, env=local_stack.env,
                          check=True, capture_output=True, text=True)
    return made.stdout.strip(), source.read_bytes()


def test_download_original_in_chromium_and_over_http(local_stack, image, new_context, tmp_path):
    image_id, data = image
    context = new_context(accept_downloads=True)
    page = context.new_page()
    sign_in(page, local_stack, USER, PASSWORD, next_path=f"/{image_id}/change/")
    assert page.locator(".original-filename").inner_text() == KEPT

    with page.expect_download() as info:
        page.click("a.download-original")
    download = info.value
    assert download.suggested_filename == KEPT
    assert download.url.startswith(local_stack.emulator_url)  # from the storage, not the portal
    saved = tmp_path / "saved.png"
    download.save_as(saved)
    assert saved.read_bytes() == data

    # Over HTTP with the same session: a redirect to the storage, which answers RFC 6266.
    session = requests.Session()
    for cookie in context.cookies():
        session.cookies.set(cookie["name"], cookie["value"])
    first = session.get(f"{local_stack.portal_url}/{image_id}/download/", allow_redirects=False, timeout=30)
    assert first.status_code == 302 and first.headers["Location"].startswith(local_stack.emulator_url)
    answer = session.get(first.headers["Location"], timeout=30)
    assert answer.status_code == 200 and answer.content == data
    assert answer.headers["Content-Disposition"] == (
        "attachment; filename=\"Stra_e cafe __ evil.png\"; "
        "filename*=UTF-8''Stra%C3%9Fe%20caf%C3%A9%20%E5%86%99%E7%9C%9F%20evil.png")
    # Signed in or not at all.
    anonymous = requests.get(f"{local_stack.portal_url}/{image_id}/download/", allow_redirects=False, timeout=30)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous.headers["Location"]
