"""The portal's image pages through Django's test client, on in-process AWS (moto)."""

from __future__ import annotations

import re

import csv
import io
import zipfile

import pytest
from django.urls import reverse

from accounts.models import User
from images import catalog, objects
from images.identity import actor_for
from tests.helpers import make_image

pytestmark = pytest.mark.django_db

ALICE = catalog.Actor(sub="sub-alice", username="alice")
BOB = catalog.Actor(sub="sub-bob", username="bob")


def user(actor: catalog.Actor) -> User:
    found, _ = User.objects.get_or_create(id=actor.sub, defaults={"username": actor.username,
                                                                  "is_staff": actor.is_staff})
    return found


@pytest.fixture
def alice(client, aws):
    client.force_login(user(ALICE))
    return client


def create(owner=ALICE, **overrides):
    values = dict(title="Sunset over the bay", description="Evening", keywords="sea,sky",
                  author="Ana Díaz", capture_date="2024-05-17")
    values.update(overrides)
    return catalog.image_create(owner=owner, meta=catalog.validate_meta(**values), data=make_image("PNG"),
                                original_filename="sunset.png")


def upload(name="photo.png", data=None, content_type="image/png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data if data is not None else make_image("PNG"), content_type=content_type)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# ------------------------------------------------------------ identity and sign-in


def test_actor_for_uses_the_cognito_sub_username_and_staff_flag(db):
    person = User(id="sub-x", username="xavier", is_staff=True)
    assert actor_for(person) == catalog.Actor(sub="sub-x", username="xavier", is_staff=True, face="portal")


def test_pages_need_sign_in(client, aws):
    for url in [reverse("images:list"), reverse("images:add")]:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# ------------------------------------------------------------ list


def test_list_shows_thumbnails_fields_and_full_size_links_newest_first(alice):
    older = create(title="Old harbour", author="Bea", keywords="port")
    newer = create(owner=BOB, title="New bridge", author="Carl", capture_date="2023-02-03")
    response = alice.get(reverse("images:list"))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("New bridge") < html.index("Old harbour")
    assert f'src="{objects.public_url(newer.thumbnail_key)}" alt="New bridge"' in html
    assert f'href="{objects.public_url(older.object_key)}"' in html
    for text in ("Bea", "bob", "alice", "port", "2023-02-03", older.storage_date):
        assert text in html
    # Only the owner's image gets change and delete controls.
    assert reverse("images:delete", args=[older.id]) in html
    assert reverse("images:delete", args=[newer.id]) not in html


def test_search_matches_the_api_search(alice):
    a = create(title="Red kite over hills", keywords="birds")
    create(title="Blue lake", keywords="water", author="Dora")
    for params, expected in [({"q": "kite red"}, "Red kite"), ({"q": "BIRDS", "key": "keywords"}, "Red kite"),
                             ({"author": "dora"}, "Blue lake"), ({"keyword": "water"}, "Blue lake"),
                             ({"q": a.id, "key": "id"}, "Red kite"), ({"date": "2024-05"}, "Red kite")]:
        html = alice.get(reverse("images:list"), params).content.decode()
        assert expected in html, params
        other = "Blue lake" if expected == "Red kite" else "Red kite"
        if "date" not in params:
            assert f'alt="{other}"' not in html, params


def test_search_forgives_accents_as_the_api_does(alice):
    create(title="Café terrace", author="Zoë")
    create(title="Terrace", author="Bea")
    for params in ({"q": "cafe"}, {"q": "zoe"}, {"author": "ZOE"}):
        html = alice.get(reverse("images:list"), params).content.decode()
        assert 'alt="Café terrace"' in html and 'alt="Terrace"' not in html, params


def test_empty_states_speak_to_people(alice):
    assert "There are no images yet" in alice.get(reverse("images:list")).content.decode()
    html = alice.get(reverse("images:list"), {"q": "nothing"}).content.decode()
    assert "No images match" in html


def test_cursor_pagination_with_first_page_link(alice):
    made = [create(title=f"Picture {n}") for n in range(3)]
    first = alice.get(reverse("images:list"), {"limit": 2})
    assert [r["id"] for r in first.context["rows"]] == [made[2].id, made[1].id]
    next_url = first.context["next_url"]
    assert next_url and "cursor=" in next_url
    second = alice.get(reverse("images:list") + next_url)
    assert [r["id"] for r in second.context["rows"]] == [made[0].id]
    assert second.context["first_url"] and not second.context["next_url"]
    assert "First page" in second.content.decode()


def test_a_tampered_cursor_sends_you_to_the_first_page(alice):
    response = alice.get(reverse("images:list"), {"cursor": "garbage"}, follow=True)
    assert response.status_code == 200
    assert any("first page" in m for m in messages_of(response))


def test_date_drilldown_goes_years_months_days(alice):
    create(title="A", capture_date="2021-03-04")
    create(title="B", capture_date="2021-07-09")
    years = alice.get(reverse("images:list")).context["drilldown"]
    assert [c["title"] for c in years["choices"]] == ["2021"]
    months = alice.get(reverse("images:list"), {"date": "2021"}).context["drilldown"]
    assert [c["title"] for c in months["choices"]] == ["March 2021", "July 2021"]
    days = alice.get(reverse("images:list"), {"date": "2021-07"}).context["drilldown"]
    assert [c["title"] for c in days["choices"]] == ["July 9, 2021"]


def sidebar(response) -> dict[str, list[str]]:
    """The sidebar's choices as shown, per filter title, without the "All" link."""
    return {f["title"]: [c["display"] + ("" if c["count"] is None else f" ({c['count']})") for c in f["choices"]]
            for f in response.context["facets"]}


def test_sidebar_offers_the_whole_catalog_with_counts(alice):
    create(title="Old", author="Bea", keywords="port", capture_date="2019-08-07")
    create(owner=BOB, title="Middle", author="ana díaz", keywords="sea", capture_date="2024-01-02")
    create(title="New", keywords="Sea, sky")
    response = alice.get(reverse("images:list"), {"limit": 1})
    assert [r["title"] for r in response.context["rows"]] == ["New"]
    assert sidebar(response) == {
        "author": ["ana díaz (2)", "Bea (1)"],
        "creator": ["alice (2)", "bob (1)"],
        "keyword": ["port (1)", "sea (2)", "sky (1)"],
        "capture year / month": ["2024 (2)", "2019 (1)"],
    }
    html = response.content.decode()
    assert "Bea (1)</a>" in html and "port (1)</a>" in html  # from images on no page shown
    assert "Choices come from" not in html


def test_active_filter_is_marked_and_its_year_opens_into_months(alice):
    create(title="Old", author="Bea", capture_date="2019-08-07")
    create(title="New", author="Ana Díaz", capture_date="2024-05-17")
    create(title="Newer", author="Ana Díaz", capture_date="2024-01-17")
    response = alice.get(reverse("images:list"), {"author": "ANA  DÍAZ"})
    author = next(f for f in response.context["facets"] if f["param"] == "author")
    assert [(c["display"], c["selected"]) for c in author["choices"]] == [("Ana Díaz", True), ("Bea", False)]
    assert response.context["criterion_label"] == "author “Ana Díaz”"
    html = response.content.decode()
    assert '<li class="selected"><a href="?author=ana+diaz" aria-current="true">Ana Díaz (2)</a>' in html
    dated = alice.get(reverse("images:list"), {"date": "2024-05"})
    assert sidebar(dated)["capture year / month"] == ["2024 (2)", "\u2003May 2024 (1)", "\u2003January 2024 (1)",
                                                       "2019 (1)"]
    (chosen,) = [c for f in dated.context["facets"] for c in f["choices"] if c["selected"]]
    assert chosen["value"] == "2024-05"


def test_a_filter_with_no_counted_value_stays_visible(alice):
    create(author="Bea")
    response = alice.get(reverse("images:list"), {"keyword": "nowhere"})
    keyword = next(f for f in response.context["facets"] if f["param"] == "keyword")
    assert keyword["choices"][0] == {"value": "nowhere", "display": "nowhere", "count": None,
                                     "link": "?keyword=nowhere", "selected": True}
    assert [(c["value"], c["selected"]) for c in keyword["choices"][1:]] == [("sea", False), ("sky", False)]


def test_a_long_facet_says_it_shows_only_the_first_values(alice, monkeypatch):
    from images.views import changelist

    monkeypatch.setattr(changelist, "FACET_LIMIT", 2)
    for name in ("Cleo", "Abe", "Bea"):
        create(author=name)
    response = alice.get(reverse("images:list"))
    author = next(f for f in response.context["facets"] if f["param"] == "author")
    assert [c["display"] for c in author["choices"]] == ["Abe", "Bea"] and author["more"]
    assert "Only the first 2, A to Z" in response.content.decode()
    keyword = next(f for f in response.context["facets"] if f["param"] == "keyword")
    assert not keyword["more"] and "Only the first" not in response.content.decode().split("By keyword")[1]


def test_drilldown_years_and_months_come_from_the_whole_catalog(alice):
    create(title="A", capture_date="2021-03-04")
    create(title="B", capture_date="2021-07-09")
    create(title="C", capture_date="2023-01-01")
    years = alice.get(reverse("images:list"), {"limit": 1}).context["drilldown"]
    assert [c["title"] for c in years["choices"]] == ["2023", "2021"]
    months = alice.get(reverse("images:list"), {"date": "2021", "limit": 1}).context["drilldown"]
    assert [c["title"] for c in months["choices"]] == ["March 2021", "July 2021"]


def test_list_page_reads_one_query_per_facet_and_never_scans(alice):
    from unittest import mock

    from images.records import ImageRecord, ImageTerm

    for n in range(3):
        create(title=f"P{n}", keywords=f"k{n}")
    real = ImageTerm.query
    terms = []

    def counting(term, *args, **kwargs):
        terms.append(term)
        return real(term, *args, **kwargs)

    with mock.patch.object(ImageTerm, "query", side_effect=counting), \
            mock.patch.object(ImageRecord, "scan", side_effect=AssertionError("no scans")), \
            mock.patch.object(ImageTerm, "scan", side_effect=AssertionError("no scans")):
        assert alice.get(reverse("images:list")).status_code == 200
        assert sorted(terms) == ["facet:author", "facet:captured", "facet:creator", "facet:keyword"]
        terms.clear()
        alice.get(reverse("images:list"), {"keyword": "k1"})
        assert sorted(terms) == ["facet:author", "facet:captured", "facet:creator", "facet:keyword", "keyword:k1"]


def test_stored_header_toggles_oldest_first_and_pages_keep_the_order(alice):
    made = [create(title=f"Picture {n}", keywords="pics") for n in range(3)]
    newest = alice.get(reverse("images:list"), {"limit": 2})
    html = newest.content.decode()
    assert 'aria-sort="descending"' in html and 'href="?limit=2&amp;order=oldest"' in html
    oldest = alice.get(reverse("images:list"), {"limit": 2, "order": "oldest"})
    assert [r["id"] for r in oldest.context["rows"]] == [made[0].id, made[1].id]
    html = oldest.content.decode()
    assert 'aria-sort="ascending"' in html and 'href="?limit=2"' in html and "oldest first." in html
    rest = alice.get(reverse("images:list") + oldest.context["next_url"])
    assert [r["id"] for r in rest.context["rows"]] == [made[2].id]
    # Filters and search keep the order; a newest-first cursor is not followed oldest first.
    filtered = alice.get(reverse("images:list"), {"keyword": "pics", "order": "oldest", "limit": 1})
    assert [r["id"] for r in filtered.context["rows"]] == [made[0].id]
    assert "order=oldest" in filtered.context["next_url"]
    assert all("order=oldest" in c["link"] for f in filtered.context["facets"] for c in f["choices"])
    assert '<input type="hidden" name="order" value="oldest">' in filtered.content.decode()
    crossed = newest.context["next_url"].replace("limit=2", "limit=2&order=oldest")
    response = alice.get(reverse("images:list") + crossed, follow=True)
    assert any("first page" in m for m in messages_of(response))
    assert [r["id"] for r in response.context["rows"]] == [made[0].id, made[1].id]


# ------------------------------------------------------------ add


def test_add_one_file_without_javascript(alice):
    response = alice.post(reverse("images:add"), {
        "title": "Harbour", "description": "", "keywords": "boats, sea", "author": "Eve",
        "capture_date": "2020-01-02", "image": upload()})
    assert response.status_code == 302 and response["Location"] == reverse("images:list")
    record = catalog.image_list().items[0]
    assert (record.title, record.keywords, record.author, record.creator, record.owner_sub) == \
        ("Harbour", ["boats", "sea"], "Eve", "alice", "sub-alice")


def test_add_answers_json_when_asked(alice):
    response = alice.post(reverse("images:add"), {"title": "Json one", "author": "Eve", "image": upload()},
                          HTTP_ACCEPT="application/json")
    assert response.status_code == 201
    body = response.json()
    assert body["title"] == "Json one" and f"/thumbnails/{body['id']}/" in body["thumbnail_url"]
    refused = alice.post(reverse("images:add"), {"title": "Bad", "author": "Eve",
                                                 "image": upload("x.png", b"<svg onload=alert(1)>")},
                         HTTP_ACCEPT="application/json")
    assert refused.status_code == 400 and "image" in refused.json()["errors"]


def test_core_errors_land_on_their_fields(alice):
    response = alice.post(reverse("images:add"), {"title": "", "author": "Eve", "capture_date": "17/05/2024",
                                                  "image": upload()})
    assert response.status_code == 200
    assert "title" in response.context["form"].errors or "capture_date" in response.context["form"].errors
    response = alice.post(reverse("images:add"), {"title": "T", "author": "Eve", "image": upload(data=b"GIF89a")})
    assert "image" in response.context["form"].errors
    assert catalog.image_list().items == []


def test_too_large_file_is_refused_on_the_file_field(alice, monkeypatch):
    monkeypatch.setenv("IMAGE_MAX_BYTES", "100")
    from common.config import get_config

    get_config.cache_clear()
    response = alice.post(reverse("images:add"), {"title": "Big", "author": "Eve", "image": upload()},
                          HTTP_ACCEPT="application/json")
    assert response.status_code == 413 and "limit" in response.json()["errors"]["image"][0]


def test_metadata_is_read_from_the_stored_upload_not_sent_to_the_portal(alice):
    from PIL import Image

    exif = Image.Exif()
    exif[0x010E] = "Night market"  # ImageDescription
    exif[0x013B] = "Lee Wong"  # Artist
    exif[0x0132] = "2019:08:07 20:00:00"  # DateTime
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (0, 0, 0)).save(buffer, format="JPEG", exif=exif)
    grant = alice.post(reverse("images:upload_start")).json()
    objects.put_object(grant["upload_key"], buffer.getvalue(), content_type="application/octet-stream")
    body = alice.post(reverse("images:upload_metadata"), {"upload_key": grant["upload_key"]}).json()
    assert body["author"] == "Lee Wong" and body["capture_date"] == "2019-08-07"
    assert "Night market" in (body["title"] + body["description"])
    assert objects.exists(grant["upload_key"])  # only read: still there to be registered

    # Someone else's upload, a made-up key, an empty file: a 400 or nothing found, never a 500.
    theirs = catalog.upload_start(BOB)
    objects.put_object(theirs.key, buffer.getvalue(), content_type="image/jpeg")
    assert alice.post(reverse("images:upload_metadata"), {"upload_key": theirs.key}).status_code == 400
    assert alice.post(reverse("images:upload_metadata"), {"upload_key": "uploads/x"}).status_code == 400
    empty = alice.post(reverse("images:upload_start")).json()
    objects.put_object(empty["upload_key"], b"", content_type="application/octet-stream")
    assert alice.post(reverse("images:upload_metadata"), {"upload_key": empty["upload_key"]}).json()["author"] == ""
    gone = alice.post(reverse("images:upload_start")).json()["upload_key"]
    assert alice.post(reverse("images:upload_metadata"), {"upload_key": gone}).status_code == 400


