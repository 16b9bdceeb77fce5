"""The catalog core: one write path, conditional updates, search from keys and indexes."""

from __future__ import annotations

import hashlib
import io
import urllib.parse
import uuid
from unittest import mock

import boto3
import pytest
from PIL import Image

from common.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from images import catalog, objects
from images.catalog import services, transactions
from images.catalog import facets as facets_module
from images.records import ImageRecord, ImageTerm
from tests.helpers import make_image

ALICE = catalog.Actor(sub="sub-alice", username="alice")
BOB = catalog.Actor(sub="sub-bob", username="bob")
STAFF = catalog.Actor(sub="sub-sam", username="sam", is_staff=True)


def meta(**overrides):
    values = dict(title="Sunset over the bay", description="Evening", keywords="sea,Sky, sea",
                  author="Ana Díaz", capture_date="2024-05-17")
    values.update(overrides)
    return catalog.validate_meta(**values)


def create(owner=ALICE, data=None, filename="a.b.png", **overrides):
    return catalog.image_create(owner=owner, meta=meta(**overrides), data=data or make_image(), original_filename=filename)


def ids(page):
    return [r.id for r in page.items]


def test_create_stores_record_and_exact_bytes_with_type_from_content(aws):
    data = make_image("JPEG")
    record = create(data=data, filename="evil.html")
    assert len(record.id) == 32 and record.version == 1
    assert record.content_type == "image/jpeg" and record.filename == f"{record.id}.jpg"
    assert record.creator == "alice" and record.owner_sub == "sub-alice"
    assert record.keywords == ["sea", "Sky"]
    s3 = boto3.client("s3")
    stored = s3.get_object(Bucket=aws.images_bucket, Key=record.object_key)
    assert stored["ContentType"] == "image/jpeg"
    assert stored["Body"].read() == data
    thumb = s3.get_object(Bucket=aws.images_bucket, Key=record.thumbnail_key)
    assert thumb["ContentType"] == "image/jpeg"
    assert catalog.image_get(image_id=record.id).title == "Sunset over the bay"


def test_an_id_collision_overwrites_no_record(aws):
    """Ids are uuid4s made by the server; were one ever drawn twice, the second write is refused
    (attribute_not_exists) rather than replacing the first image's record."""
    same = uuid.UUID("12345678123456781234567812345678")
    with mock.patch("uuid.uuid4", return_value=same):
        first = create(title="First")
        with pytest.raises(Exception) as refused:
            create(title="Second")
    assert not isinstance(refused.value, AssertionError)
    assert first.id == same.hex
    assert [(r.id, r.title) for r in ImageRecord.scan()] == [(same.hex, "First")]


