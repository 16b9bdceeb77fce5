"""Crafted container structures are refused before Pillow reads them, quickly and with a 400
saying why; real pictures (progressive JPEG, APNG, animated GIF and WebP, metadata) still pass.
And a Hypothesis fuzzer over the verifier: mutated files of every format end in the picture or
the domain's refusal, never another exception, each within the budget. About 15 s in all
(VERIFY_FUZZ_EXAMPLES, default 10,000, sets the fuzzer's share; `make soak-verify` runs longer)."""

from __future__ import annotations

import io
import os
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from PIL import Image

from images.media import prepare_image
from images.media.base import ImageInvalid, ImageTooLarge
from images.media.structure import MAX_METADATA_BYTES
from scripts import crafted_images

MIB = 1 << 20
LIMITS = dict(max_bytes=200 * MIB, max_pixels=50_000_000)
# Seconds a crafted file of a few MB may take to be refused; the probe's took 8.7 s and 58 s.
QUICK = 1.0

REFUSED = ["png_private_chunks", "png_empty_idats", "png_text_metadata", "jpeg_com_segments",
           "jpeg_app_metadata", "jpeg_many_scans", "gif_one_byte_subblocks", "gif_comment_blocks",
           "webp_unknown_chunks", "webp_metadata"]


@pytest.mark.parametrize("name", REFUSED)
def test_crafted_structure_is_refused_quickly_saying_why(name):
    size = 17 * MIB if name.endswith("metadata") else 3 * MIB
    data = b"".join(crafted_images.CASES[name](size))
    started = time.perf_counter()
    with pytest.raises(ImageInvalid, match="no real picture|metadata"):
        prepare_image(data, **LIMITS)
    assert time.perf_counter() - started < QUICK


def _encode(im, fmt, **kw) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **kw)
    return out.getvalue()


def _frames(mode="P", n=30):
    return [Image.new(mode, (40, 30), (i * 8) % 256 if mode == "P" else (i * 8 % 256, 0, 0)) for i in range(n)]


def _seeds() -> dict[str, bytes]:
    rgb = Image.frombytes("RGB", (64, 48), bytes(range(256)) * 36)
    frames = _frames()
    rgb_frames = _frames("RGB")
    return {
        "png": _encode(rgb, "PNG"),
        "png-text": _encode(rgb, "PNG", pnginfo=_pnginfo()),
        "apng": _encode(frames[0], "PNG", save_all=True, append_images=frames[1:]),
        "jpeg": _encode(rgb, "JPEG", quality=90),
        "jpeg-progressive": _encode(rgb, "JPEG", progressive=True, comment=b"hello"),
        "gif": _encode(frames[0], "GIF", save_all=True, append_images=frames[1:], comment=b"x" * 300),
        "webp": _encode(rgb, "WEBP"),
        "webp-animated": _encode(rgb_frames[0], "WEBP", save_all=True, append_images=rgb_frames[1:]),
    }


def _pnginfo():
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    for i in range(40):
        info.add_text(f"k{i}", "v" * 1000, zip=bool(i % 2))
    return info


SEEDS = _seeds()


@pytest.mark.parametrize("name", SEEDS)
def test_real_pictures_with_frames_scans_and_metadata_pass(name):
    assert prepare_image(SEEDS[name], **LIMITS).width > 0


def test_metadata_at_the_limit_passes_and_over_it_is_refused():
    jpg = SEEDS["jpeg"]
    segment = b"\xff\xed\xff\xff" + b"m" * 0xFFFD
    fits = MAX_METADATA_BYTES // 0xFFFF - 1
    assert prepare_image(jpg[:2] + segment * fits + jpg[2:], **LIMITS)
    with pytest.raises(ImageInvalid, match="metadata"):
        prepare_image(jpg[:2] + segment * (fits + 2) + jpg[2:], **LIMITS)


# Seconds any fuzzed file (a few KB) may take; real ones take milliseconds.
FUZZ_BUDGET = 2.0


@st.composite
def mutated(draw):
    """A seed file with a few mutations: bytes overwritten, inserted, a slice repeated, cut."""
    data = bytearray(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["set", "insert", "repeat", "cut"]))
        if kind == "set":
            blob = draw(st.binary(min_size=1, max_size=8))
            data[pos:pos + len(blob)] = blob
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=32))
        elif kind == "repeat":
            width = draw(st.integers(1, 64))
            data[pos:pos] = bytes(data[pos:pos + width]) * draw(st.integers(2, 2000))
        else:
            del data[pos:]
    return bytes(data)


@settings(max_examples=int(os.environ.get("VERIFY_FUZZ_EXAMPLES", "10000")), deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(mutated())
def test_fuzzed_files_end_in_a_picture_or_the_domains_refusal_within_budget(data):
    started = time.perf_counter()
    try:
        prepare_image(data, **LIMITS)
    except (ImageInvalid, ImageTooLarge):
        pass
    assert time.perf_counter() - started < FUZZ_BUDGET


def test_bytes_after_a_webp_riff_are_not_walked_as_chunks():
    # 32 MiB of zeros after the RIFF were four million 8-byte "chunks" to the location stripping.
    data = SEEDS["webp"] + bytes(32 * MIB)
    started = time.perf_counter()
    assert prepare_image(data, **LIMITS).width == 64
    assert time.perf_counter() - started < QUICK
