"""`make run` (local/run.py) says what a newcomer needs and nothing else (issue 13): the URLs,
the demo login and the requests one makes; no start-up banner, warning, traceback or request
of its own readiness checks, on a first start and on a restart."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest
import requests

from local.stack import ROOT, free_port

pytestmark = pytest.mark.e2e

ALLOWED = [
    r"",
    r"Image Manager is running:",
    r"  portal    http://127\.0\.0\.1:\d+/",
    r"  REST API  http://127\.0\.0\.1:\d+/  \(routes at the root, e\.g\. GET http://127\.0\.0\.1:\d+/images\)",
    r"  emulator  http://127\.0\.0\.1:\d+/  \(local AWS; mail it would send: http://127\.0\.0\.1:\d+/_local/mailbox\)",
    r"  demo login: demo / Demo-pass-1  \(staff\)",
    r"Press Ctrl-C to stop\.",
    r'\[[^\]]+\] "GET /(accounts/login/|favicon\.ico) HTTP/1\.1" 200 \d+',  # the requests made below
    r"Stopping\.\.\.",
    r"Stopped; the local state is kept in \.local/ for the next start\.",
]


def run_once(state_dir, env) -> list[str]:
    process = subprocess.Popen([sys.executable, "-m", "local.run"], cwd=ROOT, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines = []
    try:
        deadline = time.monotonic() + 120
        while "Press Ctrl-C to stop." not in lines:
            line = process.stdout.readline()
            assert line and time.monotonic() < deadline, f"make run did not start:\n{''.join(lines)}"
            lines.append(line.rstrip("\n"))
        portal = f"http://127.0.0.1:{env['PORTAL_PORT']}"
        assert requests.get(portal + "/accounts/login/", timeout=30).status_code == 200
        favicon = requests.get(portal + "/favicon.ico", timeout=30)
        assert favicon.status_code == 200 and favicon.headers["Content-Type"].startswith("image/")
        time.sleep(0.5)  # the request lines
    finally:
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
    return lines + rest.splitlines()


def test_make_run_prints_only_what_a_newcomer_needs(tmp_path):
    env = {**os.environ, "LOCAL_STATE_DIR": str(tmp_path), "EMULATOR_PORT": str(free_port()),
           "PORTAL_PORT": str(free_port()), "API_PORT": str(free_port())}
    for start in ("first", "restart"):
        lines = run_once(tmp_path, env)
        unexpected = [line for line in lines if not any(re.fullmatch(p, line) for p in ALLOWED)]
        assert unexpected == [], f"{start} start printed:\n" + "\n".join(unexpected)
        assert sum("demo login" in line for line in lines) == 1
        assert sum("/favicon.ico" in line for line in lines) == 1
