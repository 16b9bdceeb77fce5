"""Renditions: the fixed set, the key scheme, rendering, and the render function over moto."""

from __future__ import annotations

import base64
import io
import threading

import pytest
from PIL import Image

from images import render as render_function
from images.media import ImageInvalid
from images.media.renditions import (
    NotOffered,
    WIDTHS,
    formats_for,
    parse_key,
    render,
    rendition_key,
    renditions_prefix,
    widths_for,
)
from images.objects import s3

MAX = 50_000_000


def encode(im: Image.Image, fmt: str, **params) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **params)
    return out.getvalue()


def photo(size=(1600, 1000), mode="RGB") -> Image.Image:
    """A gradient with detail, so every encoder has something to do."""
    im = Image.linear_gradient("L").resize(size)
    return Image.merge("RGB", (im, im.transpose(Image.Transpose.FLIP_LEFT_RIGHT), im.rotate(90).resize(size))).convert(mode)


def test_keys_name_the_version_width_and_format():
    key = rendition_key("images/abc/tok.jpg", 640, "webp")
    assert key == "renditions/abc/tok.jpg/640.webp"
    wanted = parse_key(key)
    assert (wanted.original_key, wanted.width, wanted.format, wanted.content_type) == (
        "images/abc/tok.jpg", 640, "webp", "image/webp")
    assert key.startswith(renditions_prefix("images/abc/tok.jpg"))


@pytest.mark.parametrize("key", [
    "renditions/abc/tok.jpg/641.webp",     # width outside the set
    "renditions/abc/tok.jpg/640.gif",      # format outside the set
    "renditions/abc/tok.jpg/640.png",      # a JPEG's fallback is JPEG
    "renditions/abc/tok.png/640.jpg",      # a PNG's fallback is PNG
    "renditions/abc/tok.tif/640.webp",     # not an allowed original
    "renditions/../tok.jpg/640.webp",
    "renditions/abc/tok.jpg/640.webp/x",
    "images/abc/tok.jpg",
])
def test_paths_outside_the_set_are_refused(key):
    with pytest.raises(NotOffered):
        parse_key(key)


def test_offered_widths_never_exceed_the_original():
    assert widths_for(1000) == (160, 320, 640)
    assert widths_for(2560) == WIDTHS
    assert widths_for(100) == ()
    assert formats_for("jpg") == ("avif", "webp", "jpg") and formats_for("gif")[-1] == "png"


@pytest.mark.parametrize("fmt,pil", [("webp", "WEBP"), ("avif", "AVIF"), ("jpg", "JPEG")])
def test_render_makes_the_width_and_format(fmt, pil):
    data = render(io.BytesIO(encode(photo(), "JPEG", quality=90)), 640, fmt, max_pixels=MAX)
    with Image.open(io.BytesIO(data)) as out:
        assert (out.format, out.size) == (pil, (640, 400))
        assert not out.info.get("exif") and not out.info.get("icc_profile")


def test_render_keeps_transparency_in_png_and_webp():
    im = photo((800, 600), "RGBA")
    im.putalpha(Image.new("L", im.size, 0))
    original = encode(im, "PNG")
    for fmt in ("png", "webp"):
        with Image.open(io.BytesIO(render(io.BytesIO(original), 320, fmt, max_pixels=MAX))) as out:
            assert out.size == (320, 240) and out.mode == "RGBA" and out.getextrema()[3] == (0, 0)


def test_width_is_the_upright_width():
    exif = Image.Exif()
    exif[0x0112] = 6  # a quarter turn: stored 1600x1000, upright 1000x1600
    original = encode(photo(), "JPEG", exif=exif)
    with Image.open(io.BytesIO(render(io.BytesIO(original), 640, "webp", max_pixels=MAX))) as out:
        assert out.size == (640, 1024)
    with Image.open(io.BytesIO(render(io.BytesIO(original), 1280, "webp", max_pixels=MAX))) as out:
        assert out.size == (1000, 1600)  # never upscaled
    with pytest.raises(NotOffered):
        render(io.BytesIO(original), 2560, "webp", max_pixels=MAX)


