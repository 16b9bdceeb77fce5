"""Send hostile bodies, names and files to a local stack over HTTP (its own ports and state
directory: tests/e2e/conftest.running_stack) and print each answer's status and time; exit 1
if any is a 5xx or takes longer than the budget.

    .venv/bin/python -m scripts.hostile_probe [--megabytes 20]"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import tempfile
import time
from pathlib import Path

import requests

from scripts import crafted_images
from tests.e2e.conftest import running_stack
from tests.helpers import make_image

BUDGET = 15.0  # seconds: README "Every file is verified within a budget"
PASSWORD = "Probe-pass-1"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=20, help="size of the crafted files sent as uploads")
    args = parser.parse_args()
    rows: list[tuple[str, int, float]] = []

    def send(name: str, method: str, url: str, **kwargs) -> requests.Response:
        started = time.perf_counter()
        reply = requests.request(method, url, timeout=120, **kwargs)
        rows.append((name, reply.status_code, time.perf_counter() - started))
        print(f"| {name} | {reply.status_code} | {rows[-1][2]:.2f} | {reply.text[:80]!r} |", flush=True)
        return reply

    with tempfile.TemporaryDirectory() as state, running_stack(Path(state)) as stack:
        api = stack.api_url
        print("| request | status | seconds | answer |\n|---|---|---|---|")
        raw = {"Content-Type": "application/json"}
        for route in ("/users", "/users/token"):
            send(f"POST {route} 100,000 [", "POST", api + route, data="[" * 100_000, headers=raw)
            send(f"POST {route} 3,000 objects", "POST", api + route, data='{"a":' * 3000 + "1" + "}" * 3000,
                 headers=raw)
            send(f"POST {route} surrogate name", "POST", api + route, headers=raw,
                 data='{"username": "\\ud800x", "password": "%s", "email": "a@example.com"}' % PASSWORD)
        for name in ("ＤＥＭＯ", "dеmo", "probe"):
            send(f"POST /users {name!r}", "POST", api + "/users",
                 json={"username": name, "password": PASSWORD, "email": "p@example.com"})
        token = send("POST /users/token", "POST", api + "/users/token",
                     json={"username": "probe", "password": PASSWORD}).json()["id_token"]
        auth = {"Authorization": token, **raw}
        for method in ("POST", "PUT", "DELETE"):
            send(f"{method} /images 100,000 [", method, api + "/images", data="[" * 100_000, headers=auth)
            send(f"{method} /images 3,000 objects", method, api + "/images",
                 data='{"a":' * 3000 + "1" + "}" * 3000, headers=auth)
        for route in ("/images/restore", "/images/purge"):
            send(f"POST {route} 100,000 [", "POST", api + route, data="[" * 100_000, headers=auth)
        for field in ("title", "author", "keywords"):
            body = json.dumps({"title": "t", "image_content": base64.b64encode(make_image()).decode()})
            send(f"POST /images surrogate {field}", "POST", api + "/images", headers=auth,
                 data=body[:-1] + f', "{field}": "\\ud800x"}}')
        size = args.megabytes << 20
        for case, build in crafted_images.CASES.items():
            small = b"".join(build(3 << 20))  # 3 MiB: fits the API's 6 MB body as base64
            send(f"POST /images image_content {case} (3 MiB)", "POST", api + "/images", headers=auth,
                 json={"title": case, "author": "Probe", "image_content": base64.b64encode(small).decode()})
            data = b"".join(build(size))
            upload = requests.post(f"{api}/images/uploads", headers=auth, timeout=30).json()
            form = [(k, (None, v)) for k, v in upload["fields"].items()]
            stored = requests.post(upload["url"], files=[*form, ("file", ("f.bin", data, "image/png"))], timeout=300)
            assert stored.status_code < 300, stored.text
            send(f"POST /images upload_key {case} ({len(data) >> 20} MiB)", "POST", api + "/images", headers=auth,
                 json={"title": case, "author": "Probe", "upload_key": upload["upload_key"]})
    bad = [row for row in rows if row[1] >= 500 or row[2] > BUDGET]
    print(f"\n{len(rows)} requests; {len(bad)} answered 5xx or over {BUDGET:.0f} s: {bad}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
