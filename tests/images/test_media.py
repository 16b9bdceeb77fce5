"""Tests for images.media: type from bytes, limits, bombs, GPS stripping, thumbnails, metadata."""

from __future__ import annotations

import hashlib
import io
import struct
import time
import tracemalloc
import zlib

import pytest
from PIL import Image, ImageCms, PngImagePlugin

from common.errors import InvalidInput, TooLarge
from images import media
from images.media import (
    ALLOWED_FORMATS,
    FileMetadata,
    ImageInvalid,
    ImageTooLarge,
    prepare_image,
    read_metadata,
)

MB = 1024 * 1024
LIMITS = {"max_bytes": 20 * MB, "max_pixels": 50_000_000}
GPS = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}
XMP_GPS = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="48,51.48N"'
    b' exif:GPSLongitude="2,17.67E"/></rdf:RDF></x:xmpmeta>'
)


# ----------------------------------------------------------------------------- builders


def encode(im: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **params)
    return out.getvalue()


def picture(size: tuple[int, int] = (64, 48), color: object = (200, 30, 30), mode: str = "RGB") -> Image.Image:
    return Image.new(mode, size, color)


def exif_with(gps: bool = True, orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[0x013B] = "Ann Artist"
    exif[0x010E] = "A red square"
    exif[0x0132] = "2020:01:02 03:04:05"
    exif.get_ifd(0x8769)[0x9003] = "2019:05:06 07:08:09"
    if orientation:
        exif[0x0112] = orientation
    if gps:
        exif.get_ifd(0x8825).update(GPS)
    return exif


def insert_jpeg_segment(jpeg: bytes, marker: int, payload: bytes) -> bytes:
    assert jpeg[:2] == b"\xff\xd8"
    return jpeg[:2] + bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def with_xmp(jpeg: bytes, xmp: bytes) -> bytes:
    return insert_jpeg_segment(jpeg, 0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + xmp)


def iptc_dataset(number: int, value: str, encoding: str = "utf-8") -> bytes:
    raw = value.encode(encoding)
    return b"\x1c\x02" + bytes([number]) + struct.pack(">H", len(raw)) + raw


def with_iptc(jpeg: bytes, datasets: bytes) -> bytes:
    """Wrap IPTC-IIM in a Photoshop 8BIM resource 0x0404 inside an APP13 segment."""
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(datasets)) + datasets
    if len(datasets) & 1:
        resource += b"\x00"
    return insert_jpeg_segment(jpeg, 0xED, b"Photoshop 3.0\x00" + resource)


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I4s", len(body), kind) + body + struct.pack(">I", zlib.crc32(kind + body))