def test_not_an_image_changes_nothing(aws):
    with pytest.raises(InvalidInput):
        catalog.image_create(owner=ALICE, meta=meta(), data=b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    assert list(ImageRecord.scan()) == [] and list(ImageTerm.scan()) == []
    assert list(objects.list_objects("")) == []


def test_failed_record_write_leaves_no_orphan_objects(aws):
    with mock.patch("images.catalog.transactions.TransactWrite.__exit__", side_effect=RuntimeError("DynamoDB down")):
        with pytest.raises(RuntimeError):
            create()
    assert list(objects.list_objects("")) == []
    assert list(ImageRecord.scan()) == []


@pytest.mark.parametrize(
    "field, value",
    [("title", ""), ("title", "x" * 201), ("author", "  "), ("capture_date", "17/05/2024"),
     ("capture_date", "2024-02-30"), ("keywords", ",".join(f"k{i}" for i in range(21)))],
)
def test_bad_metadata_names_the_field(aws, field, value):
    with pytest.raises(catalog.InvalidField) as caught:
        meta(**{field: value})
    assert caught.value.field == field and caught.value.status == 400


@pytest.mark.parametrize("value", ["2024-W20-1", "２０２４-05-17", "2024-05-17\n2", "20240517"])
def test_a_capture_date_is_yyyy_mm_dd_in_ascii_digits_as_the_api_says(value):
    """The portal and the catalog take the one date form the API takes (base.is_full_date):
    date.fromisoformat alone would take an ISO week date."""
    with pytest.raises(catalog.InvalidField, match="YYYY-MM-DD"):
        meta(capture_date=value)
    assert meta(capture_date=" 2024-05-17 ").capture_date == "2024-05-17"  # a form's spaces are trimmed


def test_list_is_newest_first_and_paginates_with_cursor(aws):
    made = [create(title=f"Photo {i}").id for i in range(5)]
    first = catalog.image_list(limit=2)
    assert ids(first) == made[::-1][:2] and first.next_cursor
    second = catalog.image_list(limit=2, cursor=first.next_cursor)
    third = catalog.image_list(limit=2, cursor=second.next_cursor)
    assert ids(second) + ids(third) == made[::-1][2:]
    assert third.next_cursor is None


@pytest.mark.parametrize("cursor", ["garbage!", "e30", "eyJzb3J0IjoxfQ", urllib.parse.quote("{}")])
def test_tampered_cursor_is_invalid_input(aws, cursor):
    create()
    with pytest.raises(InvalidInput):
        catalog.image_list(cursor=cursor)


def test_cursor_of_one_search_is_refused_by_another(aws):
    for _ in range(3):
        create(keywords="sea")
    page = catalog.image_search(key="keywords", value="sea", limit=1)
    with pytest.raises(InvalidInput):
        catalog.image_search(key="author", value="Ana Díaz", cursor=page.next_cursor)


def test_every_seed_search_key_finds_the_image(aws):
    record = create()
    other = create(title="Mountain", author="Someone Else", keywords="rock", capture_date="2019-01-02", owner=BOB)
    cases = {
        ("id", record.id): [record.id],
        ("title", "sunset"): [record.id],
        ("title", "BAY sunset"): [record.id],
        ("title", "sunset mountain"): [],
        ("title", "suns"): [],
        ("creator", "ALICE"): [record.id],
        ("author", "ana  díaz"): [record.id],
        ("author", "ana"): [],
        ("keywords", "SKY"): [record.id],
        ("keywords", "rock"): [other.id],
        ("creationdate", "2024"): [record.id],
        ("creationdate", "2024-05"): [record.id],
        ("creationdate", "2024-05-17"): [record.id],
        ("creationdate", "2024-05-18"): [],
        ("capture_date", "2019-01"): [other.id],
        ("storage_date", record.storage_date[:4]): [other.id, record.id],
    }
    for (key, value), expected in cases.items():
        assert ids(catalog.image_search(key=key, value=value)) == expected, (key, value)


def test_search_reads_only_the_matches(aws):
    for i in range(30):
        create(title=f"Common {i}", keywords="common")
    wanted = create(title="Rare", keywords="rare")
    calls = []
    real = ImageRecord.batch_get

    def counting(keys, *args, **kwargs):
        keys = list(keys)
        calls.append(len(keys))
        return real(keys, *args, **kwargs)

    with mock.patch.object(ImageRecord, "batch_get", side_effect=counting), \
            mock.patch.object(ImageRecord, "scan", side_effect=AssertionError("no scans")):
        assert ids(catalog.image_search(key="keywords", value="rare")) == [wanted.id]
    assert sum(calls) == 1


def test_search_paginates(aws):
    made = [create(keywords="paged").id for _ in range(5)]
    seen, cursor = [], None
    while True:
        page = catalog.image_search(key="keywords", value="paged", limit=2, cursor=cursor)
        seen += ids(page)
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen == made[::-1]


@pytest.mark.parametrize("key, value", [("colour", "red"), ("creationdate", "May 2024"), ("title", "  ")])
def test_bad_search_is_invalid_input(aws, key, value):
    with pytest.raises(InvalidInput):
        catalog.image_search(key=key, value=value)


def test_update_changes_metadata_and_search_terms(aws):
    record = create()
    updated = catalog.image_update(actor=ALICE, image_id=record.id, meta=meta(title="Dawn", keywords="light"),
                                   expected_version=1)
    assert updated.version == 2 and updated.title == "Dawn"
    assert ids(catalog.image_search(key="title", value="dawn")) == [record.id]
    assert ids(catalog.image_search(key="title", value="sunset")) == []
    assert ids(catalog.image_search(key="keywords", value="sea")) == []
    assert ids(catalog.image_search(key="keywords", value="light")) == [record.id]


def test_replacing_the_file_keeps_the_id_and_gives_the_new_file_its_own_key(aws):
    record = create(data=make_image("PNG"))
    new = make_image("JPEG", size=(30, 20), color=(0, 0, 255))
    updated = catalog.image_update(actor=ALICE, image_id=record.id, meta=meta(), data=new)
    assert updated.id == record.id and updated.version == record.version + 1
    assert updated.object_key != record.object_key and updated.object_key.startswith(f"images/{record.id}/")
    assert updated.content_type == "image/jpeg" and (updated.width, updated.height) == (30, 20)
    assert objects.get_object(updated.object_key) == new
    assert not objects.exists(record.object_key) and not objects.exists(record.thumbnail_key)
    assert catalog.image_get(image_id=record.id).object_key == updated.object_key


def test_concurrent_edits_one_wins_the_other_conflicts(aws):
    record = create()
    catalog.image_update(actor=ALICE, image_id=record.id, meta=meta(title="First"), expected_version=1)
    with pytest.raises(catalog.ImageConflict) as caught:
        catalog.image_update(actor=STAFF, image_id=record.id, meta=meta(title="Second"), expected_version=1)
    assert caught.value.status == 409 and caught.value.current.title == "First"
    assert catalog.image_get(image_id=record.id).title == "First"


def test_race_between_read_and_write_is_a_conflict(aws):
    record = create()
    stale = catalog.image_get(image_id=record.id)
    catalog.image_update(actor=ALICE, image_id=record.id, meta=meta(title="Theirs"))  # saved in between
    real_load = services.load
    reads = iter([stale])
    with mock.patch.object(services, "load", side_effect=lambda image_id: next(reads, None) or real_load(image_id)):
        with pytest.raises(Conflict):
            catalog.image_update(actor=ALICE, image_id=record.id, meta=meta(title="Mine"), data=make_image("GIF"))
    current = catalog.image_get(image_id=record.id)
    assert current.title == "Theirs"
    # The refused replacement's objects are gone; only the current version's remain.
    assert {k for k, _ in objects.list_objects(f"images/{record.id}/")} == {current.object_key}
    assert {k for k, _ in objects.list_objects(f"thumbnails/{record.id}/")} == {current.thumbnail_key}


def test_only_owner_or_staff_may_change(aws):
    record = create()
    with pytest.raises(PermissionDenied):
        catalog.image_update(actor=BOB, image_id=record.id, meta=meta(title="Mine now"))
    with pytest.raises(PermissionDenied):
        catalog.image_delete(actor=BOB, image_id=record.id)
    catalog.image_update(actor=STAFF, image_id=record.id, meta=meta(title="Staff edit"))
    catalog.image_delete(actor=STAFF, image_id=record.id)


def test_delete_unlists_the_image_removes_its_terms_and_public_objects(aws):
    record = create()
    keep = create(owner=BOB)
    catalog.image_delete(actor=ALICE, image_id=record.id)
    with pytest.raises(NotFound):
        catalog.image_get(image_id=record.id)
    assert ids(catalog.image_list()) == [keep.id]
    assert ids(catalog.image_search(key="creator", value="alice")) == []
    postings = [t for t in ImageTerm.scan() if not t.term.startswith((catalog.FACET_PREFIX, "trash:", "sha256:", "pixels:"))]
    assert postings and all(t.image_id == keep.id for t in postings)
    assert not objects.exists(record.object_key) and not objects.exists(record.thumbnail_key)  # in the trash
    with pytest.raises(NotFound):
        catalog.image_delete(actor=ALICE, image_id=record.id)


def test_image_to_dict_has_the_seed_fields(aws):
    record = create()
    body = catalog.image_to_dict(record)
    assert set(body) >= {"id", "title", "description", "keywords", "author", "creator", "capture_date",
                         "storage_date", "filename", "object_url"}
    assert body["keywords"] == "sea,Sky"
    assert body["object_url"] == f"{aws.images_base_url}/{record.object_key}"
    assert record.object_key.startswith(f"images/{record.id}/") and record.object_key.endswith(".png")
    assert body["sha256"] == record.sha256 and body["filename"] == f"{record.id}.png"


def test_the_original_file_name_is_kept_cleaned(aws):
    assert catalog.image_to_dict(create(filename="C:\\photos\\my.holiday\u202e.photo.png"))[
        "original_filename"] == "my.holiday.photo.png"
    unnamed = create(filename="../")
    assert catalog.image_to_dict(unnamed)["original_filename"] == unnamed.filename  # the safe fallback


def test_a_file_already_in_s3_is_verified_then_registered(aws):
    upload = catalog.upload_start(ALICE)
    assert upload.key.startswith(f"uploads/{catalog.upload_owner_tag(ALICE.sub)}/")
    assert upload.fields["key"] == upload.key and upload.expires_in == 900
    assert upload.max_bytes == aws.image_max_bytes
    data = make_image("WEBP")
    boto3.client("s3").put_object(Bucket=aws.images_bucket, Key=upload.key, Body=data)
    record = catalog.image_create_from_upload(owner=ALICE, meta=meta(), upload_key=upload.key)
    assert record.content_type == "image/webp" and objects.get_object(record.object_key) == data
    assert not objects.exists(upload.key)


def test_an_upload_is_stored_without_its_location_from_the_file_it_was_spooled_to(aws, monkeypatch):
    image = Image.new("RGB", (64, 48), (10, 20, 30))
    exif = Image.Exif()
    exif.get_ifd(0x8825).update({1: "N", 2: (48.0, 51.0, 29.0)})
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    data = buffer.getvalue()
    monkeypatch.setattr(objects, "SPOOL_CHUNK", 100)  # streamed in many pieces
    key = catalog.upload_start(ALICE).key
    boto3.client("s3").put_object(Bucket=aws.images_bucket, Key=key, Body=data)
    record = catalog.image_create_from_upload(owner=ALICE, meta=meta(), upload_key=key)
    stored = objects.get_object(record.object_key)
    assert b"GPS" not in stored and stored[data.index(b"\xff\xda") - len(data):] == data[data.index(b"\xff\xda"):]
    assert record.sha256 == hashlib.sha256(stored).hexdigest() and record.byte_size == len(stored)


def test_a_bad_upload_is_refused_and_removed(aws):
    key = catalog.upload_start(ALICE).key
    boto3.client("s3").put_object(Bucket=aws.images_bucket, Key=key, Body=b"<html></html>")
    with pytest.raises(InvalidInput):
        catalog.image_create_from_upload(owner=ALICE, meta=meta(), upload_key=key)
    assert list(objects.list_objects("")) == [] and list(ImageRecord.scan()) == []
    for bad in ("images/" + "0" * 32, "uploads/" + "0" * 32, f"uploads/{'0' * 16}/../{'0' * 29}", None, 7):
        with pytest.raises(InvalidInput):
            catalog.image_create_from_upload(owner=ALICE, meta=meta(), upload_key=bad)


def test_an_unknown_or_expired_upload_is_invalid_input(aws):
    key = catalog.upload_start(ALICE).key  # asked for, never uploaded (or already expired)
    with pytest.raises(InvalidInput, match="not found"):
        catalog.image_create_from_upload(owner=ALICE, meta=meta(), upload_key=key)


def test_a_refused_upload_read_is_logged_as_an_error_with_its_cause(aws, caplog):
    # In AWS a role without s3:GetObject on uploads/ gets 403 for every upload: the client is
    # told "not found", the log says what S3 said, so an operator can tell a policy fault.
    from botocore.exceptions import ClientError

    key = catalog.upload_start(ALICE).key
    denied = ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "GetObject")
    with mock.patch.object(objects, "spool_object", side_effect=denied), pytest.raises(InvalidInput, match="not found"):
        catalog.image_create_from_upload(owner=ALICE, meta=meta(), upload_key=key)
    errors = [r for r in caplog.records if r.levelname == "ERROR" and key in r.getMessage()]
    assert errors and "AccessDenied: Access Denied" in errors[0].getMessage()
    assert "s3:GetObject" in errors[0].getMessage()