def stored_upload(client, data: bytes) -> str:
    key = client.post(reverse("images:upload_start")).json()["upload_key"]
    objects.put_object(key, data, content_type="application/octet-stream")
    return key


def test_an_upload_already_in_the_catalog_asks_then_keeps_both_or_uses_the_existing(alice):
    existing = create(title="Harbour at dusk")
    data = objects.get_object(existing.object_key)
    before = len(catalog.image_list().items)

    key = stored_upload(alice, data)
    asked = alice.post(reverse("images:upload_register"), {"upload_key": key, "title": "Again", "author": "Ana"})
    assert asked.status_code == 409, asked.content
    match = asked.json()["duplicate_of"]
    assert match["id"] == existing.id and match["match"] == "same_bytes" and match["title"] == "Harbour at dusk"
    assert match["thumbnail_url"].endswith(".jpg") and match["url"] == reverse("images:change", args=[existing.id])
    assert len(catalog.image_list().items) == before and objects.exists(key)  # nothing stored, upload kept

    kept = alice.post(reverse("images:upload_register"),
                      {"upload_key": key, "title": "Again", "author": "Ana", "on_duplicate": "keep"})
    assert kept.status_code == 201 and len(catalog.image_list().items) == before + 1 and not objects.exists(key)

    other = stored_upload(alice, data)
    assert alice.post(reverse("images:upload_register"), {"upload_key": other, "title": "T", "author": "A"}).status_code == 409
    assert alice.post(reverse("images:upload_discard"), {"upload_key": other}).status_code == 204
    assert not objects.exists(other) and len(catalog.image_list().items) == before + 1
    theirs = catalog.upload_start(BOB)
    objects.put_object(theirs.key, data, content_type="image/png")
    assert alice.post(reverse("images:upload_discard"), {"upload_key": theirs.key}).status_code == 400
    assert objects.exists(theirs.key)  # not hers to drop