def png_claiming(width: int, height: int, idat: bytes = b"") -> bytes:
    """A tiny, well-formed PNG header that declares the given size."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat or zlib.compress(b"\x00" * 64))
        + png_chunk(b"IEND", b"")
    )


def jpeg_scan(data: bytes) -> bytes:
    """Return the entropy-coded data from the first SOS on (the pixels)."""
    return data[data.index(b"\xff\xda") :]


def prepare(data: bytes) -> media.PreparedImage:
    return prepare_image(data, **LIMITS)


# ----------------------------------------------------------------------------- types


@pytest.mark.parametrize(
    ("fmt", "content_type", "extension"),
    [("JPEG", "image/jpeg", "jpg"), ("PNG", "image/png", "png"), ("GIF", "image/gif", "gif"), ("WEBP", "image/webp", "webp")],
)
def test_allowed_formats_are_typed_from_the_bytes_and_kept_untouched(fmt, content_type, extension):
    data = encode(picture((64, 48)), fmt)
    prepared = prepare(data)
    assert prepared.data == data  # no GPS: the original bytes, byte for byte
    assert (prepared.content_type, prepared.extension) == (content_type, extension)
    assert (prepared.width, prepared.height) == (64, 48)
    assert prepared.byte_size == len(data)
    assert prepared.sha256 == hashlib.sha256(data).hexdigest()
    assert prepared.thumbnail_content_type == "image/jpeg"


def test_allow_list_is_exactly_the_four_web_formats():
    assert ALLOWED_FORMATS == {
        "JPEG": ("image/jpeg", "jpg"),
        "PNG": ("image/png", "png"),
        "GIF": ("image/gif", "gif"),
        "WEBP": ("image/webp", "webp"),
    }


def test_errors_carry_their_codes_and_statuses():
    assert issubclass(ImageInvalid, InvalidInput) and ImageInvalid.code == "image_invalid"
    assert issubclass(ImageTooLarge, TooLarge) and ImageTooLarge.code == "image_too_large"
    assert ImageInvalid.status == 400 and ImageTooLarge.status == 413


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', id="svg"),
        pytest.param(b"<!doctype html><html><body><script>alert(1)</script></body></html>", id="html"),
        pytest.param(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n", id="pdf"),
        pytest.param(b"just some text, saved as photo.png\n", id="text"),
        pytest.param(encode(picture(), "TIFF"), id="tiff"),
        pytest.param(encode(picture(), "BMP"), id="bmp"),
        pytest.param(encode(picture((16, 16)), "ICO"), id="ico"),
    ],
)
def test_other_content_is_refused_as_not_an_image(data):
    with pytest.raises(ImageInvalid, match="not a JPEG, PNG, GIF or WebP image"):
        prepare(data)


def test_empty_input_is_refused():
    with pytest.raises(ImageInvalid, match="empty"):
        prepare(b"")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP"])
def test_truncated_images_are_refused_as_damaged(fmt):
    data = encode(Image.effect_noise((200, 150), 50).convert("RGB"), fmt)
    with pytest.raises(ImageInvalid) as caught:
        prepare(data[: len(data) * 2 // 3])
    assert caught.value.message == "The image file is damaged or incomplete."


def test_png_with_a_bad_checksum_is_refused_as_damaged():
    data = bytearray(encode(Image.effect_noise((50, 50), 50), "PNG"))
    idat = data.index(b"IDAT")
    data[idat + 10] ^= 0xFF  # corrupt compressed pixels; the CRC no longer matches
    with pytest.raises(ImageInvalid, match="damaged or incomplete"):
        prepare(bytes(data))



def test_png_with_a_bad_checksum_after_its_pixels_is_refused_as_damaged():
    data = encode(picture(), "PNG")
    iend = data.rindex(b"IEND") - 4
    text = bytearray(png_chunk(b"tEXt", b"Comment\x00hello"))
    text[-1] ^= 0xFF
    with pytest.raises(ImageInvalid, match="damaged or incomplete"):
        prepare(data[:iend] + bytes(text) + data[iend:])
    with pytest.raises(ImageInvalid, match="damaged or incomplete"):
        prepare(data[:iend])  # no IEND

# ----------------------------------------------------------------------------- limits


def test_too_many_bytes_is_refused_before_decoding():
    # Not an image at all: ImageTooLarge proves the size was checked before any decoding.
    with pytest.raises(ImageTooLarge, match=r"^The file is 3\.0 MB; the limit is 2\.0 MB\.$"):
        prepare_image(b"x" * (3 * MB), max_bytes=2 * MB, max_pixels=10**6)


def test_size_message_stays_truthful_when_rounding_would_hide_the_excess():
    with pytest.raises(ImageTooLarge, match="2,097,153 bytes; the limit is 2,097,152 bytes"):
        prepare_image(b"x" * (2 * MB + 1), max_bytes=2 * MB, max_pixels=10**6)


def test_exactly_the_byte_limit_is_accepted():
    data = encode(picture(), "PNG")
    assert prepare_image(data, max_bytes=len(data), max_pixels=10**6).byte_size == len(data)


def test_a_header_claiming_huge_dimensions_is_refused_fast_without_allocating():
    bomb = png_claiming(100_000, 100_000)
    assert len(bomb) < 200
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(ImageInvalid, match="pixels"):
            prepare(bomb)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print(f"\nbomb 100000x100000: refused in {elapsed * 1000:.1f} ms, traced peak {peak / 1024:.0f} KiB")
    assert elapsed < 0.5
    assert peak < 50 * MB


def test_pixels_over_our_limit_but_under_pillows_are_refused_before_decoding():
    # 80 MP: Pillow's own bomb check (about 89 MP) lets it through; ours must not.
    bomb = png_claiming(10_000, 8_000)
    tracemalloc.start()
    try:
        with pytest.raises(ImageInvalid, match="10,000 × 8,000 pixels; the limit is 50 megapixels"):
            prepare(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50 * MB
    assert Image.MAX_IMAGE_PIXELS == int(1024 * 1024 * 1024 // 4 // 3)  # the global is left alone


def test_a_real_compression_bomb_is_refused_without_inflating_it():
    # 6000 x 6000 of zeros: 36 MB of pixels squeezed into a few KB.
    rows = zlib.compressobj(9)
    idat = b"".join(rows.compress(b"\x00" * 6001) for _ in range(6000)) + rows.flush()
    bomb = png_claiming(6000, 6000, idat)
    assert len(bomb) < 100_000
    started = time.perf_counter()
    with pytest.raises(ImageInvalid, match="megapixels"):
        prepare_image(bomb, max_bytes=MB, max_pixels=10_000_000)
    assert time.perf_counter() - started < 0.5
    # The same file is a valid image when the limit allows it: the refusal was the limit's.
    assert prepare_image(bomb, max_bytes=MB, max_pixels=36_000_000).width == 6000


def animated_gif(frames: int, size: tuple[int, int]) -> bytes:
    images = [picture(size, ((i * 40) % 256, 0, 0)) for i in range(frames)]
    return encode(images[0], "GIF", save_all=True, append_images=images[1:], duration=50, loop=0)


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_animation_frames_count_against_the_pixel_limit(fmt):
    images = [picture((100, 100), (i * 20, 200, 0)) for i in range(12)]
    data = encode(images[0], fmt, save_all=True, append_images=images[1:], duration=50, loop=0)
    with pytest.raises(ImageInvalid, match="× 12 frames"):
        prepare_image(data, max_bytes=MB, max_pixels=100_000)  # 12 x 10,000 = 120,000
    prepared = prepare_image(data, max_bytes=MB, max_pixels=120_000)
    assert prepared.data == data
    thumb = Image.open(io.BytesIO(prepared.thumbnail))
    r, g, b = thumb.getpixel((50, 50))
    assert r < 40 and g > 160  # the first frame, not a later one


def test_too_many_frames_is_refused(monkeypatch):
    monkeypatch.setattr(media.verify, "MAX_FRAMES", 5)
    with pytest.raises(ImageInvalid, match="6 frames; the limit is 5"):
        prepare(animated_gif(6, (8, 8)))


# ----------------------------------------------------------------------------- location


def test_jpeg_gps_is_removed_losslessly_and_the_rest_of_the_exif_kept():
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    source = Image.effect_noise((300, 200), 60).convert("RGB")
    data = encode(source, "JPEG", quality=92, exif=exif_with(gps=True), icc_profile=icc)
    assert 0x8825 in Image.open(io.BytesIO(data)).getexif()

    prepared = prepare(data)

    assert b"GPS" not in prepared.data and prepared.data != data
    with Image.open(io.BytesIO(prepared.data)) as im:
        exif = im.getexif()
        assert 0x8825 not in exif
        assert exif[0x013B] == "Ann Artist"
        assert exif.get_ifd(0x8769)[0x9003] == "2019:05:06 07:08:09"
        assert im.info.get("icc_profile") == icc
        assert im.size == (300, 200) == (prepared.width, prepared.height)
        im.load()
    assert jpeg_scan(prepared.data) == jpeg_scan(data)  # the pixels were not re-encoded
    assert prepared.sha256 == hashlib.sha256(prepared.data).hexdigest()
    assert prepared.byte_size == len(prepared.data)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_gps_is_removed_and_pixels_kept(fmt):
    source = Image.effect_noise((120, 80), 60).convert("RGB")
    data = encode(source, fmt, exif=exif_with(gps=True), lossless=True)
    prepared = prepare(data)
    with Image.open(io.BytesIO(data)) as before, Image.open(io.BytesIO(prepared.data)) as after:
        assert 0x8825 in before.getexif()
        exif = after.getexif()
        assert 0x8825 not in exif and exif[0x013B] == "Ann Artist"
        assert exif.get_ifd(0x8769)[0x9003] == "2019:05:06 07:08:09"
        assert after.tobytes() == before.tobytes()


def test_webp_with_gps_exif_and_xmp_stays_a_valid_extended_webp():
    source = picture((40, 30))
    data = encode(source, "WEBP", exif=exif_with(gps=True), xmp=XMP_GPS, lossless=True)
    prepared = prepare(data)
    assert b"GPS" not in prepared.data
    assert struct.unpack("<I", prepared.data[4:8])[0] == len(prepared.data) - 8  # RIFF size fixed
    with Image.open(io.BytesIO(prepared.data)) as im:
        assert "xmp" not in im.info and im.getexif()[0x013B] == "Ann Artist"
        im.load()


def test_png_xmp_with_gps_is_dropped():
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", XMP_GPS.decode(), zip=True)
    info.add_text("Comment", "kept")
    data = encode(picture(), "PNG", pnginfo=info)
    prepared = prepare(data)
    with Image.open(io.BytesIO(prepared.data)) as im:
        assert "XML:com.adobe.xmp" not in im.info and im.info["Comment"] == "kept"
        im.load()


def test_jpeg_xmp_is_dropped_only_when_it_mentions_gps():
    plain = encode(picture(), "JPEG")
    harmless = with_xmp(plain, XMP_GPS.replace(b"GPSLatitude", b"Rating").replace(b"GPSLongitude", b"Label"))
    assert prepare(harmless).data == harmless
    located = with_xmp(plain, XMP_GPS)
    prepared = prepare(located)
    assert b"GPSLatitude" not in prepared.data and b"ns.adobe.com/xap" not in prepared.data
    assert jpeg_scan(prepared.data) == jpeg_scan(plain)


def test_gif_xmp_with_gps_is_dropped():
    gif = encode(picture((20, 20)).convert("P"), "GIF")
    # An XMP application extension: the packet, then the 258-byte "magic trailer" that makes
    # the raw packet parse as data sub-blocks.
    trailer = b"\x01" + bytes(range(255, -1, -1)) + b"\x00"
    extension = b"\x21\xff\x0bXMP DataXMP" + XMP_GPS + trailer
    header_end = 13 + (3 << ((gif[10] & 7) + 1))
    located = gif[:header_end] + extension + gif[header_end:]
    with Image.open(io.BytesIO(located)) as im:
        im.load()  # the crafted extension is well-formed GIF (Pillow itself ignores GIF XMP)
    prepared = prepare(located)
    assert prepared.data == gif


def test_thumbnail_has_no_metadata():
    data = encode(picture((400, 300)), "JPEG", exif=exif_with(gps=True))
    data = with_xmp(data, XMP_GPS)
    thumb = prepare(data).thumbnail
    assert b"Exif" not in thumb and b"GPS" not in thumb and b"xap" not in thumb
    with Image.open(io.BytesIO(thumb)) as im:
        assert not im.getexif() and "icc_profile" not in im.info


def test_multi_picture_jpeg_keeps_only_the_first_picture():
    first = picture((80, 60), (255, 0, 0))
    second = picture((80, 60), (0, 0, 255))
    data = encode(first, "MPO", save_all=True, append_images=[second], exif=exif_with(gps=True))
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "MPO" and im.n_frames == 2
    prepared = prepare(data)
    assert prepared.content_type == "image/jpeg" and len(prepared.data) < len(data)
    assert b"MPF\x00" not in prepared.data and b"GPS" not in prepared.data
    with Image.open(io.BytesIO(prepared.data)) as im:
        assert im.format == "JPEG" and getattr(im, "n_frames", 1) == 1
        assert im.convert("RGB").getpixel((40, 30))[0] > 200


# ----------------------------------------------------------------------------- files


def test_a_file_is_verified_like_its_bytes_without_being_read_whole(tmp_path):
    # 15 MiB of filler chunks (under the 16 MiB of metadata a file may carry) around a small picture whose eXIf carries GPS: the cleaned file
    # is a view of the source (no copy), the hash is taken in chunks, Pillow reads as it goes.
    small = encode(picture(), "PNG", exif=exif_with(gps=True))
    filler = png_chunk(b"fILl", bytes(256 * 1024)) * 60  # public, unknown: Pillow skips it
    iend = small.rindex(b"IEND") - 4
    data = small[:iend] + filler + small[iend:]
    path = tmp_path / "big.png"
    path.write_bytes(data)
    del small, filler
    with path.open("rb") as f:
        tracemalloc.start()
        try:
            from_file = prepare(f)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        stored = from_file.data
    from_bytes = prepare(data)
    assert peak < 4 * MB, peak
    assert stored == from_bytes.data and b"GPS" not in stored[:4096] and len(stored) < len(data)
    assert (from_file.sha256, from_file.byte_size) == (hashlib.sha256(stored).hexdigest(), len(stored))
    assert (from_file.sha256, from_file.pixel_hash) == (from_bytes.sha256, from_bytes.pixel_hash)


def test_a_png_metadata_chunk_over_the_limit_is_refused_before_pillow_reads_it(tmp_path, monkeypatch):
    # Pillow reads every chunk but IDAT whole: a crafted 17 MiB private chunk is refused from
    # its 8-byte header, on a file, without reading it.
    from images.media import verify

    small = encode(picture(), "PNG")
    idat = small.index(b"IDAT") - 4  # the chunk goes before it: Pillow would read it while opening
    path = tmp_path / "crafted.png"
    with path.open("wb") as out:
        out.write(small[:idat])
        body = bytes(17 << 20)
        out.write(png_chunk(b"prVt", body))
        del body
        out.write(small[idat:])
    with path.open("rb") as f:
        tracemalloc.start()
        try:
            with pytest.raises(ImageInvalid, match=r"a prVt chunk of 17\.0 MB; .* at most 16 MB"):
                prepare(f)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 1 * MB, peak
    # The boundary, on a smaller limit: at the limit passes (text, after the pixels too), over it does not.
    monkeypatch.setattr(verify, "PNG_MAX_METADATA_CHUNK", 4096)
    iend = small.rindex(b"IEND") - 4
    at_limit = png_chunk(b"tEXt", b"Comment\x00" + b"x" * (4096 - 8))
    assert prepare(small[:iend] + at_limit + small[iend:]).width == 64
    over = png_chunk(b"tEXt", b"Comment\x00" + b"x" * (4097 - 8))
    with pytest.raises(ImageInvalid, match="a tEXt chunk of "):
        prepare(small[:iend] + over + small[iend:])


def test_a_png_written_as_one_idat_chunk_is_checked_without_reading_it_whole():
    # PNG optimisers write one IDAT chunk: Pillow's own verify() would read it whole, twice.
    raw = (bytes(range(256)) * 62000)[:2300 * 2300 * 3]
    noisy = encode(Image.frombytes("RGB", (2300, 2300), raw), "PNG", compress_level=0)  # stored, not deflated
    first, last = noisy.index(b"IDAT") - 4, noisy.rindex(b"IEND") - 4
    pixels, pos = [], first
    while pos < last:
        (length,) = struct.unpack(">I", noisy[pos:pos + 4])
        pixels.append(noisy[pos + 8:pos + 8 + length])
        pos += 12 + length
    data = noisy[:first] + png_chunk(b"IDAT", b"".join(pixels)) + noisy[last:]
    assert data.count(b"IDAT") == 1 and len(data) > 15 * MB
    tracemalloc.start()
    try:
        prepared = prepare(io.BytesIO(data))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * MB, peak  # the pixel hash's strips of rows; the chunk is 15 MB
    assert prepared.sha256 == hashlib.sha256(data).hexdigest()


def test_a_compressed_text_bomb_in_a_big_png_is_inflated_only_so_far():
    # 15 MB of file, so inflating "4 times the file" (the old bound) would be 60 MB.
    data = encode(picture(), "PNG")
    iend = data.rindex(b"IEND") - 4
    bomb = png_chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(bytes(64 * MB), 9))
    filler = png_chunk(b"fILl", bytes(64 * 1024)) * 240
    data = data[:iend] + bomb + filler + data[iend:]
    tracemalloc.start()
    try:
        with pytest.raises(ImageInvalid, match="damaged"):  # Pillow refuses such a text
            prepare(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < len(data) + 24 * MB, peak


def test_a_spliced_file_reads_and_seeks_like_the_bytes_it_stands_for():
    from images.media.files import spliced

    source = io.BytesIO(bytes(range(256)) * 40)
    plan = [b"head", (0, 100), (100, 300), b"", (5000, 5000), b"mid", (9000, 10240), (7, 8)]
    expected = b"head" + source.getvalue()[:300] + b"mid" + source.getvalue()[9000:] + source.getvalue()[7:8]
    view = spliced(source, plan)
    assert view.read() == expected and view.read() == b""
    for start, length in ((0, 10), (3, 2), (303, 5), (306, 1500), (len(expected) - 1, 9), (len(expected), 1)):
        view.seek(start)
        assert view.read(length) == expected[start:start + length]
    assert view.seek(-3, io.SEEK_END) == len(expected) - 3 and view.read() == expected[-3:]


@pytest.mark.parametrize("where", range(12))
def test_a_gps_name_that_straddles_two_reads_is_found(monkeypatch, where):
    from images.media import base, files

    monkeypatch.setattr(files, "CHUNK", 16)
    data = b"x" * (10 + where) + b" GPSLatitude" + b"x" * 20
    assert files.contains(io.BytesIO(data), base.XMP_GPS, overlap=4)
    assert not files.contains(io.BytesIO(data.replace(b"GPS", b"GQS")), base.XMP_GPS, overlap=4)


# ----------------------------------------------------------------------------- thumbnails


@pytest.mark.parametrize(("size", "expected"), [((1000, 500), (320, 160)), ((300, 900), (107, 320)), ((100, 50), (100, 50))])
def test_thumbnail_is_a_jpeg_within_the_box(size, expected):
    prepared = prepare(encode(picture(size), "PNG"))
    with Image.open(io.BytesIO(prepared.thumbnail)) as thumb:
        assert thumb.format == "JPEG" and thumb.mode == "RGB"
        assert thumb.size == expected


def test_thumbnail_applies_exif_orientation():
    # Stored landscape, to be shown rotated 90 degrees (orientation 6): the thumbnail is portrait.
    data = encode(picture((400, 200)), "JPEG", exif=exif_with(gps=False, orientation=6))
    prepared = prepare(data)
    assert (prepared.width, prepared.height) == (400, 200)  # the stored file's own size
    assert Image.open(io.BytesIO(prepared.thumbnail)).size == (160, 320)


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P"])
def test_transparency_is_flattened_onto_white(mode):
    im = Image.new("RGBA", (50, 50), (0, 0, 0, 0))
    im.paste((0, 0, 0, 255), (0, 0, 10, 10))
    if mode == "LA":
        im = im.convert("LA")
    elif mode == "P":
        im = im.convert("P", palette=Image.Palette.ADAPTIVE)
        im.info["transparency"] = im.getpixel((40, 40))
    prepared = prepare(encode(im, "PNG", **({"transparency": im.info["transparency"]} if mode == "P" else {})))
    with Image.open(io.BytesIO(prepared.thumbnail)) as thumb:
        assert min(thumb.getpixel((40, 40))) > 240  # transparent became white, not black
        assert max(thumb.getpixel((2, 2))) < 30


def test_sixteen_bit_greyscale_is_scaled_not_clipped():
    im = Image.new("I;16", (40, 40), 32768)  # mid grey in 16 bits
    prepared = prepare(encode(im, "PNG"))
    value = Image.open(io.BytesIO(prepared.thumbnail)).getpixel((20, 20))[0]
    assert 110 < value < 145


def test_cmyk_jpeg_gets_an_rgb_thumbnail():
    prepared = prepare(encode(Image.new("CMYK", (60, 40), (0, 255, 255, 0)), "JPEG"))
    r, g, b = Image.open(io.BytesIO(prepared.thumbnail)).getpixel((30, 20))
    assert r > 200 and g < 60 and b < 60


def test_a_twelve_megapixel_photo_is_prepared_quickly():
    photo = Image.effect_noise((4000, 3000), 40).convert("RGB")
    data = encode(photo, "JPEG", quality=90, exif=exif_with(gps=True))
    started = time.perf_counter()
    prepared = prepare(data)
    elapsed = time.perf_counter() - started
    print(f"\n12 MP JPEG ({len(data) / MB:.1f} MB) prepared in {elapsed * 1000:.0f} ms")
    assert (prepared.width, prepared.height) == (4000, 3000)
    assert max(Image.open(io.BytesIO(prepared.thumbnail)).size) == 320
    assert elapsed < 2.0


# ----------------------------------------------------------------------------- read_metadata


def test_metadata_from_exif():
    exif = exif_with(gps=True)
    meta = read_metadata(encode(picture(), "JPEG", exif=exif))
    assert meta == FileMetadata(
        title=None, description="A red square", author="Ann Artist", keywords=[], capture_date="2019-05-06"
    )


def test_metadata_from_windows_xp_tags():
    exif = Image.Exif()
    exif[0x9C9B] = "Sunset über Lyon".encode("utf-16-le") + b"\x00\x00"  # XPTitle
    exif[0x9C9E] = "beach; Sunset;sea".encode("utf-16-le")  # XPKeywords
    exif[0x9C9D] = "Zoë".encode("utf-16-le")  # XPAuthor
    exif[0x0132] = "2021:07:08 10:00:00"  # only DateTime: used when nothing better exists
    meta = read_metadata(encode(picture(), "JPEG", exif=exif))
    assert meta.title == "Sunset über Lyon"
    assert meta.keywords == ["beach", "Sunset", "sea"]
    assert meta.author == "Zoë"
    assert meta.capture_date == "2021-07-08"


def test_metadata_from_iptc():
    datasets = (
        iptc_dataset(5, "Harbour at dawn")
        + iptc_dataset(25, "boats")
        + iptc_dataset(25, "Harbour")
        + iptc_dataset(25, "BOATS")
        + iptc_dataset(80, "José Pérez", "latin-1")  # legacy Latin-1 text
        + iptc_dataset(120, "Fishing boats\x00 leaving  at dawn.")
        + iptc_dataset(55, "20180304")
    )
    meta = read_metadata(with_iptc(encode(picture(), "JPEG"), datasets))
    assert meta == FileMetadata(
        title="Harbour at dawn",
        description="Fishing boats leaving at dawn.",
        author="José Pérez",
        keywords=["boats", "Harbour"],
        capture_date="2018-03-04",
    )


def test_metadata_from_xmp():
    xmp = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" photoshop:DateCreated="2017-09-10T11:12:13">'
        '<dc:title><rdf:Alt><rdf:li xml:lang="fr">Le pont</rdf:li><rdf:li xml:lang="x-default">The bridge</rdf:li></rdf:Alt></dc:title>'
        '<dc:description><rdf:Alt><rdf:li xml:lang="x-default">A bridge at night</rdf:li></rdf:Alt></dc:description>'
        "<dc:creator><rdf:Seq><rdf:li>Mia Müller</rdf:li></rdf:Seq></dc:creator>"
        "<dc:subject><rdf:Bag><rdf:li>bridge</rdf:li><rdf:li>night</rdf:li><rdf:li>Night</rdf:li></rdf:Bag></dc:subject>"
        '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode()
    meta = read_metadata(with_xmp(encode(picture(), "JPEG"), xmp))
    assert meta == FileMetadata(
        title="The bridge",
        description="A bridge at night",
        author="Mia Müller",
        keywords=["bridge", "night"],
        capture_date="2017-09-10",
    )


def test_metadata_from_png_and_webp_xmp():
    xmp = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/">'
        "<dc:title><rdf:Alt><rdf:li>Screenshot</rdf:li></rdf:Alt></dc:title>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp)
    assert read_metadata(encode(picture(), "PNG", pnginfo=info)).title == "Screenshot"
    assert read_metadata(encode(picture(), "WEBP", xmp=xmp.encode())).title == "Screenshot"


def test_sources_are_merged_xmp_first_and_keywords_unioned():
    exif = exif_with(gps=False)
    exif[0x9C9E] = "exif-kw".encode("utf-16-le")
    data = encode(picture(), "JPEG", exif=exif)
    data = with_iptc(data, iptc_dataset(80, "IPTC Author") + iptc_dataset(25, "iptc-kw") + iptc_dataset(5, "IPTC title"))
    data = with_xmp(
        data,
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/">'
        b"<dc:subject><rdf:Bag><rdf:li>xmp-kw</rdf:li><rdf:li>IPTC-KW</rdf:li></rdf:Bag></dc:subject>"
        b"<dc:title><rdf:Alt><rdf:li>XMP title</rdf:li></rdf:Alt></dc:title>"
        b"</rdf:Description></rdf:RDF></x:xmpmeta>",
    )
    meta = read_metadata(data)
    assert meta.title == "XMP title"
    assert meta.author == "IPTC Author"  # IPTC before EXIF Artist
    assert meta.description == "A red square"
    assert meta.keywords == ["xmp-kw", "IPTC-KW", "exif-kw"]
    assert meta.capture_date == "2019-05-06"  # DateTimeOriginal beats the later DateTime


def test_metadata_is_cleaned_and_capped():
    exif = Image.Exif()
    exif[0x9C9B] = ("T" * 300).encode("utf-16-le")
    exif[0x9C9E] = ";".join([f"kw{i}" for i in range(30)] + ["k" * 80]).encode("utf-16-le")
    exif[0x013B] = "  Ann \t Artist \x00\x00 "
    exif[0x010E] = "OLYMPUS DIGITAL CAMERA"  # camera boilerplate is not a description
    exif.get_ifd(0x8769)[0x9003] = "0000:00:00 00:00:00"  # clock never set
    meta = read_metadata(encode(picture(), "JPEG", exif=exif))
    assert meta.title == "T" * 200
    assert meta.keywords == [f"kw{i}" for i in range(20)]
    assert meta.author == "Ann Artist"
    assert meta.description is None
    assert meta.capture_date is None


def test_long_keywords_are_cut():
    exif = Image.Exif()
    exif[0x9C9E] = ("k" * 80).encode("utf-16-le")
    assert read_metadata(encode(picture(), "JPEG", exif=exif)).keywords == ["k" * 50]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"not an image", id="text"),
        pytest.param(encode(picture(), "TIFF"), id="tiff"),
        pytest.param(png_claiming(100_000, 100_000), id="bomb"),
        pytest.param(encode(picture(), "PNG"), id="no-metadata"),
    ],
)
def test_undecodable_or_bare_input_gives_empty_metadata(data):
    assert read_metadata(data) == FileMetadata(None, None, None, [], None)


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_odd_metadata_never_raises():
    plain = encode(picture(), "JPEG")
    broken_exif = insert_jpeg_segment(plain, 0xE1, b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\xff\xff\x00")
    broken_xmp = with_xmp(plain, b"<x:xmpmeta><rdf:RDF><unclosed")
    entity_xmp = with_xmp(
        plain,
        b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        b'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>&a;</dc:title></rdf:Description></rdf:RDF></x:xmpmeta>',
    )
    broken_iptc = with_iptc(plain, b"\x1c\x02\x05\xff\xff")
    for data in (broken_exif, broken_xmp, entity_xmp, broken_iptc):
        assert read_metadata(data).title is None


def test_location_that_survives_stripping_fails_closed(monkeypatch):
    monkeypatch.setattr(media.verify, "strip_location", lambda data, fmt: data)
    with pytest.raises(ImageInvalid, match="location data could not be removed"):
        prepare(encode(picture(), "JPEG", exif=exif_with(gps=True)))


def test_a_big_picture_is_reduced_before_its_thumbnail_keeping_its_orientation():
    from images.media.verify import _thumbnail

    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to view
    buffer = io.BytesIO()
    Image.new("RGB", (3000, 1000), (10, 200, 30)).save(buffer, format="PNG", exif=exif)
    source = Image.open(io.BytesIO(buffer.getvalue()))
    source.load()
    thumbnail = Image.open(io.BytesIO(_thumbnail(source)))
    assert thumbnail.size == (107, 320)  # upright: portrait, as the camera meant
    assert thumbnail.getpixel((50, 160))[1] > 180  # the colour survives the reduction


@pytest.mark.parametrize("mode", ["RGB", "P", "RGBA", "I;16"])
def test_a_big_picture_is_converted_and_reduced_a_strip_at_a_time_as_if_whole(monkeypatch, mode):
    from images.media import verify

    monkeypatch.setattr(verify, "_STRIP_BYTES", 64 * 1024)  # many strips, the last one short
    channels = {"RGB": 3, "P": 1, "RGBA": 4, "I;16": 2}[mode]
    size = (2003, 1301)  # 3x reduction, neither side a multiple of 3
    source = Image.frombytes(mode, size, bytes((i * 7919) % 251 for i in range(size[0] * size[1] * channels)))
    if mode == "P":
        source.putpalette(bytes(range(256)) * 3)
        source.info["transparency"] = 5
    assert verify._reduced_rgb(source).tobytes() == verify.to_rgb(source).reduce(3).tobytes()
