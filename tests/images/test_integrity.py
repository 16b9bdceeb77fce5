"""Integrity of every write (issue 9): signed cursors, one version per change, races between
writers settled by conditions, retried creates that make one image, lost replies settled."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from unittest import mock

import pytest
from botocore.exceptions import ReadTimeoutError

from common.config import get_config
from common.errors import Conflict, InvalidInput
from images import catalog, objects
from images.api import images as api
from images.catalog import idempotency, services
from images.records import ImageHistory, ImageRecord
from tests.helpers import api_event, b64, claims_for, make_image

ALICE = catalog.Actor(sub="sub-alice", username="alice")
ALICE_CLAIMS = claims_for()


def meta(title="Pier", author="Ana", keywords=""):
    return catalog.validate_meta(title=title, description="", keywords=keywords, author=author, capture_date=None)


def create(title="Pier"):
    return catalog.image_create(owner=ALICE, meta=meta(title), data=make_image("PNG"), original_filename="p.png")


def call(handler, *args, **kwargs):
    reply = handler(api_event(*args, **kwargs), None)
    return reply["statusCode"], json.loads(reply["body"]), reply["headers"]


def history_of(image_id: str) -> list[dict]:
    """Every change of an image, as both faces read it (one page: these have few)."""
    page = catalog.history_page(actor=ALICE, image_id=image_id, limit=catalog.MAX_PAGE_SIZE)
    assert page.next_cursor is None
    return page.items


def agrees(record: ImageRecord) -> bool:
    """The record describes the bytes it points at."""
    data = objects.get_object(record.object_key)
    return hashlib.sha256(data).hexdigest() == record.sha256 and len(data) == record.byte_size


# ------------------------------------------------------------------ cursors


def _unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def test_every_field_of_a_cursor_changed_is_refused(aws):
    for n in range(3):
        create(f"Pier {n}")
    cursor = catalog.image_list(limit=1).next_cursor
    assert catalog.image_list(limit=1, cursor=cursor).items  # the untouched cursor works
    payload_text, mac = cursor.split(".")
    key = json.loads(_unb64(payload_text))
    assert set(key) >= {"order", "sort"}
    for field, value in key.items():
        for changed in (value + "x", value[:-1] + ("0" if value[-1] != "0" else "1"), ""):
            forged = _b64(json.dumps({**key, field: changed}, separators=(",", ":"), sort_keys=True).encode())
            with pytest.raises(InvalidInput, match="cursor"):
                catalog.image_list(limit=1, cursor=f"{forged}.{mac}")
    extra = _b64(json.dumps({**key, "limit": "100"}, separators=(",", ":"), sort_keys=True).encode())
    for bad in (f"{extra}.{mac}", payload_text, f"{payload_text}.{mac[:-2]}AA", f"{payload_text}.", "x.y.z"):
        with pytest.raises(InvalidInput, match="cursor"):
            catalog.image_list(limit=1, cursor=bad)
    with pytest.raises(InvalidInput, match="cursor"):
        catalog.image_list(limit=1, cursor=cursor, order="oldest")  # bound to its order
    with pytest.raises(InvalidInput, match="cursor"):
        catalog.image_search(key="title", value="pier", limit=1, cursor=cursor)  # and to its query


def test_a_cursor_signed_with_another_secret_is_refused(aws, monkeypatch):
    for n in range(2):
        create(f"Pier {n}")
    cursor = catalog.image_list(limit=1).next_cursor
    monkeypatch.setenv("CURSOR_SECRET", "rotated")
    get_config.cache_clear()
    with pytest.raises(InvalidInput, match="cursor"):
        catalog.image_list(limit=1, cursor=cursor)


def test_a_tampered_cursor_is_a_400_through_the_api(aws):
    for n in range(2):
        create(f"Pier {n}")
    _, _, headers = call(api.list_images, "GET", "/images", claims=ALICE_CLAIMS, query={"limit": "1"})
    cursor = headers["X-Next-Cursor"]
    payload_text, mac = cursor.split(".")
    key = json.loads(_unb64(payload_text))
    key["sort"] = key["sort"][:-1] + ("a" if key["sort"][-1] != "a" else "b")
    forged = _b64(json.dumps(key, separators=(",", ":"), sort_keys=True).encode()) + "." + mac
    status, body, _ = call(api.list_images, "GET", "/images", claims=ALICE_CLAIMS,
                           query={"limit": "1", "cursor": forged})
    assert status == 400 and body["status"] == "fail" and "cursor" in body["msg"]


# ------------------------------------------------------------------ one change, one version


def test_a_file_replacement_adds_exactly_one_to_the_version_through_the_api(aws):
    record = create()
    status, body, _ = call(api.update_image, "PUT", "/images", {"id": record.id, "image_content": b64(make_image("GIF"))},
                           claims=ALICE_CLAIMS)
    assert status == 200 and body["image"]["version"] == record.version + 1
    stored = catalog.image_get(image_id=record.id)
    assert stored.version == record.version + 1 and stored.content_type == "image/gif" and agrees(stored)
    history = history_of(record.id)
    assert [h["version"] for h in history] == [1, 2] and [h["action"] for h in history] == ["create", "replace"]
    assert history[1]["face"] == "api" and history[1]["changes"]["content_type"] == ["image/png", "image/gif"]


def test_an_unchanged_save_makes_no_version(aws):
    record = create()
    same = catalog.image_update(actor=ALICE, image_id=record.id, meta=meta(), data=None)
    assert same.version == record.version
    again = catalog.image_update(actor=ALICE, image_id=record.id, meta=meta(), data=make_image("PNG"))
    assert again.version == record.version  # the same bytes again are no change either
    assert len(history_of(record.id)) == 1


# ------------------------------------------------------------------ races


class Gate:
    """Holds the first writer that reaches the commit until the test lets it go."""

    def __init__(self):
        self.reached, self.go = threading.Event(), threading.Event()
        self.first = True
        self.lock = threading.Lock()
        self.real = services.commit

    def __call__(self, *args, **kwargs):
        with self.lock:
            hold, self.first = self.first, False
        if hold:
            self.reached.set()
            assert self.go.wait(10)
        return self.real(*args, **kwargs)


def _replace_in_thread(record_id, data, results, name):
    try:
        results[name] = catalog.image_update(actor=ALICE, image_id=record_id, meta=meta(), data=data)
    except Exception as exc:  # noqa: BLE001 - the test looks at what each writer got
        results[name] = exc


@pytest.mark.parametrize("a_commits_first", [False, True])
def test_two_replacements_racing_leave_the_record_and_its_bytes_in_agreement(aws, a_commits_first):
    record = create()
    gif, jpeg = make_image("GIF", color=(0, 200, 0)), make_image("JPEG", size=(30, 20))
    gate, results = Gate(), {}
    with mock.patch.object(services, "commit", gate):
        a = threading.Thread(target=_replace_in_thread, args=(record.id, gif, results, "a"))
        a.start()
        assert gate.reached.wait(10)  # A has stored its bytes and waits at its commit
        if a_commits_first:
            gate.go.set()
            a.join(10)
            _replace_in_thread(record.id, jpeg, results, "b")
        else:
            _replace_in_thread(record.id, jpeg, results, "b")  # B commits while A waits
            gate.go.set()
            a.join(10)
    winner, loser = ("a", "b") if a_commits_first else ("b", "a")
    if a_commits_first:
        # B read the record after A committed: both changes are kept, one after the other.
        assert isinstance(results["a"], ImageRecord) and isinstance(results["b"], ImageRecord)
        winner = "b"
    else:
        assert isinstance(results[loser], Conflict) and isinstance(results[winner], ImageRecord)
    current = catalog.image_get(image_id=record.id)
    assert current.object_key == results[winner].object_key and agrees(current)
    assert current.version == record.version + (2 if a_commits_first else 1)
    # Only the current version's objects remain: the loser's and the replaced ones are gone.
    assert {k for k, _ in objects.list_objects(f"images/{record.id}/")} == {current.object_key}
    assert {k for k, _ in objects.list_objects(f"thumbnails/{record.id}/")} == {current.thumbnail_key}


def test_a_partial_put_racing_another_edit_is_a_conflict_not_a_silent_revert(aws):
    record = create()
    gate, results = Gate(), {}

    def partial_put():
        results["put"] = call(api.update_image, "PUT", "/images", {"id": record.id, "title": "From the API"},
                              claims=ALICE_CLAIMS)

    with mock.patch.object(services, "commit", gate):
        thread = threading.Thread(target=partial_put)
        thread.start()
        assert gate.reached.wait(10)  # the PUT has merged onto the version it read
        catalog.image_edit(actor=ALICE, image_id=record.id, changes={"author": "Bea"})  # lands first
        gate.go.set()
        thread.join(10)
    status, body, _ = results["put"]
    current = catalog.image_get(image_id=record.id)
    assert current.author == "Bea"  # the other edit is never undone
    assert status == 409 and body["status"] == "ERROR" and current.title == "Pier"


# ------------------------------------------------------------------ retries


def test_the_same_idempotency_key_makes_one_image_and_the_same_answer(aws):
    body = {"title": "Once", "author": "Ana", "image_content": b64(make_image())}
    headers = {"Idempotency-Key": "key-123"}
    first = call(api.create_image, "POST", "/images", body, claims=ALICE_CLAIMS, headers=headers)
    second = call(api.create_image, "POST", "/images", body, claims=ALICE_CLAIMS, headers=headers)
    assert first[0] == second[0] == 201 and first[1] == second[1]
    assert [i.id for i in catalog.image_list().items] == [first[1]["id"]]
    other = call(api.create_image, "POST", "/images", {**body, "title": "Twice"}, claims=ALICE_CLAIMS,
                 headers=headers)
    assert other[0] == 422 and other[1]["status"] == "fail" and "Idempotency-Key" in other[1]["msg"]
    # Keys are per user: Bob's request with the same key is his own.
    bob = call(api.create_image, "POST", "/images", body, claims=claims_for(sub="sub-bob", username="bob"),
               headers=headers)
    assert bob[0] == 201 and bob[1]["id"] != first[1]["id"]
    assert len(catalog.image_list().items) == 2
    bad = call(api.create_image, "POST", "/images", body, claims=ALICE_CLAIMS, headers={"Idempotency-Key": "a b"})
    assert bad[0] == 400


def test_a_failed_create_can_be_retried_with_the_same_key(aws):
    body = {"title": "Retry", "author": "Ana", "image_content": b64(b"not an image")}
    headers = {"Idempotency-Key": "key-retry"}
    assert call(api.create_image, "POST", "/images", body, claims=ALICE_CLAIMS, headers=headers)[0] == 400
    body["image_content"] = b64(make_image())
    status, answer, _ = call(api.create_image, "POST", "/images", body, claims=ALICE_CLAIMS, headers=headers)
    assert status == 201 and catalog.image_get(image_id=answer["id"]).title == "Retry"


def _lose_the_first_reply(operation: str):
    """Let the first `operation` request reach the (emulated) server, then drop its reply, as a
    timeout after the server side has written does; botocore retries it."""
    from moto.core.botocore_stubber import BotocoreStubber

    real = BotocoreStubber.__call__
    state = {"dropped": 0}

    def call_then_drop(self, event_name, request, **kwargs):
        answer = real(self, event_name, request, **kwargs)
        if event_name.endswith(f".{operation}") and not state["dropped"]:
            state["dropped"] += 1
            raise ReadTimeoutError(endpoint_url=request.url)
        return answer

    return mock.patch.object(BotocoreStubber, "__call__", call_then_drop), state


def test_a_create_whose_commit_reply_was_lost_is_one_image(aws):
    patch, state = _lose_the_first_reply("TransactWriteItems")
    with patch:
        record = create("Lost reply")
    assert state["dropped"] == 1
    assert [i.id for i in catalog.image_list().items] == [record.id] and agrees(catalog.image_get(image_id=record.id))
    assert [h.version for h in ImageHistory.query(record.id)] == [1]


def test_an_edit_whose_commit_reply_was_lost_is_one_version(aws):
    record = create()
    patch, state = _lose_the_first_reply("TransactWriteItems")
    with patch:
        edited = catalog.image_edit(actor=ALICE, image_id=record.id, changes={"title": "Once more"})
    assert state["dropped"] == 1 and edited.version == 2
    assert catalog.image_get(image_id=record.id).version == 2


def test_idempotency_key_rules(aws):
    assert idempotency.check_key("abc-DEF_1.2:3") == "abc-DEF_1.2:3"
    for bad in ("", "a b", "é", "x" * 256, None):
        with pytest.raises(InvalidInput):
            idempotency.check_key(bad)