def test_a_match_in_the_trash_is_shown_only_to_its_owner_and_staff(alice, client):
    mine = create(title="Old pier")
    data = objects.get_object(mine.object_key)
    catalog.image_delete(actor=ALICE, image_id=mine.id)
    match = alice.post(reverse("images:upload_register"),
                       {"upload_key": stored_upload(alice, data), "title": "T", "author": "A"}).json()["duplicate_of"]
    assert match["in_trash"] and match["thumbnail_url"] == reverse("images:trash_thumbnail", args=[mine.id])
    assert match["picture"] == {"sources": [], "srcset": ""}  # no renditions of what is not public
    assert alice.get(match["thumbnail_url"])["Content-Type"] == "image/jpeg"
    staff = catalog.Actor(sub="sub-sam", username="sam", is_staff=True)
    client.force_login(user(staff))
    match = client.post(reverse("images:upload_register"), {
        "upload_key": stored_upload(client, data), "title": "T", "author": "A"}).json()["duplicate_of"]
    assert match["in_trash"] and match["thumbnail_url"] is not None and match["url"] == reverse("images:trash")
    # Someone else's trash is not reported at all (no id, title, creator): the file is simply added.
    client.force_login(user(BOB))
    added = client.post(reverse("images:upload_register"), {
        "upload_key": stored_upload(client, data), "title": "T", "author": "A"})
    assert added.status_code == 201 and "Old pier" not in added.content.decode() and mine.id not in added.content.decode()


