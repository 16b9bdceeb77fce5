"""Races over HTTP as a client makes them (issue 21), on the real local stack: many images at
once, three concurrent DELETEs of each then two concurrent restores give every file back byte
for byte; one upload_key registered three times at once makes one image; nothing answers 500."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.e2e.conftest import api_auth, create_user
from tests.helpers import b64, make_image

pytestmark = pytest.mark.e2e

PASSWORD = "Races-pass-1"
IMAGES = 12
DELETES = 3
RESTORES = 2


@pytest.fixture(scope="module")
def auth(local_stack):
    name = f"rex{uuid.uuid4().hex[:6]}"
    create_user(local_stack, name, PASSWORD)
    return api_auth(local_stack, name, PASSWORD)


def test_concurrent_deletes_then_restores_give_every_file_back(local_stack, auth, capsys):
    api = local_stack.api_url
    statuses: Counter = Counter()
    started = time.monotonic()
    tag = uuid.uuid4().hex[:8]

    def create(i):
        color = (int(tag[:2], 16), i * 7 % 256, 200)
        reply = requests.post(f"{api}/images", headers=auth, timeout=60, json={
            "title": f"Race {tag} {i}", "author": "Rex", "image_content": b64(make_image("PNG", color=color))})
        statuses[("create", reply.status_code)] += 1
        assert reply.status_code == 201, reply.text
        body = reply.json()
        return body["id"], requests.get(body["object_url"], timeout=30).content

    def send(what, method, path, image_id):
        reply = requests.request(method, f"{api}{path}", headers=auth, json={"id": image_id}, timeout=60)
        statuses[(what, reply.status_code)] += 1
        return reply

    with ThreadPoolExecutor(max_workers=8) as pool:
        made = list(pool.map(create, range(IMAGES)))
        deletes = [pool.submit(send, "delete", "DELETE", "/images", image_id)
                   for image_id, _ in made for _ in range(DELETES)]
        assert [f.result().status_code for f in deletes]
        restores = [pool.submit(send, "restore", "POST", "/images/restore", image_id)
                    for image_id, _ in made for _ in range(RESTORES)]
        replies = [f.result() for f in restores]
    back = {}
    for reply in replies:
        if reply.status_code == 200:
            back[reply.json()["id"]] = requests.get(reply.json()["object_url"], timeout=30).content
    seconds = time.monotonic() - started
    with capsys.disabled():
        print(f"\n{IMAGES} images, {DELETES} DELETEs and {RESTORES} restores of each at once, {seconds:.1f} s: "
              + ", ".join(f"{what} {status}: {n}" for (what, status), n in sorted(statuses.items())))
    assert not any(status >= 500 for _, status in statuses), statuses
    assert statuses[("delete", 200)] == IMAGES and statuses[("restore", 200)] == IMAGES, statuses
    assert back == dict(made)  # every file back, byte for byte


def test_one_upload_key_three_times_at_once_is_one_image(local_stack, auth, capsys):
    api = local_stack.api_url
    upload = requests.post(f"{api}/images/uploads", headers=auth, timeout=30).json()
    form = [(name, (None, value)) for name, value in upload["fields"].items()]
    stored = requests.post(upload["url"], files=[*form, ("file", ("u.png", make_image("PNG", color=(3, 2, 1)),
                                                                   "image/png"))], timeout=60)
    assert stored.status_code in (200, 201, 204), stored.text
    title = f"Upload once {uuid.uuid4().hex[:8]}"

    def register(_):
        return requests.post(f"{api}/images", headers=auth, timeout=60,
                             json={"title": title, "author": "Rex", "upload_key": upload["upload_key"]})

    with ThreadPoolExecutor(max_workers=3) as pool:
        replies = list(pool.map(register, range(3)))
    statuses = Counter(r.status_code for r in replies)
    with capsys.disabled():
        print(f"\none upload_key registered 3 times at once: {dict(statuses)}")
    assert not any(status >= 500 for status in statuses), [r.text for r in replies]
    ids = {r.json()["id"] for r in replies if r.status_code == 201}
    assert len(ids) == 1, [r.text for r in replies]
    found = requests.get(f"{api}/images/title/{title}", headers=auth, timeout=30).json()
    assert [i["id"] for i in found] == list(ids)
