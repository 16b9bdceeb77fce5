"""Issue 11's "Done when": an export of 200 images completes under the Procfile's gunicorn
settings (3 sync workers, the default 30 s timeout) while the emulator's S3 is slowed down so
much (EMULATOR_S3_READ_DELAY per object read) that the export takes longer than the worker
timeout; meanwhile the portal keeps answering, and no worker is killed."""

from __future__ import annotations

import io
import os
import re
import shlex
import subprocess
import sys
import time
import zipfile

import pytest
import requests

from local.emulator import READ_DELAY_ENV
from local.stack import ROOT, LocalStack, free_port, wait_for_http
from tests.e2e.conftest import create_user

pytestmark = pytest.mark.e2e

IMAGES = 200
READ_DELAY = 0.16  # seconds per object read: 200 reads take 32 s at least, past the 30 s worker timeout
WORKER_TIMEOUT = 30  # gunicorn's default; the Procfile sets none
USER, PASSWORD = "export-erik", "Erik-pass-1!"


def procfile_command(port: int) -> list[str]:
    """The Procfile's web command as it is, on another port."""
    (line,) = [l for l in (ROOT / "Procfile").read_text().splitlines() if l.startswith("web:")]
    args = shlex.split(line.removeprefix("web:"))
    assert args[0] == "gunicorn" and "--timeout" not in args and "-t" not in args
    args[args.index("--bind") + 1] = f"127.0.0.1:{port}"
    return [sys.executable, "-m", *args]


@pytest.fixture(scope="module")
def slow_stack(tmp_path_factory):
    stack = LocalStack(state_dir=tmp_path_factory.mktemp("slow-stack"), emulator_port=free_port(),
                       portal_port=free_port(), api_port=free_port(), quiet=True, persist=False)
    os.environ[READ_DELAY_ENV] = str(READ_DELAY)
    try:
        stack.start_emulator()
    finally:
        del os.environ[READ_DELAY_ENV]
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=stack.env,
                       check=True)
        portal = stack._spawn("gunicorn", *procfile_command(stack.portal_port)[1:])
        wait_for_http(f"{stack.portal_url}/healthz", process=portal)
        yield stack
    finally:
        stack.stop()


def make_images(stack: LocalStack) -> None:
    """One image through the catalog core, then 199 more records and files like it, written in
    batches (the export reads records from the by_created index and files from S3; search
    terms and facets are not part of this test, and 200 full creates take minutes here)."""
    code = (
        "import io, uuid\n"
        "from PIL import Image\n"
        "from images import catalog, objects\n"
        "from images.records import ImageRecord\n"
        "who = catalog.Actor(sub='bulk-sub', username='bulk-maker')\n"
        "b = io.BytesIO(); Image.new('RGB', (40, 30), (20, 90, 160)).save(b, format='PNG')\n"
        "first = catalog.image_create(owner=who, original_filename='photo 0.png', data=b.getvalue(),\n"
        "    meta=catalog.validate_meta(title='Export 0', description='', keywords='bulk', author='Bulk', capture_date=''))\n"
        "data = objects.get_object(first.object_key)\n"
        "with ImageRecord.batch_write() as batch:\n"
        f"    for n in range(1, {IMAGES}):\n"
        "        new = uuid.uuid4().hex\n"
        "        values = {**first.attribute_values, 'id': new, 'title': f'Export {n}',\n"
        "                  'original_filename': f'photo {n // 2}.png', 'filename': f'{new}.png',\n"
        "                  'created_key': first.created_key.replace(first.id, new),\n"
        "                  'object_key': objects.image_key(new, new, 'png'), 'thumbnail_key': objects.thumbnail_key(new, new)}\n"
        "        objects.put_object(values['object_key'], data, content_type='image/png')\n"
        "        values.pop('version', None)\n"
        "        batch.save(ImageRecord(**values))\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=stack.env, check=True)


def portal_session(stack: LocalStack) -> requests.Session:
    session = requests.Session()
    login = f"{stack.portal_url}/accounts/login/"
    session.get(login, timeout=30)
    answer = session.post(login, timeout=30, allow_redirects=False, data={
        "username": USER, "password": PASSWORD, "csrfmiddlewaretoken": session.cookies["csrftoken"]})
    assert answer.status_code == 302, answer.text[:500]
    return session


def test_an_export_of_200_images_outlasts_the_worker_timeout_without_holding_a_worker(slow_stack):
    stack = slow_stack
    create_user(stack, USER, PASSWORD)
    make_images(stack)
    session = portal_session(stack)

    started = time.monotonic()
    answer = session.post(f"{stack.portal_url}/exports/", timeout=30, allow_redirects=False, data={
        "kind": "zip", "csrfmiddlewaretoken": session.cookies["csrftoken"]})
    assert answer.status_code == 302 and time.monotonic() - started < 5  # answered at once
    job_url = f"{stack.portal_url}{answer.headers['Location']}"

    seen, slowest = [], 0.0
    while time.monotonic() - started < 180:
        asked = time.monotonic()
        status = session.get(job_url, headers={"Accept": "application/json"}, timeout=30).json()
        session.get(f"{stack.portal_url}/", timeout=30).raise_for_status()  # the list page, too
        slowest = max(slowest, time.monotonic() - asked)
        seen.append(status["done"])
        if status["state"] != "running" and status["state"] != "queued":
            break
        time.sleep(2)
    took = time.monotonic() - started
    print(f"\nexport of {IMAGES} images with {READ_DELAY} s per S3 read: {took:.1f} s; progress seen {seen}; "
          f"slowest portal answer meanwhile {slowest:.2f} s")
    assert status["state"] == "done", status
    assert took > WORKER_TIMEOUT  # a request streaming this would have been killed
    assert slowest < 10  # the workers stayed free (well inside the timeout, on a busy machine too)
    assert len(set(seen)) > 3 and seen == sorted(seen)  # progress shown as it went

    page = session.get(job_url, timeout=30).text
    assert f"Ready: {IMAGES} images" in page
    download = session.get(f"{stack.portal_url}{status['download_url']}", timeout=120)
    assert download.status_code == 200 and download.url.startswith(stack.emulator_url)
    assert re.match(r'attachment; filename="images-\d{8}-\d{6}\.zip"', download.headers["Content-Disposition"])
    names = zipfile.ZipFile(io.BytesIO(download.content)).namelist()
    assert len(names) == IMAGES and "photo 7.png" in names and "photo 7 (2).png" in names

    log = (stack.state_dir / "gunicorn.log").read_text()
    assert "WORKER TIMEOUT" not in log and "Booting worker" in log
    assert log.count("Booting worker") == 3  # none was killed and replaced