def test_wider_than_the_original_and_refused_files_make_nothing():
    with pytest.raises(NotOffered):
        render(io.BytesIO(encode(photo((600, 400)), "PNG")), 640, "webp", max_pixels=MAX)
    with pytest.raises(ImageInvalid):
        render(io.BytesIO(encode(photo(), "PNG")), 640, "webp", max_pixels=1_000_000)
    with pytest.raises(ImageInvalid):
        render(io.BytesIO(b"not an image at all"), 640, "webp", max_pixels=MAX)
    with pytest.raises(ImageInvalid):
        render(io.BytesIO(encode(photo(), "TIFF")), 640, "webp", max_pixels=MAX)


def event(path: str, method: str = "GET") -> dict:
    return {"rawPath": path, "requestContext": {"http": {"method": method}}}


def stored_keys(config) -> list[str]:
    listed = s3().list_objects_v2(Bucket=config.images_bucket, Prefix="renditions/")
    return [o["Key"] for o in listed.get("Contents", [])]


def test_the_render_function_renders_once_then_serves_the_stored_object(aws):
    s3().put_object(Bucket=aws.images_bucket, Key="images/i1/t1.jpg", Body=encode(photo(), "JPEG"))
    first = render_function.lambda_handler(event("/renditions/i1/t1.jpg/320.avif"), None)
    assert first["statusCode"] == 200 and first["headers"]["Content-Type"] == "image/avif"
    assert "immutable" in first["headers"]["Cache-Control"]
    with Image.open(io.BytesIO(base64.b64decode(first["body"]))) as out:
        assert (out.format, out.width) == ("AVIF", 320)
    stored = s3().head_object(Bucket=aws.images_bucket, Key="renditions/i1/t1.jpg/320.avif")
    assert stored["ContentType"] == "image/avif" and "immutable" in stored["CacheControl"]
    again = render_function.serve(s3(), aws.images_bucket, "renditions/i1/t1.jpg/320.avif", max_pixels=MAX)
    assert again.status == 200 and not again.rendered


def test_a_burst_renders_once(aws, monkeypatch):
    s3().put_object(Bucket=aws.images_bucket, Key="images/i1/t1.jpg", Body=encode(photo(), "JPEG"))
    calls = []
    real = render_function._render
    monkeypatch.setattr(render_function, "_render", lambda *a: calls.append(1) or real(*a))
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(render_function.serve(
        s3(), aws.images_bucket, "renditions/i1/t1.jpg/160.webp", max_pixels=MAX))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [a.status for a in answers] == [200] * 8 and len(calls) == 1


def test_the_render_function_refuses_without_storing(aws):
    s3().put_object(Bucket=aws.images_bucket, Key="images/i1/t1.jpg", Body=encode(photo((600, 400)), "JPEG"))
    s3().put_object(Bucket=aws.images_bucket, Key="images/i1/bad.png", Body=b"\x89PNG\r\n\x1a\nbroken")
    for path, status in [("/renditions/i1/t1.jpg/320.gif", 404),   # outside the set
                         ("/renditions/i1/t1.jpg/1280.webp", 404),  # wider than the original
                         ("/renditions/i1/none.jpg/320.webp", 404),  # no such version
                         ("/renditions/i1/bad.png/320.webp", 422)]:  # refused by the decoder
        answer = render_function.lambda_handler(event(path), None)
        assert answer["statusCode"] == status, path
        assert answer["headers"]["Cache-Control"] == "no-store"
    assert render_function.lambda_handler(event("/renditions/i1/t1.jpg/320.webp", "POST"), None)["statusCode"] == 405
    assert stored_keys(aws) == []


def _made(config, record, width=160, fmt="webp") -> str:
    """Render one rendition of the record's file through the render function; its key."""
    from images.media.renditions import rendition_key

    key = rendition_key(record.object_key, width, fmt)
    assert render_function.serve(s3(), config.images_bucket, key, max_pixels=MAX).status == 200
    return key


