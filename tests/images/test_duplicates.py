"""Duplicate detection (issue 12): the same bytes, and the same pixels with other embedded
metadata, are found through the postings index; old clients keep storing and are told
duplicate_of; on_duplicate "refuse" is a 409 with nothing stored; images in the trash count."""

from __future__ import annotations

import json

from PIL import Image

from images import api, catalog, objects
from images.records import ImageRecord, ImageTerm
from tests.helpers import api_event, b64, claims_for, jpeg_with_artist

ALICE = catalog.Actor(sub="sub-alice", username="alice")
CLAIMS = claims_for()


def jpeg(exif_artist: str | None = None, color=(200, 90, 30)) -> bytes:
    return jpeg_with_artist(Image.new("RGB", (64, 48), color), exif_artist)


def post(data: bytes, **fields):
    body = {"title": "Dune", "author": "Ana", "image_content": b64(data), **fields}
    reply = api.create_image(api_event("POST", "/images", body, claims=CLAIMS), None)
    return reply["statusCode"], json.loads(reply["body"])


def test_the_same_bytes_are_reported_and_still_stored_for_old_clients(aws):
    status, first = post(jpeg())
    assert status == 201 and first["duplicate_of"] is None
    status, second = post(jpeg(), title="Dune again")
    assert status == 201 and second["id"] != first["id"]
    assert second["duplicate_of"]["id"] == first["id"] and second["duplicate_of"]["match"] == "same_bytes"
    assert second["duplicate_of"]["in_trash"] is False and second["duplicate_of"]["thumbnail_url"]
    assert ImageRecord.count() == 2


def test_the_same_pixels_with_other_exif_are_reported(aws):
    plain, tagged = jpeg(), jpeg(exif_artist="Someone Else")
    assert plain != tagged
    _, first = post(plain)
    status, second = post(tagged)
    assert status == 201 and second["duplicate_of"]["id"] == first["id"]
    assert second["duplicate_of"]["match"] == "same_pixels"
    _, other = post(jpeg(color=(10, 10, 10)))
    assert other["duplicate_of"] is None


def test_refuse_is_a_409_with_duplicate_of_and_nothing_stored(aws):
    _, first = post(jpeg())
    before = set(objects.list_objects("images/"))
    status, body = post(jpeg(exif_artist="Other"), on_duplicate="refuse")
    assert status == 409 and body["status"] == "fail" and body["duplicate_of"]["id"] == first["id"], body
    assert ImageRecord.count() == 1 and set(objects.list_objects("images/")) == before
    status, body = post(jpeg(color=(1, 2, 3)), on_duplicate="refuse")
    assert status == 201, body  # not a duplicate: stored
    for wrong in ("sometimes", None, True, ["refuse"]):  # the spec says a string of two values: null too is a 400
        status, body = post(jpeg(color=(9, 9, 9)), on_duplicate=wrong)
        assert status == 400 and "on_duplicate" in body["msg"], body
    assert ImageRecord.count() == 2


def test_images_in_the_trash_count_and_say_so_and_a_purge_forgets_them(aws):
    _, first = post(jpeg())
    catalog.image_delete(actor=ALICE, image_id=first["id"])
    status, body = post(jpeg(), on_duplicate="refuse")
    assert status == 409 and body["duplicate_of"]["in_trash"] is True and body["duplicate_of"]["object_url"] is None
    assert "trash" in body["msg"]
    catalog.image_purge(actor=catalog.Actor(sub="s", username="sam", is_staff=True), image_id=first["id"])
    assert not [t for t in ImageTerm.scan() if t.term.startswith(("sha256:", "pixels:"))]
    status, body = post(jpeg(), on_duplicate="refuse")
    assert status == 201 and body["duplicate_of"] is None


def test_a_replacement_moves_the_content_postings_and_can_be_refused(aws):
    _, first = post(jpeg())
    _, second = post(jpeg(color=(0, 0, 250)))
    reply = api.update_image(api_event("PUT", "/images", {"id": second["id"], "image_content": b64(jpeg()),
                                                           "on_duplicate": "refuse"}, claims=CLAIMS), None)
    body = json.loads(reply["body"])
    assert reply["statusCode"] == 409 and body["status"] == "ERROR" and body["duplicate_of"]["id"] == first["id"]
    reply = api.update_image(api_event("PUT", "/images", {"id": second["id"], "image_content": b64(jpeg())},
                                       claims=CLAIMS), None)
    assert json.loads(reply["body"])["duplicate_of"]["id"] == first["id"]
    record = ImageRecord.get(second["id"])
    terms = {t.term for t in ImageTerm.scan() if t.image_id == second["id"]}
    assert f"sha256:{record.sha256}" in terms and f"pixels:{record.pixel_hash}" in terms
    assert len([t for t in terms if t.startswith("sha256:")]) == 1  # the old file's posting is gone