def test_the_duplicate_question_and_the_trash_page_offer_renditions(alice, client):
    from PIL import Image

    from images.catalog.serialise import rendition_urls

    data = make_image("JPEG", size=(800, 500))
    existing = catalog.image_create(owner=ALICE, meta=catalog.validate_meta(
        title="Wide quay", description="", keywords="", author="Ana", capture_date=""), data=data,
        original_filename="quay.jpg")
    public = {(r["width"], r["format"]): r["url"] for r in rendition_urls(existing.object_key, 800)}
    # The question (form and JSON) draws the match with its public renditions, as the list does.
    html = alice.post(reverse("images:add"), {"title": "Again", "author": "Ana",
                                              "image": upload("again.jpg", data, "image/jpeg")}).content.decode()
    assert f'<source type="image/avif" srcset="{public[160, "avif"]} 160w, {public[320, "avif"]} 320w, ' \
           f'{public[640, "avif"]} 640w" sizes="120px">' in html
    assert f'{public[640, "jpg"]} 640w" sizes="120px"' in html
    shown = alice.post(reverse("images:upload_register"), {"upload_key": stored_upload(alice, data), "title": "T",
                                                           "author": "A"}).json()["duplicate_of"]["picture"]
    assert [s["type"] for s in shown["sources"]] == ["image/avif", "image/webp"]
    assert public[640, "webp"] + " 640w" in shown["sources"][1]["srcset"]

    # In the trash nothing is public: the portal draws renditions of the thumbnail (320 px wide)
    # for the owner and staff, under URLs naming the trashed version.
    catalog.image_delete(actor=ALICE, image_id=existing.id)
    trashed = catalog.trash_get(actor=ALICE, image_id=existing.id)
    url = {(w, f): reverse("images:trash_rendition", args=[existing.id, trashed.version, w, f])
           for w in (160, 320) for f in ("avif", "webp", "jpg")}
    html = alice.get(reverse("images:trash")).content.decode()
    assert f'<source type="image/avif" srcset="{url[160, "avif"]} 160w, {url[320, "avif"]} 320w" sizes="96px">' in html
    assert f'srcset="{url[160, "jpg"]} 160w, {url[320, "jpg"]} 320w" sizes="96px"' in html
    for (width, fmt), address in url.items():
        got = alice.get(address)
        assert got.status_code == 200 and got["Cache-Control"] == "private, max-age=86400"
        with Image.open(io.BytesIO(got.content)) as im:
            assert (im.format, im.width, got["Content-Type"]) == (
                {"avif": "AVIF", "webp": "WEBP", "jpg": "JPEG"}[fmt], width, f"image/{'jpeg' if fmt == 'jpg' else fmt}")
    shown = alice.post(reverse("images:upload_register"), {"upload_key": stored_upload(alice, data), "title": "T",
                                                           "author": "A"}).json()["duplicate_of"]["picture"]
    assert shown["sources"][0]["srcset"] == f"{url[160, 'avif']} 160w, {url[320, 'avif']} 320w"
    # Outside the set, another version, another format, or someone else: 404, nothing drawn.
    for args in [(trashed.version, 640, "avif"), (trashed.version, 161, "avif"), (trashed.version, 160, "png"),
                 (trashed.version, 160, "gif"), (trashed.version - 1, 160, "avif")]:
        assert alice.get(reverse("images:trash_rendition", args=[existing.id, *args])).status_code == 404, args
    client.force_login(user(BOB))
    assert client.get(url[160, "avif"]).status_code == 404