def test_only_the_uploader_can_register_or_use_an_upload(aws):
    key = catalog.upload_start(ALICE).key
    boto3.client("s3").put_object(Bucket=aws.images_bucket, Key=key, Body=make_image())
    with pytest.raises(PermissionDenied):
        catalog.image_create_from_upload(owner=BOB, meta=meta(), upload_key=key)
    bobs = create(owner=BOB)
    with pytest.raises(PermissionDenied):
        catalog.image_edit_from_upload(actor=BOB, image_id=bobs.id, changes={}, upload_key=key)
    assert objects.exists(key)  # refused without consuming Alice's upload
    assert catalog.image_create_from_upload(owner=ALICE, meta=meta(), upload_key=key).owner_sub == ALICE.sub


def test_an_upload_replaces_the_file(aws):
    record = create()
    key = catalog.upload_start(ALICE).key
    data = make_image("JPEG", size=(40, 30))
    boto3.client("s3").put_object(Bucket=aws.images_bucket, Key=key, Body=data)
    updated = catalog.image_edit_from_upload(actor=ALICE, image_id=record.id, changes={}, upload_key=key,
                                             expected_version=record.version)
    assert updated.content_type == "image/jpeg" and objects.get_object(updated.object_key) == data
    assert updated.version == record.version + 1
    assert not objects.exists(key)


