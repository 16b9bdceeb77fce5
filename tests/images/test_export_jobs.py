"""Exports off the request path: a job record, a background build straight into S3 as a
multipart upload, progress, a presigned download; and the portal pages around it."""

from __future__ import annotations

import csv
import io
import os
import zipfile
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from PIL import Image

from common.errors import NotFound
from images import catalog, export_jobs, objects
from images.records import ExportJob
from tests.images.test_views import ALICE, BOB, create, user

pytestmark = pytest.mark.django_db


def noise_png(megabytes: float) -> bytes:
    side = int((megabytes * 1024 * 1024 / 3) ** 0.5)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def stored(key: str) -> bytes:
    return objects.get_object(key)


def test_a_zip_bigger_than_a_part_is_uploaded_in_parts_with_progress(aws, monkeypatch):
    monkeypatch.setattr(export_jobs, "PROGRESS_EVERY", 0)
    sent_parts = []
    real_send = export_jobs.MultipartWriter._send
    monkeypatch.setattr(export_jobs.MultipartWriter, "_send",
                        lambda self, body: (sent_parts.append(len(body)), real_send(self, body))[1])
    made = [catalog.image_create(owner=ALICE, meta=catalog.validate_meta(
        title=f"Noise {n}", description="", keywords="", author="A", capture_date=""),
        data=noise_png(3), original_filename="noise.png") for n in range(4)]
    job = export_jobs.job_start(owner=ALICE, kind="zip", ids=[r.id for r in made])
    assert job.state == export_jobs.QUEUED and job.total == 4
    export_jobs.job_run(job.id)

    done = export_jobs.job_get(owner=ALICE, job_id=job.id)
    assert done.state == export_jobs.DONE and done.done_count == 4
    assert done.object_key == f"exports/{job.id}/{job.filename}" and job.filename.endswith(".zip")
    assert len(sent_parts) == 2 and sent_parts[0] == export_jobs.MultipartWriter.PART_BYTES  # one part in memory
    archive = zipfile.ZipFile(io.BytesIO(stored(done.object_key)))
    assert archive.namelist() == ["noise.png", "noise (2).png", "noise (3).png", "noise (4).png"]
    assert archive.read("noise (3).png") == stored(made[2].object_key)
    assert done.byte_size == len(stored(done.object_key))


def test_a_search_export_reads_every_page(aws, monkeypatch):
    monkeypatch.setattr(export_jobs, "PAGE", 2)
    for n in range(5):
        create(title=f"Harbour {n}", author="Bea")
    create(title="Elsewhere", author="Carl")
    job = export_jobs.job_start(owner=ALICE, kind="csv", key="author", value="bea")
    export_jobs.job_run(job.id)
    done = export_jobs.job_get(owner=ALICE, job_id=job.id)
    rows = list(csv.DictReader(io.StringIO(stored(done.object_key).decode("utf-8-sig"))))
    assert sorted(r["title"] for r in rows) == [f"Harbour {n}" for n in range(5)] and done.done_count == 5
    assert rows[0]["original_filename"] == "sunset.png"


def test_jobs_belong_to_their_owner_and_stop_being_busy_when_stale(aws):
    job = export_jobs.job_start(owner=ALICE, kind="csv")
    with pytest.raises(NotFound):
        export_jobs.job_get(owner=BOB, job_id=job.id)
    with pytest.raises(NotFound):
        export_jobs.job_get(owner=ALICE, job_id="../" + job.id)
    job.update(actions=[ExportJob.updated_at.set(job.updated_at - export_jobs.STALE_AFTER - timedelta(seconds=1))])
    stale = export_jobs.job_get(owner=ALICE, job_id=job.id)
    assert stale.state == export_jobs.FAILED and "restarted" in stale.error
    with pytest.raises(catalog.InvalidField):
        export_jobs.job_start(owner=ALICE, kind="tar")