def test_a_replacement_file_already_in_the_catalog_asks_first_then_keeps_both_when_ticked(alice):
    existing = create(title="Harbour at dusk")
    record = create(title="Pier")
    url = reverse("images:change", args=[record.id])
    fields = {"title": "Pier, edited", "description": "", "keywords": "", "author": "Ana", "capture_date": ""}
    response = alice.post(url, {**fields, "version": record.version,
                                "image": upload("n.jpg", make_image("JPEG", size=(40, 30)))}, follow=True)
    assert response.context.get("duplicate") is None  # a new picture: no question
    changed = catalog.image_get(image_id=record.id)
    same = objects.get_object(existing.object_key)
    asked = alice.post(url, {**fields, "title": "Pier again", "version": changed.version,
                             "image": upload("p.png", same)})
    after = catalog.image_get(image_id=record.id)
    assert asked.status_code == 200 and (after.version, after.title) == (changed.version, changed.title)  # nothing stored
    html = asked.content.decode()
    assert "the same file as" in asked.context["form"].errors["image"][0] and 'value="Pier again"' in html
    assert objects.public_url(existing.thumbnail_key) in html and 'name="on_duplicate"' in html
    assert reverse("images:change", args=[existing.id]) in html  # use the existing image
    kept = alice.post(url, {**fields, "version": changed.version, "image": upload("p.png", same),
                            "on_duplicate": "keep"}, follow=True)
    assert any("its file was replaced" in note for note in messages_of(kept))
    assert catalog.image_get(image_id=record.id).sha256 == existing.sha256