# ------------------------------------------------------------ facets


def facets(field):
    return catalog.facet_values(field=field)


def counters():
    """Every facet item in the table, zero counts included: (term, sort_key) -> count."""
    return {(t.term, t.sort_key): int(t.facet_count) for t in ImageTerm.scan() if t.term.startswith("facet:")}


def test_facets_count_images_through_create(aws):
    create()  # Ana Díaz, keywords sea + Sky, captured 2024-05-17, creator alice
    create(author="ana  DÍAZ", keywords="sea", capture_date="2024-01-02")
    create(owner=BOB, author="Bea", keywords="", capture_date=None)
    assert facets("author") == [("ana diaz", "Ana Díaz", 2), ("bea", "Bea", 1)]
    assert facets("creator") == [("alice", "alice", 2), ("bob", "bob", 1)]
    assert facets("keyword") == [("sea", "sea", 2), ("sky", "Sky", 1)]
    assert facets("captured") == [("2024", "2024", 2), ("2024-05", "2024-05", 1), ("2024-01", "2024-01", 1)]


def test_facet_counts_follow_an_author_change_and_keyword_removal(aws):
    first = create()
    create()
    catalog.image_update(actor=ALICE, image_id=first.id, expected_version=1,
                         meta=meta(author="Carl", keywords="Sky, night", capture_date="2023-12-31"))
    assert facets("author") == [("ana diaz", "Ana Díaz", 1), ("carl", "Carl", 1)]
    assert facets("keyword") == [("night", "night", 1), ("sea", "sea", 1), ("sky", "Sky", 2)]
    assert facets("captured") == [("2024", "2024", 1), ("2024-05", "2024-05", 1),
                                  ("2023", "2023", 1), ("2023-12", "2023-12", 1)]
    # Same values in another case or spacing: no count moves.
    catalog.image_update(actor=ALICE, image_id=first.id, meta=meta(author=" CARL ", keywords="SKY,Night",
                                                                   capture_date="2023-12-30"))
    assert facets("author") == [("ana diaz", "Ana Díaz", 1), ("carl", "Carl", 1)]
    assert facets("keyword") == [("night", "night", 1), ("sea", "sea", 1), ("sky", "Sky", 2)]