def test_a_failed_build_is_told_and_leaves_no_upload(aws, monkeypatch):
    create(title="One")

    def broken(records):
        for _ in records:
            yield b"x" * 10
            raise OSError("disk on fire")

    monkeypatch.setattr(export_jobs.exports, "zip_stream", broken)
    job = export_jobs.job_start(owner=ALICE, kind="zip")
    export_jobs.job_run(job.id)  # never raises: the job tells
    failed = export_jobs.job_get(owner=ALICE, job_id=job.id)
    assert failed.state == export_jobs.FAILED and failed.error and not failed.object_key
    pending = objects.s3().list_multipart_uploads(Bucket=aws.images_bucket).get("Uploads", [])
    assert pending == []


# ------------------------------------------------------------ portal pages


@pytest.fixture
def inline(monkeypatch):
    """Run export jobs at once in the request (the background thread is the only difference)."""
    from images.views import exports as views

    monkeypatch.setattr(views, "run_in_background", export_jobs.job_run)


def test_zip_of_selected_images_is_a_job_with_a_progress_page_and_a_download(client, aws, inline):
    client.force_login(user(ALICE))
    a, b = create(title="A"), create(owner=BOB, title="B")
    response = client.post(reverse("images:action"), {"action": "download_zip", "_selected_action": [a.id, b.id]})
    assert response.status_code == 302 and "/exports/" in response["Location"]
    page = client.get(response["Location"])
    html = page.content.decode()
    assert "Ready: 2 images" in html and 'http-equiv="refresh"' not in html
    job_id = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    status = client.get(response["Location"], HTTP_ACCEPT="application/json").json()
    assert status["state"] == "done" and status["done"] == status["total"] == 2
    download = client.get(status["download_url"])
    target = urlsplit(download["Location"])
    assert download.status_code == 302 and target.path.endswith(f"/exports/{job_id}/{status['filename']}")
    disposition = parse_qs(target.query)["response-content-disposition"][0]
    assert disposition == f'attachment; filename="{status["filename"]}"'
    archive = zipfile.ZipFile(io.BytesIO(stored(f"exports/{job_id}/{status['filename']}")))
    assert archive.namelist() == ["sunset.png", "sunset (2).png"]

    client.force_login(user(BOB))
    assert client.get(response["Location"]).status_code == 404  # only its owner sees it


def test_the_list_exports_every_page_of_its_current_filter(client, aws, inline):
    client.force_login(user(ALICE))
    create(title="Kept", keywords="coast")
    create(title="Not this", keywords="alps")
    create(title="Not by Ana", keywords="coast", author="Bea")
    html = client.get(reverse("images:list") + "?keyword=coast&author=Ana+D%C3%ADaz").content.decode()
    form = html.split('id="export-form"')[1].split("</form>")[0]
    assert 'name="keywords" value="coast"' in form and 'name="author" value="Ana Díaz"' in form
    response = client.post(reverse("images:export_start"), {"kind": "csv", "keywords": "coast", "author": "Ana Díaz"})
    status = client.get(response["Location"], HTTP_ACCEPT="application/json").json()
    assert status["state"] == "done" and status["filename"].endswith(".csv")
    job = ExportJob.get(response["Location"].rstrip("/").rsplit("/", 1)[-1])
    rows = list(csv.DictReader(io.StringIO(stored(job.object_key).decode("utf-8-sig"))))
    assert [r["title"] for r in rows] == ["Kept"]


def test_a_running_export_shows_progress_and_reloads(client, aws):
    client.force_login(user(ALICE))
    job = export_jobs.job_start(owner=catalog.Actor(sub=ALICE.sub, username="alice"), kind="zip", ids=["a" * 32] * 3)
    job.update(actions=[ExportJob.state.set(export_jobs.RUNNING), ExportJob.done_count.set(1)])
    html = client.get(reverse("images:export", args=[job.id])).content.decode()
    assert "1 of 3 image" in html and '<meta http-equiv="refresh" content="2">' in html
    assert '<progress id="export-progress" max="3" value="1">' in html
    assert client.get(reverse("images:export_download", args=[job.id]))["Location"] == reverse(
        "images:export", args=[job.id])