def test_the_form_without_javascript_asks_before_storing_a_duplicate(alice):
    # 400 px wide: renditions of 160 and 320 exist for the question's <picture>.
    existing = catalog.image_create(owner=ALICE, meta=catalog.validate_meta(title="Harbour at dusk", author="Ana", description="", keywords="", capture_date=""),
                                    data=make_image("PNG", size=(400, 300)), original_filename="harbour.png")
    same = objects.get_object(existing.object_key)
    asked = alice.post(reverse("images:add"), {"title": "Again", "author": "Ana", "image": upload("again.png", same)})
    assert asked.status_code == 200 and len(catalog.image_list().items) == 1
    html = asked.content.decode()
    assert "the same file as “Harbour at dusk”" in html and objects.public_url(existing.thumbnail_key) in html
    assert re.search(r"<picture><source type=\"image/avif\" srcset=\"[^\"]*/renditions/[^\"]*\" sizes=\"120px\">", html), html[html.find("duplicate-preview"):][:600]
    assert "Keep both" in html and "Use the existing image" in html
    kept = alice.post(reverse("images:add"), {"title": "Again", "author": "Ana", "on_duplicate": "keep",
                                              "image": upload("again.png", same)}, follow=True)
    assert any("was added" in note for note in messages_of(kept)) and len(catalog.image_list().items) == 2


# ------------------------------------------------------------ change


def test_owner_changes_metadata_and_replaces_file_keeping_the_id(alice):
    record = create()
    url = reverse("images:change", args=[record.id])
    page = alice.get(url)
    assert page.status_code == 200 and page.context["form"].initial["version"] == record.version
    new_bytes = make_image("JPEG", size=(40, 30))
    response = alice.post(url, {"title": "New title", "description": "d", "keywords": "a", "author": "Ana",
                                "capture_date": "", "version": record.version, "image": upload("n.jpg", new_bytes)})
    assert response.status_code == 302
    changed = catalog.image_get(image_id=record.id)
    assert changed.title == "New title" and changed.object_key != record.object_key
    assert changed.version == record.version + 1 and not objects.exists(record.object_key)
    assert changed.content_type == "image/jpeg" and objects.get_object(changed.object_key)[:2] == b"\xff\xd8"


def test_conflict_shows_their_version_and_keeps_yours(alice):
    record = create()
    catalog.image_update(actor=ALICE, image_id=record.id, expected_version=record.version,
                         meta=catalog.validate_meta(title="Their title", description="", keywords="",
                                                    author="Them", capture_date=None))
    response = alice.post(reverse("images:change", args=[record.id]), {
        "title": "My title", "author": "Me", "version": record.version})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Their version" in html and "Their title" in html and 'value="My title"' in html
    assert catalog.image_get(image_id=record.id).title == "Their title"
    assert response.context["form"]["version"].value() == record.version + 1


def test_an_edit_sent_after_the_image_was_deleted_is_a_404_and_changes_nothing(alice):
    """A change of an image gone to the trash is NotFound wherever the catalog sees it (read
    first, or found gone when its write is refused), never a conflict without their version."""
    from common.errors import NotFound
    from images.catalog import services

    record = create()
    catalog.image_delete(actor=ALICE, image_id=record.id)
    response = alice.post(reverse("images:change", args=[record.id]), {
        "title": "My title", "author": "Me", "version": record.version + 1})
    assert response.status_code == 404
    assert isinstance(services.conflict_of(record.id), NotFound)  # a write refused after the read
    with pytest.raises(NotFound):
        catalog.image_update(actor=ALICE, image_id=record.id, meta=catalog.validate_meta(
            title="Mine", description="", keywords="", author="Me", capture_date=None))
    assert catalog.trash_get(actor=ALICE, image_id=record.id).title != "My title"


def test_others_see_no_controls_and_get_403_when_posting(client, aws):
    record = create(owner=ALICE)
    client.force_login(user(BOB))
    page = client.get(reverse("images:change", args=[record.id]))
    assert page.status_code == 200 and page.context["form"] is None
    assert 'name="title"' not in page.content.decode()
    assert reverse("images:delete", args=[record.id]) not in page.content.decode()
    denied = client.post(reverse("images:change", args=[record.id]), {"title": "Mine now", "author": "B",
                                                                       "version": record.version})
    assert denied.status_code == 403 and "owner or staff" in denied.content.decode()
    assert client.get(reverse("images:delete", args=[record.id])).status_code == 403
    assert client.post(reverse("images:delete", args=[record.id])).status_code == 403
    assert catalog.image_get(image_id=record.id).title == "Sunset over the bay"


def test_staff_may_change_everything(client, aws):
    record = create(owner=ALICE)
    client.force_login(user(catalog.Actor(sub="sub-sam", username="sam", is_staff=True)))
    response = client.post(reverse("images:change", args=[record.id]), {"title": "By staff", "author": "S",
                                                                         "version": record.version})
    assert response.status_code == 302 and catalog.image_get(image_id=record.id).title == "By staff"