def test_trash_cuts_renditions_and_restore_makes_new_ones(aws):
    from images import catalog
    from images.catalog.serialise import image_to_dict

    alice = catalog.Actor(sub="sub-alice", username="alice")
    meta = catalog.validate_meta(title="Quay", description="Night", keywords="sea", author="Ana",
                                 capture_date="2021-06-01")
    record = catalog.image_create(owner=alice, meta=meta, data=encode(photo((400, 300)), "PNG"),
                                  original_filename="q.png")
    assert {(r["width"], r["format"]) for r in image_to_dict(record)["renditions"]} == {
        (w, f) for w in (160, 320) for f in ("avif", "webp", "png")}
    key = _made(aws, record)
    assert stored_keys(aws) == [key]
    assert catalog.image_delete(actor=alice, image_id=record.id) is True
    assert stored_keys(aws) == []  # gone with the public file, in the same cleanup
    trashed = catalog.image_trash_list(actor=alice).items  # a trashed version offers none
    assert [catalog.trashed_to_dict(r)["renditions"] for r in trashed] == [[]]
    restored = catalog.image_restore(actor=alice, image_id=record.id)
    assert _made(aws, restored) != key  # a new version: new URLs, made on demand


def test_the_sweep_removes_renditions_of_no_ready_version(aws):
    from datetime import datetime, timedelta, timezone

    from images import catalog
    from images.sweep import sweep

    alice = catalog.Actor(sub="sub-alice", username="alice")
    meta = catalog.validate_meta(title="Quay", description="Night", keywords="sea", author="Ana",
                                 capture_date="2021-06-01")
    record = catalog.image_create(owner=alice, meta=meta, data=encode(photo((400, 300)), "PNG"),
                                  original_filename="q.png")
    kept = _made(aws, record)
    for orphan in ("renditions/gone/t.png/160.webp", "renditions/junk"):
        s3().put_object(Bucket=aws.images_bucket, Key=orphan, Body=b"x")
    report = sweep(repair=True, now=datetime.now(timezone.utc) + timedelta(hours=2))
    assert sorted(report.deleted) == ["renditions/gone/t.png/160.webp", "renditions/junk"]
    assert stored_keys(aws) == [kept]


def test_a_second_store_of_one_key_leaves_the_first(aws):
    # Across Lambda instances the per-process lock does not help: the conditional put does.
    key = "renditions/i1/t1.jpg/160.webp"
    render_function._store(s3(), aws.images_bucket, key, b"first", "image/webp")
    render_function._store(s3(), aws.images_bucket, key, b"second", "image/webp")
    assert s3().get_object(Bucket=aws.images_bucket, Key=key)["Body"].read() == b"first"


def _quay(alice):
    from images import catalog

    meta = catalog.validate_meta(title="Quay", description="Night", keywords="sea", author="Ana",
                                 capture_date="2021-06-01")
    return catalog.image_create(owner=alice, meta=meta, data=encode(photo((400, 300)), "PNG"), original_filename="q.png")


@pytest.mark.parametrize("when", ["before the store", "after the store"])
def test_a_render_racing_a_delete_leaves_no_rendition(aws, monkeypatch, when):
    # The delete's cleanup runs while the render works: before its store (the render finds its
    # original gone and takes the store back) or after it (the cleanup deletes it).
    from images import catalog
    from images.media.renditions import rendition_key

    alice = catalog.Actor(sub="sub-alice", username="alice")
    record = _quay(alice)
    key = rendition_key(record.object_key, 160, "webp")
    step = "_render" if when == "before the store" else "_store"
    real = getattr(render_function, step)

    def then_trashed(*args):
        done = real(*args)
        assert catalog.image_delete(actor=alice, image_id=record.id) is True
        return done
    monkeypatch.setattr(render_function, step, then_trashed)
    answer = render_function.serve(s3(), aws.images_bucket, key, max_pixels=MAX)
    assert answer.status == 404 and answer.headers["Cache-Control"] == "no-store"
    assert stored_keys(aws) == []


def test_a_purge_removes_renditions_stored_under_the_trashed_key(aws):
    # A rendition that outlived its trashed file (a render stored it after the delete's cleanup,
    # then failed before taking it back) goes with the purge, not only with the sweep.
    from images import catalog
    from images.media.renditions import rendition_key

    alice = catalog.Actor(sub="sub-alice", username="alice")
    record = _quay(alice)
    assert catalog.image_delete(actor=alice, image_id=record.id) is True
    stray = rendition_key(record.object_key, 320, "avif")
    s3().put_object(Bucket=aws.images_bucket, Key=stray, Body=b"late")
    assert catalog.image_purge(actor=catalog.Actor(sub="sub-sam", username="sam", is_staff=True), image_id=record.id)
    assert stored_keys(aws) == []