def test_a_refused_update_moves_no_count(aws):
    record = create()
    catalog.image_update(actor=ALICE, image_id=record.id, meta=meta(title="First"), expected_version=1)
    with pytest.raises(catalog.ImageConflict):
        catalog.image_update(actor=ALICE, image_id=record.id, meta=meta(author="Late"), expected_version=1)
    assert facets("author") == [("ana diaz", "Ana Díaz", 1)]


def test_delete_takes_counts_down_and_removes_emptied_counters(aws):
    record = create()
    keep = create(owner=BOB, keywords="sea")
    catalog.image_delete(actor=ALICE, image_id=record.id)
    assert facets("keyword") == [("sea", "sea", 1)]
    assert facets("creator") == [("bob", "bob", 1)]
    assert ("facet:keyword", "sky") not in counters() and ("facet:creator", "alice") not in counters()
    catalog.image_delete(actor=BOB, image_id=keep.id)
    assert counters() == {}


def test_counts_are_changed_after_the_transaction_not_in_it(aws):
    create()  # a counter exists: a write inside the transaction would now conflict with another
    seen = []
    real_exit = transactions.TransactWrite.__exit__

    def exit_and_look(self, *exc):
        result = real_exit(self, *exc)
        seen.append(counters()[("facet:author", "ana diaz")])
        return result

    with mock.patch.object(transactions.TransactWrite, "__exit__", exit_and_look):
        create()
    assert seen == [1]  # committed, counter not yet touched
    assert counters()[("facet:author", "ana diaz")] == 2


