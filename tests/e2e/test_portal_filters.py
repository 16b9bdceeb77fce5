"""Filters and search that combine, in a real headless Chromium against the local stack:
author then keyword keeps both (the Django admin's habit), "All" clears only its own filter,
the search box and the date drill-down stay inside the filters chosen."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.e2e.conftest import create_user, sign_in
from tests.helpers import make_image

pytestmark = pytest.mark.e2e

USER, PASSWORD = "filter-fran", "Fran-pass-1!"
IMAGES = [  # title, author, keywords, capture date
    ("Both one", "Combo Author", "combolake,x", "2023-04-02"),
    ("Both two", "Combo Author", "combolake", "2022-06-01"),
    ("Author only", "Combo Author", "combosea", "2023-04-03"),
    ("Keyword only", "Other Person", "combolake", "2023-04-04"),
]


@pytest.fixture(scope="module")
def made(local_stack):
    create_user(local_stack, USER, PASSWORD)
    token = requests.post(f"{local_stack.api_url}/users/token", json={"username": USER, "password": PASSWORD},
                          timeout=30).json()["id_token"]
    for title, author, keywords, captured in IMAGES:
        reply = requests.post(f"{local_stack.api_url}/images", headers={"Authorization": token}, timeout=30, json={
            "title": title, "author": author, "keywords": keywords, "capture_date": captured,
            "image_content": base64.b64encode(make_image()).decode()})
        assert reply.status_code == 201, reply.text


def titles(page) -> set[str]:
    return set(page.locator("#result_list tbody th.field-title").all_inner_texts())


def params(page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def test_author_then_keyword_keeps_both(made, local_stack, new_context):
    page = new_context().new_page()
    sign_in(page, local_stack, USER, PASSWORD)
    sidebar = page.locator("#changelist-filter")
    sidebar.locator("details[data-filter-title=author] a", has_text="Combo Author").click()
    assert titles(page) == {"Both one", "Both two", "Author only"}
    sidebar.locator("details[data-filter-title=keyword] a", has_text="combolake").click()
    assert params(page)["author"] == ["combo author"] and params(page)["keyword"] == ["combolake"]
    assert titles(page) == {"Both one", "Both two"}
    assert "author “Combo Author”, keyword “combolake”" in page.locator("h1").inner_text()
    assert page.locator(".facet-counts-note").inner_text().startswith("Counts are of the whole catalog")

    # The date drill-down stays inside the filters.
    page.locator("nav.toplinks a", has_text="2023").click()
    assert set(params(page)) >= {"author", "keyword", "date"} and titles(page) == {"Both one"}

    # The search box keeps the filters (any field by default).
    page.fill("#searchbar", "one")
    page.click("#changelist-search input[type=submit]")
    assert titles(page) == {"Both one"} and params(page)["keyword"] == ["combolake"]
    page.fill("#searchbar", "two")
    page.click("#changelist-search input[type=submit]")
    assert titles(page) == set() and "No images match" in page.locator(".empty-state").inner_text()

    # "All" under keyword clears only the keyword; the author and the search stay.
    sidebar.locator("details[data-filter-title=keyword] a", has_text="All").click()
    assert "keyword" not in params(page) and params(page)["author"] == ["combo author"]
    assert params(page)["q"] == ["two"]
