"""Locust users of `make load` (scripts/load_test.py starts the stack and sets the LOAD_*
variables): people in the portal, spread over its two instances, and programs on the REST
API. Each signs in once, then lists, filters, searches, views and adds small images. Each
answer's Server-Timing (the local stack's: the emulator's work and queue, local/timing.py) goes
to the LOAD_TIMINGS file, a JSON line per request, for scripts/load_test.py's table."""

from __future__ import annotations

import base64
import io
import itertools
import json
import os
import random
import re
import sys
from pathlib import Path

from locust import HttpUser, between, events, task
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from local.timing import parse  # noqa: E402

PORTALS = os.environ.get("LOAD_PORTALS", "http://127.0.0.1:8000").split(",")
API = os.environ.get("LOAD_API", "http://127.0.0.1:8001")
USERNAME, PASSWORD = os.environ.get("LOAD_USERNAME", "demo"), os.environ.get("LOAD_PASSWORD", "Demo-pass-1")
# People have accounts of their own (LOAD_USERNAME-1, -2, …, made by scripts/load_test.py): one
# account signed in by every portal user at once is what the sign-in limit is there to refuse.
PORTAL_ACCOUNTS = int(os.environ.get("LOAD_PORTAL_ACCOUNTS") or 0)
_next_account = itertools.count(1)
AUTHORS = ("Ana Díaz", "Luis Vidal", "Marta Puig")
KEYWORDS = ("lake", "city", "forest", "sea")
WORDS = ("harbour", "dawn", "market", "bridge", "díaz", "lake")
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_TIMINGS = open(os.environ["LOAD_TIMINGS"], "a", buffering=1, encoding="utf-8") if os.environ.get("LOAD_TIMINGS") else None  # noqa: SIM115 - open for the run


@events.request.add_listener
def _note_timing(name, response_time, response=None, exception=None, **kwargs) -> None:
    if _TIMINGS is not None and response is not None and exception is None:
        spent = parse(response.headers.get("Server-Timing", ""))
        _TIMINGS.write(json.dumps({"route": name, "ms": response_time, **spent}) + "\n")


def small_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), tuple(random.randrange(256) for _ in range(3))).save(buffer, format="PNG")
    return buffer.getvalue()


def meta() -> dict[str, str]:
    return {"title": f"Load {random.choice(WORDS)} {random.randrange(10_000)}", "description": "",
            "author": random.choice(AUTHORS), "keywords": ",".join(random.sample(KEYWORDS, 2)),
            "capture_date": f"2023-0{random.randint(1, 9)}-1{random.randint(0, 9)}"}


class PortalUser(HttpUser):
    """A person in a browser: signs in on one instance, then uses both (no sticky sessions)."""

    host = PORTALS[0]
    wait_time = between(0.5, 2)

    def on_start(self) -> None:
        n = next(_next_account)
        username = f"{USERNAME}-{n}" if n <= PORTAL_ACCOUNTS else USERNAME
        login = f"{PORTALS[0]}/accounts/login/"
        page = self.client.get(login, name="portal: sign-in form")
        self.request("POST", login, "portal: sign in", data={
            "username": username, "password": PASSWORD, "csrfmiddlewaretoken": _CSRF.search(page.text).group(1)},
            headers={"Referer": login})
        self.ids: list[str] = []

    def request(self, method: str, url: str, name: str, **kwargs):
        """A request that fails, as the person would see it, when it lands on the sign-in form."""
        with self.client.request(method, url, name=name, catch_response=True, **kwargs) as reply:
            if reply.ok and "/accounts/login/" in reply.url:
                reply.failure("not signed in: the sign-in form")
        return reply

    def portal(self) -> str:
        return random.choice(PORTALS)

    @task(4)
    def list_images(self) -> None:
        page = self.request("GET", f"{self.portal()}/", "portal: list")
        self.ids = re.findall(r'data-image-id="([0-9a-f]{32})"', page.text) or self.ids

    @task(3)
    def combined_filters(self) -> None:
        self.request("GET", f"{self.portal()}/", "portal: filters",
                     params={"author": random.choice(AUTHORS), "keyword": random.choice(KEYWORDS)})

    @task(3)
    def search(self) -> None:
        self.request("GET", f"{self.portal()}/", "portal: search", params={"q": " ".join(random.sample(WORDS, 2))})

    @task(2)
    def view(self) -> None:
        if self.ids:
            self.request("GET", f"{self.portal()}/{random.choice(self.ids)}/change/", "portal: view")

    @task(1)
    def add(self) -> None:
        base = self.portal()
        form = self.request("GET", f"{base}/add/", "portal: add form")
        found = _CSRF.search(form.text)
        if found:
            self.request("POST", f"{base}/add/", "portal: add",
                         data={**meta(), "csrfmiddlewaretoken": found.group(1)},
                         files={"image": ("load.png", small_png(), "image/png")},
                         headers={"Referer": f"{base}/add/", "Accept": "application/json"})


class ApiUser(HttpUser):
    """A program on the REST API with its ID token."""

    host = API
    wait_time = between(0.5, 2)

    def on_start(self) -> None:
        self.auth = {"Authorization": os.environ["LOAD_TOKEN"]}  # one token, made by scripts/load_test.py
        self.ids: list[str] = []

    @task(4)
    def list_images(self) -> None:
        reply = self.client.get("/images", params={"limit": 25}, headers=self.auth, name="api: list")
        self.ids = [i["id"] for i in reply.json()] or self.ids if reply.ok else self.ids

    @task(3)
    def combined_filters(self) -> None:
        self.client.get("/images", params={"author": random.choice(AUTHORS), "keywords": random.choice(KEYWORDS),
                                           "capture_date": "2023"}, headers=self.auth, name="api: filters")

    @task(3)
    def search(self) -> None:
        self.client.get("/images", params={"q": " ".join(random.sample(WORDS, 2))}, headers=self.auth,
                        name="api: search")

    @task(2)
    def view(self) -> None:
        if self.ids:
            self.client.get(f"/images/id/{random.choice(self.ids)}", headers=self.auth, name="api: view")

    @task(1)
    def add(self) -> None:
        self.client.post("/images", json={**meta(), "filename": "load.png",
                                          "image_content": base64.b64encode(small_png()).decode()},
                         headers=self.auth, name="api: add")