def test_a_failed_count_update_keeps_the_image_and_is_logged(aws):
    with mock.patch.object(ImageTerm, "update", side_effect=RuntimeError("throttled")), \
            mock.patch.object(facets_module.log, "warning") as warning:
        record = create()
    assert catalog.image_get(image_id=record.id)
    assert facets("author") == [] and warning.call_count == len(catalog.facets_of(record))
    assert "sweep_images" in warning.call_args.args[0]


def test_a_counter_at_zero_or_below_is_not_offered(aws):
    create()
    ImageTerm("facet:author", "ghost", label="Ghost", facet_count=0).save()
    ImageTerm("facet:author", "minus", label="Minus", facet_count=-2).save()
    assert facets("author") == [("ana diaz", "Ana Díaz", 1)]


def test_facet_values_read_one_query_and_at_most_limit(aws):
    for name in ("Émile", "zoe", "Bea", "anna"):
        create(author=name)
    queries = []
    real = ImageTerm.query

    def counting(*args, **kwargs):
        queries.append(args[0])
        return real(*args, **kwargs)

    with mock.patch.object(ImageTerm, "query", side_effect=counting), \
            mock.patch.object(ImageTerm, "scan", side_effect=AssertionError("no scans")):
        values = catalog.facet_values(field="author")
        first_two = catalog.facet_values(field="author", limit=2)
    assert [label for _, label, _ in values] == ["anna", "Bea", "Émile", "zoe"]  # A-Z, accents aside
    assert len(first_two) == 2 and queries == ["facet:author", "facet:author"]
    with pytest.raises(InvalidInput):
        catalog.facet_values(field="title")


def test_a_facet_value_finds_exactly_its_images_by_search(aws):
    a = create(author="Ana  Díaz", keywords="Sea Shore")
    create(author="Ana", keywords="sea")
    (value, label, count) = [v for v in facets("author") if v[1].startswith("Ana ")][0]
    assert ids(catalog.image_search(key="author", value=value)) == [a.id] and count == 1
    (kw,) = [v for v in facets("keyword") if v[0] == "sea shore"]
    assert ids(catalog.image_search(key="keywords", value=kw[0])) == [a.id]


# ------------------------------------------------------------ order


def test_list_oldest_first_paginates_and_keeps_its_order(aws):
    made = [create(title=f"Photo {i}").id for i in range(5)]
    first = catalog.image_list(limit=2, order="oldest")
    second = catalog.image_list(limit=2, cursor=first.next_cursor, order="oldest")
    third = catalog.image_list(limit=2, cursor=second.next_cursor, order="oldest")
    assert ids(first) + ids(second) + ids(third) == made and third.next_cursor is None


def test_search_oldest_first_paginates(aws):
    made = [create(keywords="paged").id for _ in range(5)]
    seen, cursor = [], None
    while True:
        page = catalog.image_search(key="keywords", value="paged", limit=2, cursor=cursor, order="oldest")
        seen += ids(page)
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen == made


def test_a_cursor_of_one_order_is_refused_for_the_other(aws):
    for _ in range(3):
        create()
    newest = catalog.image_list(limit=1)
    oldest = catalog.image_list(limit=1, order="oldest")
    with pytest.raises(InvalidInput):
        catalog.image_list(cursor=newest.next_cursor, order="oldest")
    with pytest.raises(InvalidInput):
        catalog.image_list(cursor=oldest.next_cursor)
    found = catalog.image_search(key="keywords", value="sea", limit=1, order="oldest")
    with pytest.raises(InvalidInput):
        catalog.image_search(key="keywords", value="sea", cursor=found.next_cursor)
    with pytest.raises(InvalidInput) as caught:
        catalog.image_list(order="sideways")
    assert caught.value.field == "order"


def test_multi_word_title_search_paginates_past_images_that_match_one_word(aws):
    made = [create(title=f"{'Red' if i % 2 == 0 else 'Blue'} sunset {i}") for i in range(7)]
    red = [r.id for r in made if r.title.startswith("Red")][::-1]
    seen, cursor = [], None
    for _ in range(5):
        page = catalog.image_search(key="title", value="sunset RED", limit=2, cursor=cursor)
        assert len(page.items) <= 2
        seen += ids(page)
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen == red
