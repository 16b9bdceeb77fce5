"""Trash and history over the real stack (issue 12): one image's whole life through both faces
(create in the portal in Chromium, edit through the API, replace the file in the portal, delete,
restore, purge), checked in the list, search, its URL, the Trash page, the History page and
GET /images/history/{id}."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.e2e.conftest import create_user, sign_in
from tests.helpers import make_image, unique_color

pytestmark = pytest.mark.e2e

PASSWORD = "Trash-pass-1"


def _token(stack, username):
    reply = requests.post(f"{stack.api_url}/users/token", json={"username": username, "password": PASSWORD}, timeout=30)
    assert reply.status_code == 200, reply.text
    return {"Authorization": reply.json()["id_token"]}


def test_one_image_through_a_whole_life_on_both_faces(local_stack, new_context, tmp_path):
    owner, boss = f"tina{uuid.uuid4().hex[:6]}", f"boss{uuid.uuid4().hex[:6]}"
    create_user(local_stack, owner, PASSWORD)
    create_user(local_stack, boss, PASSWORD, staff=True)
    auth, staff = _token(local_stack, owner), _token(local_stack, boss)
    api = local_stack.api_url
    title = f"Tidepool {uuid.uuid4().hex[:8]}"
    first, second = tmp_path / "first.png", tmp_path / "second.jpg"
    first.write_bytes(make_image("PNG", size=(40, 30), color=unique_color()))
    second.write_bytes(make_image("JPEG", size=(50, 40), color=unique_color()))

    # The pages' plain forms (the add page's multi-file script is issue 11's, tested there).
    page = new_context(java_script_enabled=False).new_page()
    sign_in(page, local_stack, owner, PASSWORD)
    # 1. Create in the portal (the plain one-file form).
    page.goto(f"{local_stack.portal_url}/add/")
    page.set_input_files("#single-upload input[type=file]", str(first))
    page.fill("#single-upload input[name=title]", title)
    page.fill("#single-upload input[name=author]", "Tina")
    with page.expect_navigation():
        page.locator("#single-upload [type=submit]").first.click()
    found = requests.get(f"{api}/images/title/{title}", headers=auth, timeout=30).json()
    assert len(found) == 1, found
    image_id = found[0]["id"]

    # 2. Edit through the API.
    reply = requests.put(f"{api}/images", headers=auth, timeout=30, json={"id": image_id, "author": "Tina B"})
    assert reply.status_code == 200, reply.text

    # 3. Replace the file in the portal.
    page.goto(f"{local_stack.portal_url}/{image_id}/change/")
    page.set_input_files("#image-form input[type=file]", str(second))
    with page.expect_navigation():
        page.click("#image-form input[name=_save]")
    image = requests.get(f"{api}/images/id/{image_id}", headers=auth, timeout=30).json()[0]
    assert image["content_type"] == "image/jpeg"

    # 4. Delete (API): gone from the list, search and its URL.
    reply = requests.delete(f"{api}/images", headers=auth, timeout=30, json={"id": image_id})
    assert reply.status_code == 200, reply.text
    assert requests.get(image["object_url"], timeout=30).status_code in (403, 404)
    assert requests.get(f"{api}/images/title/{title}", headers=auth, timeout=30).json() == []
    assert requests.get(f"{api}/images/id/{image_id}", headers=auth, timeout=30).json() == []
    listed = requests.get(f"{api}/images", headers=auth, params={"limit": 100}, timeout=30).json()
    assert image_id not in [i["id"] for i in listed]
    trash = requests.get(f"{api}/images/trash", headers=auth, timeout=30).json()
    assert [i["id"] for i in trash] == [image_id] and trash[0]["deleted_by"] == owner

    # 5. Restore in the portal's Trash page.
    page.goto(f"{local_stack.portal_url}/trash/")
    row = page.locator(f"tr[data-image-id='{image_id}']")
    assert title in row.inner_text()
    with page.expect_navigation():
        row.locator("button.restore-one").click()
    assert "restored" in page.locator(".messagelist").inner_text()
    restored = requests.get(f"{api}/images/id/{image_id}", headers=auth, timeout=30).json()[0]
    for field in ("title", "author", "description", "keywords", "capture_date", "creator", "sha256"):
        assert restored[field] == image[field], field
    assert requests.get(restored["object_url"], timeout=30).status_code == 200

    # The history, in order, with actor, face and before/after: through the API and the portal.
    entries = requests.get(f"{api}/images/history/{image_id}", headers=auth, timeout=30).json()
    assert [(e["action"], e["face"], e["actor"]) for e in entries] == [
        ("create", "portal", owner), ("edit", "api", owner), ("replace", "portal", owner),
        ("delete", "api", owner), ("restore", "portal", owner)]
    assert entries[0]["changes"]["title"] == [None, title]
    assert entries[1]["changes"] == {"author": ["Tina", "Tina B"]}
    assert entries[2]["changes"]["content_type"] == ["image/png", "image/jpeg"]
    assert entries[3]["changes"] == {"state": ["ready", "trashed"]}
    page.goto(f"{local_stack.portal_url}/{image_id}/history/")
    rows = page.locator("tr.history-entry")
    assert rows.count() == 5
    assert [rows.nth(i).locator(".history-action").inner_text() for i in range(5)] == [
        "create", "edit", "replace", "delete", "restore"]
    assert "Tina B" in rows.nth(1).inner_text() and "api" in rows.nth(1).inner_text()
    page.goto(f"{local_stack.portal_url}/")
    assert title in page.locator("#recent-actions-module").inner_text()

    # 6. Delete again in the portal, purge as staff: object and record gone, history kept.
    page.goto(f"{local_stack.portal_url}/{image_id}/delete/")
    with page.expect_navigation():
        page.locator("#content-main form [type=submit]").first.click()
    assert "moved to the trash" in page.locator(".messagelist").inner_text()
    reply = requests.post(f"{api}/images/purge", headers=auth, timeout=30, json={"id": image_id})
    assert reply.status_code == 403  # owners restore; only staff purge
    reply = requests.post(f"{api}/images/purge", headers=staff, timeout=30, json={"id": image_id})
    assert reply.status_code == 200, reply.text
    assert requests.get(restored["object_url"], timeout=30).status_code in (403, 404)
    assert requests.get(f"{api}/images/trash", headers=auth, timeout=30).json() == []
    assert requests.post(f"{api}/images/restore", headers=auth, timeout=30, json={"id": image_id}).status_code == 404
    kept = requests.get(f"{api}/images/history/{image_id}", headers=staff, timeout=30).json()
    assert [e["action"] for e in kept][-2:] == ["delete", "purge"] and len(kept) == 7
    assert requests.get(f"{api}/images/history/{image_id}", headers=auth, timeout=30).status_code == 404
