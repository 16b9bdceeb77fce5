"""The bulk tool against the local stack, as a separate process that knows only the API's URL
(no AWS settings): a folder of 50 files (some not images, some already in the catalog) is
imported with a closing summary; run again, it skips every file; export writes the files
back under their original names. Files whose content is already someone's image (the same
bytes, the same picture with other metadata, one in your own trash) are imported and named in the
summary, or with --on-duplicate refuse skipped with the reason. Ctrl-C stops an import with
the catalog and the manifest in agreement, and a rerun finishes it without duplicates; the tool
stays inside the folder and exports under the portal's download names with its CSV guard."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import json
import re
import signal
import subprocess
import sys
import time

import pytest
import requests
from PIL import Image

from local.stack import ROOT
from tests.e2e.conftest import create_user

pytestmark = pytest.mark.e2e

USER, PASSWORD = "cli-carla", "Carla-pass-1!"
VALID, INVALID = 47, 3


def picture(n: int) -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", (60 + n, 40), (n * 5 % 256, 120, 200 - n))
    if n % 2:
        image.save(buffer, format="PNG")
    else:
        exif = Image.Exif()
        exif[0x013B] = "Ines Ruiz"  # Artist: the author comes from the file, as in the portal (not a name other tests count)
        image.save(buffer, format="JPEG", quality=85, exif=exif)
    return buffer.getvalue()


def cli_command(stack, *args: str, user: str = USER) -> dict:
    # Only what any deployment's user has: the API's URL, a username and a password.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "COGNITO_", "IMAGES_", "DJANGO_"))}
    env["IMAGES_PASSWORD"] = PASSWORD
    return {"args": [sys.executable, "-m", "images.cli", *args, "--api", stack.api_url, "--user", user],
            "cwd": ROOT, "env": env, "text": True}


def run_cli(stack, *args: str, user: str = USER) -> subprocess.CompletedProcess:
    return subprocess.run(**cli_command(stack, *args, user=user), capture_output=True, timeout=600)


def token_of(stack, user: str) -> dict:
    reply = requests.post(f"{stack.api_url}/users/token", json={"username": user, "password": PASSWORD}, timeout=30)
    assert reply.status_code == 200, reply.text
    return {"Authorization": reply.json()["id_token"]}


def test_import_a_folder_then_skip_it_all_and_export_it(local_stack, tmp_path):
    create_user(local_stack, USER, PASSWORD)
    folder = tmp_path / "photos"
    (folder / "trip").mkdir(parents=True)
    files = {}
    for n in range(VALID):
        name = f"trip/holiday.{n:02d}.{'png' if n % 2 else 'jpg'}" if n < 10 else f"photo {n:02d}.{'png' if n % 2 else 'jpg'}"
        files[name] = picture(n)
    files["notes.jpg"] = b"not a picture at all\n" * 20
    files["cut.png"] = picture(1)[: len(picture(1)) // 2]
    files["empty.png"] = b""
    for name, data in files.items():
        (folder / name).write_bytes(data)
    assert len(files) == VALID + INVALID == 50

    auth = token_of(local_stack, USER)
    for name in ("photo 20.jpg", "photo 21.png"):  # already in the catalog, sent another way
        sent = requests.post(f"{local_stack.api_url}/images", headers=auth, timeout=60, json={
            "title": name, "author": "Someone", "filename": name,
            "image_content": base64.b64encode(files[name]).decode()})
        assert sent.status_code == 201, sent.text

    first = run_cli(local_stack, "import", str(folder), "--jobs", "4")
    print(first.stdout)
    assert first.returncode == 1  # some files were refused
    assert "Importing: 100%" in first.stderr and "50/50" in first.stderr  # tqdm's bar (every file, skipped too), on stderr
    assert f"Imported {VALID - 2}, skipped 2, refused {INVALID} of 50 files." in first.stdout
    assert re.search(r"skipped: photo 20\.jpg: already in the catalog", first.stdout)
    refused = dict(re.findall(r"refused: (\S+): (.+)", first.stdout))
    assert set(refused) == {"notes.jpg", "cut.png", "empty.png"} and "JPEG, PNG, GIF or WebP" in refused["notes.jpg"]
    assert refused["empty.png"] == "The file is empty."

    again = run_cli(local_stack, "import", str(folder), "--quiet")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Imported 0, skipped 50, refused 0 of 50 files." in again.stdout
    assert again.stdout.count("refused before") == INVALID

    mine = requests.get(f"{local_stack.api_url}/images/creator/{USER}?limit=100", headers=auth, timeout=30).json()
    assert len(mine) == VALID
    by_name = {i["original_filename"]: i for i in mine}
    holiday = by_name["holiday.04.jpg"]
    assert holiday["title"] == "holiday.04" and holiday["author"] == "Ines Ruiz"
    assert holiday["sha256"] == hashlib.sha256(files["trip/holiday.04.jpg"]).hexdigest()
    assert by_name["photo 33.png"]["author"] == USER  # no author in the file: the importer

    out = tmp_path / "out"
    exported = run_cli(local_stack, "export", str(out), "--query", f"creator={USER}", "--quiet")
    assert exported.returncode == 0, exported.stderr
    assert f"Exported {VALID}," in exported.stdout
    assert (out / "holiday.04.jpg").read_bytes() == files["trip/holiday.04.jpg"]
    rows = list(csv.DictReader((out / "images.csv").open(encoding="utf-8-sig")))
    assert len(rows) == VALID and {r["file"] for r in rows} == {p.name for p in out.iterdir()} - {"images.csv"}


def noise(fmt: str = "JPEG", artist: str | None = None, seed: bytes | None = None) -> bytes:
    """A picture no other test has (duplicates are catalog-wide); the same seed with another
    Artist gives other bytes with the same pixels (the JPEG encoder is deterministic)."""
    image = Image.frombytes("RGB", (40, 30), seed or os.urandom(40 * 30 * 3))
    buffer = io.BytesIO()
    options = {"quality": 90} if fmt == "JPEG" else {}
    if artist is not None:
        exif = Image.Exif()
        exif[0x013B] = artist
        options["exif"] = exif.tobytes()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def test_duplicates_of_anyones_images_are_reported_or_skipped(local_stack, tmp_path):
    importer, other = "cli-iris", "cli-omar"
    create_user(local_stack, importer, PASSWORD)
    create_user(local_stack, other, PASSWORD)
    auth, theirs = token_of(local_stack, importer), token_of(local_stack, other)
    seeds = {n: os.urandom(40 * 30 * 3) for n in "abce"}

    def post(data: bytes, title: str) -> str:
        sent = requests.post(f"{local_stack.api_url}/images", headers=theirs, timeout=60, json={
            "title": title, "author": "Omar", "image_content": base64.b64encode(data).decode()})
        assert sent.status_code == 201, sent.text
        return sent.json()["id"]

    same_file = post(noise(seed=seeds["a"]), "Omar harbour")
    same_picture = post(noise(seed=seeds["b"], artist="Omar"), "Omar market")
    trashed = post(noise(seed=seeds["c"]), "Omar gone")
    deleted = requests.delete(f"{local_stack.api_url}/images", headers=theirs, json={"id": trashed}, timeout=30)
    assert deleted.status_code == 200, deleted.text

    folder = tmp_path / "keep"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(noise(seed=seeds["a"]))
    (folder / "b.jpg").write_bytes(noise(seed=seeds["b"]))
    (folder / "c.jpg").write_bytes(noise(seed=seeds["c"]))
    (folder / "d.png").write_bytes(noise("PNG"))
    kept = run_cli(local_stack, "import", str(folder), "--quiet", user=importer)  # keep, the default
    print(kept.stdout)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    # c.jpg matches Omar's image in the trash: someone else's trash is never reported (issue 22).
    assert "Imported 4 (2 duplicates of images already in the catalog), skipped 0, refused 0 of 4 files." \
        in kept.stdout
    reported = dict(re.findall(r"duplicate: (\S+): imported as \w+; (.+)", kept.stdout))
    assert reported == {
        "a.jpg": f"the same file as “Omar harbour” (id {same_file})",
        "b.jpg": f"the same picture as “Omar market” (id {same_picture})",
    }
    mine = requests.get(f"{local_stack.api_url}/images/creator/{importer}", headers=auth, timeout=30).json()
    assert len(mine) == 4

    folder = tmp_path / "refuse"
    folder.mkdir()
    (folder / "e.jpg").write_bytes(noise(seed=seeds["a"], artist="Iris"))  # Omar's (and now Iris's) picture
    (folder / "f.jpg").write_bytes(noise(seed=seeds["e"]))
    (folder / "g.jpg").write_bytes(noise(seed=seeds["b"]))  # the bytes of Iris's own b.jpg: skipped unasked
    # A refused duplicate is not remembered: the next run asks the server again (f.jpg is then skipped).
    for imported, skipped in ((1, 2), (0, 3)):
        refused = run_cli(local_stack, "import", str(folder), "--quiet", "--on-duplicate", "refuse", user=importer)
        print(refused.stdout)
        assert refused.returncode == 0, refused.stdout + refused.stderr
        assert f"Imported {imported}, skipped {skipped}, refused 0 of 3 files." in refused.stdout
        reasons = dict(re.findall(r"skipped: (\S+): (.+)", refused.stdout))
        assert reasons["e.jpg"] == ("a duplicate, not imported (--on-duplicate refuse): "
                                    f"the same picture as “Omar harbour” (id {same_file})")
        assert reasons["g.jpg"].startswith("already in the catalog")
    mine = requests.get(f"{local_stack.api_url}/images/creator/{importer}", headers=auth, timeout=30).json()
    assert len(mine) == 5 and "e.jpg" not in {i["original_filename"] for i in mine}


def mine_of(stack, user: str) -> list[dict]:
    auth = token_of(stack, user)
    return requests.get(f"{stack.api_url}/images/creator/{user}?limit=100", headers=auth, timeout=30).json()


def recorded(manifest) -> dict:
    return json.loads(manifest.read_text()) if manifest.exists() else {}


def start_import(stack, folder, user: str) -> subprocess.Popen:
    return subprocess.Popen(**cli_command(stack, "import", str(folder), "--jobs", "2", "--quiet", user=user),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for_manifest(process: subprocess.Popen, manifest, entries: int) -> None:
    deadline = time.monotonic() + 120
    while len(recorded(manifest)) < entries:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the import did not get going"
        time.sleep(0.02)


def test_ctrl_c_stops_an_import_and_a_rerun_finishes_it_without_duplicates(local_stack, tmp_path):
    user, files = "cli-sami", 24
    create_user(local_stack, user, PASSWORD)
    folder = tmp_path / "big"
    folder.mkdir()
    for n in range(files):  # 1.5 MB of noise each: a PNG that takes a moment to send and check
        buffer = io.BytesIO()
        Image.frombytes("RGB", (720, 700), os.urandom(720 * 700 * 3)).save(buffer, format="PNG", compress_level=1)
        (folder / f"big-{n:02d}.png").write_bytes(buffer.getvalue())
    manifest = folder / ".images-cli.json"

    # Ctrl-C: the files being registered are finished, the others left for the next run (the
    # second Ctrl-C, and a stalled upload or registration: tests/images/test_cli_stop.py).
    process = start_import(local_stack, folder, user)
    wait_for_manifest(process, manifest, 2)
    process.send_signal(signal.SIGINT)
    asked = time.monotonic()
    out, err = process.communicate(timeout=60)
    took = time.monotonic() - asked
    print(out, err, f"stopped in {took:.2f} s")
    assert process.returncode == 130, out + err
    assert took < 5 and "Stopping:" in err and "Traceback" not in err
    found = re.search(r"Stopped: imported (\d+), (\d+) left; run again to resume\.", out)
    assert found, out
    imported, left = int(found[1]), int(found[2])
    assert imported >= 2 and left >= 1 and imported + left == files
    assert f"Imported {imported}, skipped 0, refused 0 of {files} files." in out
    mine = mine_of(local_stack, user)
    assert sorted(e["id"] for e in recorded(manifest).values()) == sorted(i["id"] for i in mine)
    assert len(mine) == imported

    again = run_cli(local_stack, "import", str(folder), "--quiet", user=user)
    print(again.stdout)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"Imported {left}, skipped {imported}, refused 0 of {files} files." in again.stdout
    mine = mine_of(local_stack, user)
    assert len(mine) == files and len({i["sha256"] for i in mine}) == files
    assert {e["id"] for e in recorded(manifest).values() if e["status"] == "imported"} <= {i["id"] for i in mine}


def test_import_stays_inside_its_folder_and_export_uses_the_download_names(local_stack, tmp_path):
    user = "cli-tove"
    create_user(local_stack, user, PASSWORD)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "private.jpg").write_bytes(noise())
    folder = tmp_path / "photos"
    for hidden in (".git", ".Trash"):
        (folder / hidden).mkdir(parents=True)
        (folder / hidden / "in-hidden.jpg").write_bytes(noise())
    (folder / "sub").mkdir()
    (folder / "sub" / "link-out.jpg").symlink_to(outside / "private.jpg")
    (folder / "linked-folder").symlink_to(outside, target_is_directory=True)
    (folder / ".hidden.jpg").write_bytes(noise())
    named = {"images.csv": noise("PNG"), "page.html": noise(), "tool.exe": noise("PNG"),
             "=HYPERLINK(1).jpg": noise(), "plain.jpg": noise()}
    for name, data in named.items():
        (folder / name).write_bytes(data)
    (folder / "sub" / "same-as-plain.jpg").symlink_to(folder / "plain.jpg")  # inside: sent once

    run = run_cli(local_stack, "import", str(folder), "--quiet", user=user)
    print(run.stdout)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Imported 5, skipped 1, refused 0 of 6 files." in run.stdout
    assert "skipped: sub/same-as-plain.jpg: the same file as plain.jpg" in run.stdout
    left_out = dict(re.findall(r"left out: (\S+): (.+)", run.stdout))
    assert left_out == {".Trash": "a hidden folder, not imported", ".git": "a hidden folder, not imported",
                        "linked-folder": "a link to a folder, not followed",
                        "sub/link-out.jpg": "a link to a file outside the folder, not followed"}
    mine = mine_of(local_stack, user)
    assert sorted(i["original_filename"] for i in mine) == sorted(named)

    out = tmp_path / "out"
    exported = run_cli(local_stack, "export", str(out), "--query", f"creator={user}", "--quiet", user=user)
    assert exported.returncode == 0, exported.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["=HYPERLINK(1).jpg", "images.csv", "images.csv.png", "page.html.jpg", "plain.jpg", "tool.exe.png"])
    assert (out / "images.csv.png").read_bytes() == named["images.csv"]
    rows = list(csv.DictReader((out / "images.csv").open(encoding="utf-8-sig")))
    by_file = {r["file"]: r for r in rows}  # cells a spreadsheet would run are quoted, as in the portal's CSV
    assert set(by_file) == {"'=HYPERLINK(1).jpg", "images.csv.png", "page.html.jpg", "plain.jpg", "tool.exe.png"}
    assert by_file["'=HYPERLINK(1).jpg"]["title"] == "'=HYPERLINK(1)"
