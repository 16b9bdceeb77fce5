"""The trash and the history (issue 12): a delete hides an image at once and keeps it restorable,
a restore brings back the same id and metadata, a purge removes file and record but keeps the
history, the retention sweep purges what is old enough; every step is one history entry."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from common.errors import NotFound, PermissionDenied
from images import catalog, objects
from images.api import images as api
from images.api import trash as api_trash
from images.records import TRASHED, ImageHistory, ImageRecord, ImageTerm
from images.sweep import sweep
from tests.helpers import api_event, claims_for, make_image

ALICE = catalog.Actor(sub="sub-alice", username="alice")
BOB = catalog.Actor(sub="sub-bob", username="bob")
STAFF = catalog.Actor(sub="sub-sam", username="sam", is_staff=True)
ALICE_CLAIMS = claims_for()
BOB_CLAIMS = claims_for("sub-bob", "bob")
STAFF_CLAIMS = claims_for("sub-sam", "sam", groups="staff")


def create(title="Lighthouse", owner=ALICE):
    meta = catalog.validate_meta(title=title, description="Night", keywords="sea,light", author="Ana",
                                 capture_date="2021-06-01")
    return catalog.image_create(owner=owner, meta=meta, data=make_image("PNG"), original_filename="l.png")


def call(handler, method, path, body=None, **kwargs):
    reply = handler(api_event(method, path, body, **kwargs), None)
    return reply["statusCode"], json.loads(reply["body"]), reply["headers"]


def visible(record) -> dict:
    """Where an image shows: list, searches, facets, lookup by id, its public objects."""
    return {
        "listed": record.id in {r.id for r in catalog.image_list(limit=100).items},
        "title search": record.id in {r.id for r in catalog.image_search(key="title", value="lighthouse").items},
        "keyword search": record.id in {r.id for r in catalog.image_search(key="keywords", value="sea").items},
        "id search": bool(catalog.image_search(key="id", value=record.id).items),
        "facet": any(v == "sea" for v, _, _ in catalog.facet_values(field="keyword")),
    }


def test_delete_trash_restore_purge_through_the_api(aws):
    record = create()
    public = [record.object_key, record.thumbnail_key]
    original = objects.get_object(record.object_key)
    assert all(visible(record).values())

    status, body, _ = call(api.delete_image, "DELETE", "/images", {"id": record.id}, claims=ALICE_CLAIMS)
    assert status == 200, body
    assert not any(visible(record).values()), visible(record)
    assert not any(objects.exists(k) for k in public)  # the public URL stops serving at once
    trashed = ImageRecord.get(record.id)
    assert trashed.state == TRASHED and trashed.deleted_by == "alice" and trashed.deleted_at
    assert all(k.startswith(objects.TRASH_PREFIX) and objects.exists(k)
               for k in (trashed.object_key, trashed.thumbnail_key))

    status, items, _ = call(api_trash.list_trash, "GET", "/images/trash", claims=ALICE_CLAIMS)
    assert status == 200 and [i["id"] for i in items] == [record.id]
    assert items[0]["deleted_by"] == "alice" and items[0]["object_url"] is None and items[0]["title"] == "Lighthouse"
    assert call(api_trash.list_trash, "GET", "/images/trash", claims=BOB_CLAIMS)[1] == []  # not bob's
    assert [i["id"] for i in call(api_trash.list_trash, "GET", "/images/trash", claims=STAFF_CLAIMS)[1]] == [record.id]

    status, body, _ = call(api_trash.restore_image, "POST", "/images/restore", {"id": record.id}, claims=BOB_CLAIMS)
    unknown = call(api_trash.restore_image, "POST", "/images/restore", {"id": "0" * 32}, claims=BOB_CLAIMS)
    assert (status, body) == unknown[:2] and status == 404, body  # someone else's trash: like an unknown id
    status, body, _ = call(api_trash.restore_image, "POST", "/images/restore", {"id": record.id}, claims=ALICE_CLAIMS)
    assert status == 200 and body["status"] == "success" and body["id"] == record.id, body
    restored = catalog.image_get(image_id=record.id)
    for field in ("title", "description", "keywords", "author", "capture_date", "creator", "sha256", "created_key"):
        assert getattr(restored, field) == getattr(record, field), field
    assert objects.get_object(restored.object_key) == original  # its file is served again
    assert objects.exists(restored.object_key) and objects.exists(restored.thumbnail_key)
    assert all(visible(record).values())
    assert not catalog.cleanup.pending() and not list(objects.list_objects(objects.TRASH_PREFIX))
    status, body, _ = call(api_trash.restore_image, "POST", "/images/restore", {"id": record.id}, claims=ALICE_CLAIMS)
    assert status == 404, body  # not in the trash any more

    call(api.delete_image, "DELETE", "/images", {"id": record.id}, claims=ALICE_CLAIMS)
    status, body, _ = call(api_trash.purge_image, "POST", "/images/purge", {"id": record.id}, claims=ALICE_CLAIMS)
    assert status == 403, body  # staff only
    status, body, _ = call(api_trash.purge_image, "POST", "/images/purge", {"id": record.id}, claims=STAFF_CLAIMS)
    assert status == 200, body
    with pytest.raises(ImageRecord.DoesNotExist):
        ImageRecord.get(record.id)
    assert not list(objects.list_objects(objects.TRASH_PREFIX)) and not list(objects.list_objects("images/"))
    assert not list(ImageTerm.query(catalog.trash.TRASH_ALL))

    # The history is kept, for staff only once the image is purged.
    status, entries, _ = call(api_trash.image_history, "GET", f"/images/history/{record.id}",
                              path_parameters={"id": record.id}, claims=STAFF_CLAIMS)
    assert status == 200
    assert [e["action"] for e in entries] == ["create", "delete", "restore", "delete", "purge"]
    assert [e["version"] for e in entries] == [1, 2, 3, 4, 5]
    assert entries[1]["actor"] == "alice" and entries[1]["face"] == "api"
    assert entries[1]["changes"] == {"state": ["ready", "trashed"]}
    assert entries[4]["actor"] == "sam"
    status, _, _ = call(api_trash.image_history, "GET", f"/images/history/{record.id}",
                        path_parameters={"id": record.id}, claims=ALICE_CLAIMS)
    assert status == 404


def test_history_is_paginated_oldest_first_with_signed_cursors(aws):
    record = create()
    for n in range(4):
        catalog.image_edit(actor=ALICE, image_id=record.id, changes={"title": f"Lighthouse {n}"})
    path = {"path_parameters": {"id": record.id}, "claims": BOB_CLAIMS}  # a listed image: anyone signed in
    status, first, headers = call(api_trash.image_history, "GET", "/x", query={"limit": "2"}, **path)
    assert status == 200 and [e["version"] for e in first] == [1, 2]
    assert first[1]["changes"] == {"title": ["Lighthouse", "Lighthouse 0"]}
    cursor = headers["X-Next-Cursor"]
    status, rest, headers = call(api_trash.image_history, "GET", "/x", query={"limit": "3", "cursor": cursor}, **path)
    assert [e["version"] for e in rest] == [3, 4, 5] and "X-Next-Cursor" not in headers
    status, body, _ = call(api_trash.image_history, "GET", "/x", query={"cursor": cursor[:-2] + "xx"}, **path)
    assert status == 400, body
    other = create("Other")
    status, body, _ = call(api_trash.image_history, "GET", "/x", query={"cursor": cursor},
                           path_parameters={"id": other.id}, claims=BOB_CLAIMS)
    assert status == 400, body  # a cursor of another image's history
    status, body, _ = call(api_trash.image_history, "GET", "/x", path_parameters={"id": "0" * 32}, claims=STAFF_CLAIMS)
    assert status == 404


def test_trash_is_paginated_and_only_owners_and_staff_see_a_trashed_history(aws):
    ids = [create(f"Lighthouse {n}").id for n in range(3)]
    for image_id in ids:
        catalog.image_delete(actor=STAFF, image_id=image_id)  # staff deletes alice's images
    status, first, headers = call(api_trash.list_trash, "GET", "/images/trash", query={"limit": "2"},
                                  claims=ALICE_CLAIMS)
    assert status == 200 and [i["id"] for i in first] == ids[::-1][:2]
    assert first[0]["deleted_by"] == "sam"
    _, rest, headers = call(api_trash.list_trash, "GET", "/images/trash",
                            query={"limit": "2", "cursor": headers["X-Next-Cursor"]}, claims=ALICE_CLAIMS)
    assert [i["id"] for i in rest] == [ids[0]] and "X-Next-Cursor" not in headers
    assert call(api_trash.image_history, "GET", "/x", path_parameters={"id": ids[0]}, claims=BOB_CLAIMS)[0] == 404
    assert call(api_trash.image_history, "GET", "/x", path_parameters={"id": ids[0]}, claims=ALICE_CLAIMS)[0] == 200
    with pytest.raises(NotFound):
        catalog.image_get(image_id=ids[0])
    with pytest.raises(PermissionDenied):
        catalog.image_purge(actor=ALICE, image_id=ids[0])


def test_the_sweep_purges_what_is_past_the_retention_period(aws):
    old, recent = create("Old"), create("Recent")
    catalog.image_delete(actor=ALICE, image_id=old.id)
    catalog.image_delete(actor=ALICE, image_id=recent.id)
    later = datetime.now(timezone.utc) + timedelta(days=10)
    report = sweep(repair=True, grace=timedelta(0), now=later, retention_days=30)
    assert report.purged == [] and ImageRecord.get(old.id).state == TRASHED
    report = sweep(repair=True, grace=timedelta(0), now=later, retention_days=7)
    assert sorted(report.purged) == sorted([old.id, recent.id])
    assert sweep(grace=timedelta(0)).clean
    entries = list(ImageHistory.query(old.id))
    assert entries[-1].action == "purge" and entries[-1].actor == "sweep" and entries[-1].face == "sweep"


def test_recent_actions_are_each_persons_own_newest_first(aws):
    record = create()
    catalog.image_edit(actor=ALICE, image_id=record.id, changes={"author": "Bea"})
    catalog.image_delete(actor=STAFF, image_id=record.id)
    mine = catalog.recent_actions(actor=ALICE)
    assert [(a["action"], a["title"]) for a in mine] == [("edit", "Lighthouse"), ("create", "Lighthouse")]
    assert [a["action"] for a in catalog.recent_actions(actor=STAFF)] == ["delete"]
    assert catalog.recent_actions(actor=BOB) == []


def test_a_delete_whose_cdn_invalidation_fails_leaves_a_cleanup_the_sweep_finishes(aws, monkeypatch):
    from botocore.exceptions import ClientError

    record = create()
    down = ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, "CreateInvalidation")
    monkeypatch.setattr(objects, "invalidate", lambda *keys: (_ for _ in ()).throw(down))
    assert catalog.image_delete(actor=ALICE, image_id=record.id) is False
    assert catalog.cleanup.pending(record.id)
    monkeypatch.undo()
    sweep(repair=True, grace=timedelta(0))
    assert not catalog.cleanup.pending() and sweep(grace=timedelta(0)).clean
    assert ImageRecord.get(record.id).state == TRASHED
