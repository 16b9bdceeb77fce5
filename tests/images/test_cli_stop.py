"""Ctrl-C against the bulk import, as a separate process talking to a stand-in API whose
uploads and registrations take as long as the test says: a file being sent is abandoned at
once, a file being registered is waited for (and recorded in the manifest), a second Ctrl-C
exits at once; the work queued is a few files, not the folder. The run against the real local
stack, catalog and rerun included: tests/e2e/test_cli.py."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from images import cli

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class StandIn:
    """The API routes the import uses, on 127.0.0.1; S3 reads 64 KiB per `send_pause` seconds."""

    def __init__(self, *, send_pause: float = 0.0, register_seconds: float = 0.0):
        self.send_pause, self.register_seconds = send_pause, register_seconds
        self.sending, self.registering = threading.Event(), threading.Event()
        self.registered: list[str] = []
        self.sends = 0
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self, status: int, body=None):
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self.answer(200, [])  # the user's images: none yet

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                if self.path == "/s3":
                    stand_in.sends += 1
                    stand_in.sending.set()
                    while length > 0:
                        chunk = self.rfile.read(min(length, 64 * 1024))
                        if not chunk:
                            return  # the client went away
                        length -= len(chunk)
                        time.sleep(stand_in.send_pause)
                    return self.answer(204)
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path == "/users/token":
                    return self.answer(200, {"id_token": "token"})
                if self.path == "/images/uploads":
                    return self.answer(201, {"url": f"{stand_in.url}/s3", "fields": {"key": "k", "policy": "p"},
                                             "upload_key": "k", "max_bytes": 10 ** 9})
                stand_in.registering.set()
                time.sleep(stand_in.register_seconds)
                image = uuid.uuid4().hex
                stand_in.registered.append(image)
                self.answer(201, {"id": image, "title": body["title"]})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stand_in():
    made = []

    def make(**options) -> StandIn:
        made.append(StandIn(**options))
        return made[-1]

    yield make
    for server in made:
        server.close()


def folder_of(tmp_path, files: int, size: int):
    folder = tmp_path / "photos"
    folder.mkdir()
    for n in range(files):
        (folder / f"p{n:02d}.png").write_bytes(os.urandom(size))
    return folder


def start(api: StandIn, folder) -> subprocess.Popen:
    env = {**os.environ, "IMAGES_PASSWORD": "pw"}
    return subprocess.Popen([sys.executable, "-m", "images.cli", "import", str(folder), "--api", api.url,
                             "--user", "u", "--jobs", "2", "--quiet"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def manifest_ids(folder) -> list[str]:
    return sorted(e["id"] for e in json.loads((folder / cli.MANIFEST).read_text()).values())


def test_a_file_being_sent_is_abandoned_at_once(stand_in, tmp_path):
    api = stand_in(send_pause=0.05)  # 1.3 MB/s: a 4 MB file takes 3 s
    folder = folder_of(tmp_path, 10, 4 * 1024 * 1024)
    process = start(api, folder)
    assert api.sending.wait(30)
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    asked = time.monotonic()
    out, err = process.communicate(timeout=30)
    assert time.monotonic() - asked < 1.5, (out, err)
    assert process.returncode == 130 and "Traceback" not in err, (out, err)
    assert "Stopped: imported 0, 10 left; run again to resume." in out
    assert api.registered == [] and not (folder / cli.MANIFEST).exists()
    assert api.sends <= 2  # the files in flight; none started after the Ctrl-C


def test_a_file_being_registered_is_finished_and_recorded(stand_in, tmp_path):
    api = stand_in(register_seconds=1.5)
    folder = folder_of(tmp_path, 30, 1000)
    process = start(api, folder)
    assert api.registering.wait(30)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130 and "Traceback" not in err, (out, err)
    assert 1 <= len(api.registered) <= 2
    assert f"Stopped: imported {len(api.registered)}, {30 - len(api.registered)} left; run again to resume." in out
    assert manifest_ids(folder) == sorted(api.registered)


def test_a_second_ctrl_c_stops_at_once(stand_in, tmp_path):
    api = stand_in(register_seconds=30)
    folder = folder_of(tmp_path, 5, 1000)
    process = start(api, folder)
    assert api.registering.wait(30)
    process.send_signal(signal.SIGINT)
    time.sleep(0.5)
    assert process.poll() is None  # waiting for the registration in flight
    process.send_signal(signal.SIGINT)
    asked = time.monotonic()
    out, err = process.communicate(timeout=30)
    assert time.monotonic() - asked < 1, (out, err)
    assert process.returncode == 130 and "Stopped at once" in err and "Traceback" not in err


def test_a_few_files_are_queued_ahead_of_the_workers_not_the_folder(stand_in, tmp_path, monkeypatch):
    api = stand_in(register_seconds=0.2)
    folder = folder_of(tmp_path, 40, 100)
    read: list[str] = []
    hashing = cli._sha256
    monkeypatch.setattr(cli, "_sha256", lambda path: read.append(path.name) or hashing(path))
    args = type("Args", (), {"manifest": None, "user": "u", "retry_refused": False, "on_duplicate": "keep",
                             "jobs": 2, "quiet": True, "keywords": "", "author": None})()
    stop = threading.Event()
    api_client = cli.Api(api.url)
    runner = threading.Thread(target=lambda: outcomes.extend(cli.run_import(api_client, folder, args, stop)))
    outcomes: list = []
    runner.start()
    while len(api.registered) < 3:
        time.sleep(0.01)
    assert len(read) <= len(api.registered) + 2 * cli.AHEAD_PER_JOB + 1
    stop.set()
    runner.join(10)
    assert not runner.is_alive()
    assert sum(o.status == "left" for o in outcomes) == 40 - len(api.registered)