def test_unknown_image_is_a_portal_404(alice):
    response = alice.get(reverse("images:change", args=["0" * 32]))
    assert response.status_code == 404 and "couldn’t find that" in response.content.decode()


# ------------------------------------------------------------ delete


def test_delete_confirmation_then_delete(alice):
    record = create()
    page = alice.get(reverse("images:delete", args=[record.id]))
    assert page.status_code == 200 and "Are you sure" in page.content.decode()
    assert objects.public_url(record.thumbnail_key) in page.content.decode()
    response = alice.post(reverse("images:delete", args=[record.id]), {"version": record.version}, follow=True)
    assert any("moved to the trash" in m for m in messages_of(response))
    assert catalog.image_list().items == []


# ------------------------------------------------------------ bulk actions


def test_bulk_set_author_confirms_then_reports_images_you_may_not_change(alice):
    mine, theirs = create(title="Mine"), create(owner=BOB, title="Theirs")
    data = {"action": "set_author", "_selected_action": [mine.id, theirs.id]}
    confirm = alice.post(reverse("images:action"), data)
    assert confirm.status_code == 200
    assert [r["id"] for r in confirm.context["allowed"]] == [mine.id]
    assert [r["id"] for r in confirm.context["denied"]] == [theirs.id]
    done = alice.post(reverse("images:action"), {**data, "post": "yes", "author": "Zed"}, follow=True)
    notes = messages_of(done)
    assert any("1 image updated" in m for m in notes)
    assert any("Theirs" in m and "not updated" in m for m in notes)
    assert catalog.image_get(image_id=mine.id).author == "Zed"
    assert catalog.image_get(image_id=theirs.id).author == "Ana Díaz"


def test_bulk_add_and_remove_keywords(alice):
    a, b = create(title="A", keywords="x"), create(title="B", keywords="x,y")
    ids = [a.id, b.id]
    alice.post(reverse("images:action"), {"action": "add_keywords", "_selected_action": ids, "post": "yes",
                                          "keywords": "new, Y"})
    assert catalog.image_get(image_id=a.id).keywords == ["x", "new", "Y"]
    assert catalog.image_get(image_id=b.id).keywords == ["x", "y", "new"]
    alice.post(reverse("images:action"), {"action": "remove_keywords", "_selected_action": ids, "post": "yes",
                                          "keywords": "X"})
    assert catalog.image_get(image_id=b.id).keywords == ["y", "new"]
    assert [r.id for r in catalog.image_search(key="keywords", value="x").items] == []


def test_bulk_delete_through_confirmation(alice):
    a, b = create(title="A"), create(title="B")
    data = {"action": "delete_selected", "_selected_action": [a.id, b.id]}
    confirm = alice.post(reverse("images:action"), data)
    assert "Are you sure" in confirm.content.decode() and catalog.image_get(image_id=a.id)
    alice.post(reverse("images:action"), {**data, "post": "yes"})
    assert catalog.image_list().items == []


def test_export_csv_has_the_spec_fields(alice):
    a = create(title="=cmd|' /C calc'!A0", keywords="k1,k2")
    response = alice.post(reverse("images:action"), {"action": "export_csv", "_selected_action": [a.id]})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["id", "title", "description", "keywords", "author", "creator", "capture_date",
                             "storage_date", "filename", "original_filename", "object_url"]
    assert rows[0]["id"] == a.id and rows[0]["keywords"] == "k1,k2" and rows[0]["title"].startswith("'=")


def test_download_original_redirects_to_s3_with_the_original_name(alice):
    from urllib.parse import parse_qs, urlsplit

    from django.core.files.uploadedfile import SimpleUploadedFile

    alice.post(reverse("images:add"), {"title": "Café", "author": "Ana",
                                       "image": SimpleUploadedFile("../Straße café 写真.png", make_image("PNG"))})
    record = catalog.image_list().items[0]
    assert record.original_filename == "Straße café 写真.png"
    page = alice.get(reverse("images:change", args=[record.id])).content.decode()
    assert "Straße café 写真.png" in page and reverse("images:download", args=[record.id]) in page
    response = alice.get(reverse("images:download", args=[record.id]))
    assert response.status_code == 302 and "no-cache" in response["Cache-Control"]
    target = urlsplit(response["Location"])
    query = parse_qs(target.query)
    assert target.path.endswith(f"/{record.object_key}") and "X-Amz-Signature" in query
    assert query["response-content-disposition"] == [
        "attachment; filename=\"Stra_e cafe __.png\"; filename*=UTF-8''Stra%C3%9Fe%20caf%C3%A9%20%E5%86%99%E7%9C%9F.png"]
    assert query["response-content-type"] == ["image/png"]


def test_action_without_selection_explains(alice):
    response = alice.post(reverse("images:action"), {"action": "export_csv"}, follow=True)
    assert any("Select one or more images" in m for m in messages_of(response))


# ------------------------------------------------------------ error pages and static files


