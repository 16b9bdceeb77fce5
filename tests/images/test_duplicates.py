"""Duplicate detection (issue 12): the same bytes, and the same pixels with other embedded
metadata, are found through the postings index; old clients keep storing and are told
duplicate_of; on_duplicate "refuse" is a 409 with nothing stored; images in the trash count."""

from __future__ import annotations

import hashlib
import json

from PIL import Image

from images import catalog, objects
from images.api import images as api
from images.records import READY, ImageRecord, ImageTerm
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


def test_a_match_in_someone_elses_trash_is_not_reported_on_either_face(aws):
    # The probe: bob's upload matching alice's trashed image answered its id, title and in_trash.
    _, first = post(jpeg(color=(1, 200, 3)), title="Alice's secret")
    catalog.image_delete(actor=ALICE, image_id=first["id"])
    bob, bob_actor = claims_for(sub="sub-bob", username="bob"), catalog.Actor(sub="sub-bob", username="bob")
    body = {"title": "Mine", "author": "Bo", "image_content": b64(jpeg(color=(1, 200, 3))), "on_duplicate": "refuse"}
    reply = api.create_image(api_event("POST", "/images", body, claims=bob), None)
    answer = json.loads(reply["body"])
    assert reply["statusCode"] == 201 and answer["duplicate_of"] is None, answer
    assert "secret" not in reply["body"] and first["id"] not in reply["body"]
    # A trashed copy of his own he does hear of.
    catalog.image_delete(actor=bob_actor, image_id=answer["id"])
    again = catalog.image_create(owner=bob_actor, meta=catalog.validate_meta(title="Again", author="Bo", description="", keywords="",
                                                                      capture_date=""),
                                 data=jpeg(color=(1, 200, 3)), on_duplicate="keep")
    seen = catalog.duplicate_of(again, viewer=bob_actor)
    assert seen is not None and seen.record.id == answer["id"]  # bob's own trash, not alice's
    # Its owner still hears of it (bob's copies, all in his trash now, are not hers to see).
    catalog.image_delete(actor=bob_actor, image_id=again.id)
    mine = catalog.duplicate_of(again, viewer=ALICE)
    assert mine is not None and mine.record.id == first["id"] and mine.in_trash


def _both_past_the_lookup(monkeypatch):
    """Hold each upload after its duplicate lookup until the other has made its own."""
    import threading

    from images.catalog import services

    barrier, put = threading.Barrier(2, timeout=20), services._put_file

    def after_both(*args):
        barrier.wait()
        return put(*args)
    monkeypatch.setattr(services, "_put_file", after_both)


def _at_once(*calls) -> list:
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(len(calls)) as pool:
        futures = [pool.submit(c) for c in calls]
    outcomes = []
    for f in futures:
        try:
            outcomes.append(f.result())
        except catalog.DuplicateImage as exc:
            outcomes.append(exc)
    return outcomes


def stored_objects(config) -> list[str]:
    listed = objects.s3().list_objects_v2(Bucket=config.images_bucket)
    return sorted(o["Key"] for o in listed.get("Contents", []))


def test_the_same_picture_added_twice_at_once_is_stored_once(aws, monkeypatch):
    # Both uploads pass the lookup before either commits (the add page with one file dropped
    # twice): the claim in the transaction lets one commit, the other is told which image won.
    _both_past_the_lookup(monkeypatch)
    meta = catalog.validate_meta(title="Dune", description="", keywords="", author="Ana", capture_date="")
    outcomes = _at_once(*[lambda: catalog.image_create(owner=ALICE, meta=meta, data=jpeg(), on_duplicate="ask")] * 2)
    stored = [o for o in outcomes if isinstance(o, ImageRecord)]
    refused = [o for o in outcomes if isinstance(o, catalog.DuplicateImage)]
    assert len(stored) == 1 and len(refused) == 1, outcomes
    assert refused[0].duplicate.record.id == stored[0].id and refused[0].duplicate.match == "same_bytes"
    assert [r.id for r in ImageRecord.scan()] == [stored[0].id]
    assert stored_objects(aws) == sorted([stored[0].object_key, stored[0].thumbnail_key])  # no orphan


def test_a_replacement_and_an_add_of_one_picture_at_once_store_it_once(aws, monkeypatch):
    meta = catalog.validate_meta(title="Dune", description="", keywords="", author="Ana", capture_date="")
    other = catalog.image_create(owner=ALICE, meta=meta, data=jpeg(color=(9, 9, 9)))
    _both_past_the_lookup(monkeypatch)
    outcomes = _at_once(
        lambda: catalog.image_create(owner=ALICE, meta=meta, data=jpeg(), on_duplicate="refuse"),
        lambda: catalog.image_edit(actor=ALICE, image_id=other.id, changes={}, data=jpeg(), on_duplicate="refuse"))
    assert sum(isinstance(o, catalog.DuplicateImage) for o in outcomes) == 1, outcomes
    wanted = hashlib.sha256(jpeg()).hexdigest()
    assert [r.sha256 for r in ImageRecord.scan()].count(wanted) == 1


def test_keep_both_stores_both_at_once(aws, monkeypatch):
    # Without refusing, nothing is claimed: the same picture twice at once is two images.
    _both_past_the_lookup(monkeypatch)
    meta = catalog.validate_meta(title="Dune", description="", keywords="", author="Ana", capture_date="")
    outcomes = _at_once(*[lambda: catalog.image_create(owner=ALICE, meta=meta, data=jpeg())] * 2)
    assert all(isinstance(o, ImageRecord) for o in outcomes) and ImageRecord.count() == 2


def test_a_claim_of_an_image_the_uploader_may_not_see_does_not_block(aws):
    # Bob adds a picture and trashes it; alice (who may not see bob's trash) adds the same one
    # at once after, and then again after bob's image is purged: both are stored.
    bob = catalog.Actor(sub="sub-bob", username="bob")
    meta = catalog.validate_meta(title="Dune", description="", keywords="", author="Ana", capture_date="")
    bobs = catalog.image_create(owner=bob, meta=meta, data=jpeg(), on_duplicate="ask")
    catalog.image_delete(actor=bob, image_id=bobs.id)
    first = catalog.image_create(owner=ALICE, meta=meta, data=jpeg(), on_duplicate="ask")
    assert {t.image_id for t in ImageTerm.scan() if t.term.startswith("claim:")} == {first.id}
    catalog.image_delete(actor=ALICE, image_id=first.id)
    catalog.image_purge(actor=catalog.Actor(sub="sub-sam", username="sam", is_staff=True), image_id=first.id)
    again = catalog.image_create(owner=ALICE, meta=meta, data=jpeg(), on_duplicate="refuse")
    assert ImageRecord.get(again.id).state == READY