def test_error_pages_match_the_portal_and_500_needs_no_context(alice):
    from django.template.loader import get_template

    html = get_template("500.html").render()
    assert "Something went wrong on our side" in html and "Image Manager" in html and "Traceback" not in html
    missing = alice.get("/no/such/page/")
    assert missing.status_code == 404 and "Image Manager" in missing.content.decode()


def test_csrf_failure_is_a_portal_page(aws):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(user(ALICE))
    response = client.post(reverse("images:add"), {"title": "x"})
    assert response.status_code == 403 and "That form had expired" in response.content.decode()


def test_production_static_files_are_hashed_and_compressed(alice, tmp_path, settings):
    from django.core.management import call_command
    from django.templatetags.static import static

    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}
    assert "whitenoise.middleware.WhiteNoiseMiddleware" in settings.MIDDLEWARE
    call_command("collectstatic", "--noinput", verbosity=0)
    for name in ("images/portal.css", "images/add.js", "images/list.js"):
        hashed = static(name)
        assert hashed != f"/static/{name}" and (tmp_path / hashed.removeprefix("/static/")).exists()
        assert (tmp_path / (hashed.removeprefix("/static/") + ".gz")).exists()
    assert static("images/portal.css") in alice.get(reverse("images:list")).content.decode()


@pytest.mark.parametrize("params", [{"date": "2021-13"}, {"date": "2021-02-31"}, {"date": "last year"},
                                    {"q": "x", "key": "nonsense"}, {"q": "2021-99", "key": "creationdate"},
                                    {"limit": "100000"}, {"q": "!!!", "key": "title"}])
def test_odd_queries_get_a_page_not_a_crash(alice, params):
    response = alice.get(reverse("images:list"), params)
    assert response.status_code == 200


def test_the_add_page_registers_a_file_put_straight_into_storage(alice):
    grant = alice.post(reverse("images:upload_start"))
    assert grant.status_code == 201
    body = grant.json()
    assert body["fields"]["key"] == body["upload_key"] and body["max_bytes"] >= 200 * 1024 * 1024
    objects.put_object(body["upload_key"], make_image("PNG"), content_type="application/octet-stream")
    made = alice.post(reverse("images:upload_register"), {
        "upload_key": body["upload_key"], "filename": "C:\\pics\\harbour.png", "title": "Harbour", "author": "Ana"})
    assert made.status_code == 201, made.content
    record = catalog.image_get(image_id=made.json()["id"])
    assert record.original_filename == "harbour.png" and record.content_type == "image/png"
    assert not objects.exists(body["upload_key"])  # consumed

    theirs = catalog.upload_start(BOB)
    objects.put_object(theirs.key, make_image("PNG"), content_type="image/png")
    refused = alice.post(reverse("images:upload_register"), {"upload_key": theirs.key, "title": "T", "author": "A"})
    assert refused.status_code == 400 and "someone else" in refused.json()["errors"]["__all__"][0]
    missing_author = alice.post(reverse("images:upload_register"), {"upload_key": body["upload_key"], "title": "T"})
    assert missing_author.status_code == 400 and "author" in missing_author.json()["errors"]


def _multipart(fields: dict[str, bytes], file_name: bytes, data: bytes) -> tuple[bytes, str]:
    boundary = "b0undary"
    parts = [b"--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n" % (boundary.encode(), k.encode(), v)
             for k, v in fields.items()]
    parts.append(b"--%s\r\nContent-Disposition: form-data; name=\"image\"; filename=\"%s\"\r\n"
                 b"Content-Type: image/png\r\n\r\n%s\r\n" % (boundary.encode(), file_name, data))
    return b"".join(parts) + b"--%s--\r\n" % boundary.encode(), f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize("field", ["title", "author", "keywords", "description", "filename"])
def test_a_lone_surrogate_in_any_form_field_is_no_500_and_none_is_stored(alice, field):
    # "\ud800" as UTF-8-ish bytes (CESU) and as a percent-escape: Django decodes form bytes with
    # replacement, so no lone surrogate reaches the catalog (it failed inside DynamoDB's write).
    surrogate = b"\xed\xa0\x80x"
    fields = {"title": b"Harbour", "author": b"Eve", "keywords": b"a", "description": b""}
    if field != "filename":
        fields[field] = surrogate
    body, content_type = _multipart(fields, surrogate if field == "filename" else b"p.png", make_image())
    response = alice.generic("POST", reverse("images:add"), body, content_type=content_type)
    assert response.status_code in (200, 302)
    encoded = alice.post(reverse("images:add"), f"title=%ED%A0%80x&author=Eve&{field}=%ED%A0%80x",
                         content_type="application/x-www-form-urlencoded")
    assert encoded.status_code == 200  # no file: the form again, nothing stored
    for record in catalog.image_list().items:
        for value in (record.title, record.author, record.description, record.original_filename, *record.keywords):
            (value or "").encode("utf-8")  # every stored string is valid Unicode
