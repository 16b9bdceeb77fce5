"""Original file names: cleaned once, turned into download names and zip entries."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from images.filenames import (
    MAX_BYTES,
    MAX_CHARS,
    clean_filename,
    content_disposition,
    download_name,
    unique_names,
)


@pytest.mark.parametrize(("sent", "kept"), [
    ("my.holiday.photo.jpg", "my.holiday.photo.jpg"),
    ("C:\\Users\\ann\\Pictures\\beach.png", "beach.png"),
    ("../../etc/passwd", "passwd"),
    ("/photos/a/b/c.gif", "c.gif"),
    ("évian\u202egnp.exe", "éviangnp.exe"),  # right-to-left override gone: no "exe.png" disguise
    ("a\u2066b\u2069c\u200b.jpg", "abc.jpg"),  # isolates and zero-width space
    ("tab\tand\nnewline\x00nul.jpg", "tab and newlinenul.jpg"),
    ("  ..hidden.jpg  ", "hidden.jpg"),
    ('what?"<x>|y*:z.png', "what___x__y__z.png"),
    ("CON.jpg", "_CON.jpg"),
    ("e\u0301te\u0301.webp", "été.webp"),  # NFC: one code point per letter
    ("Straße café 写真.jpg", "Straße café 写真.jpg"),
])
def test_names_are_cleaned(sent, kept):
    assert clean_filename(sent) == kept


@pytest.mark.parametrize("sent", ["", "   ", "..", "/", "\u202e\u200b", None, 42, "a/b/"])
def test_nothing_left_gives_the_fallback(sent):
    assert clean_filename(sent, fallback="0f.png") == "0f.png"


def test_long_names_are_capped_keeping_the_extension():
    cleaned = clean_filename("x" * 1000 + ".jpeg")
    assert cleaned.endswith("x.jpeg") and len(cleaned) == MAX_CHARS
    wide = clean_filename("写" * 200 + ".png")  # 3 bytes each in UTF-8
    assert wide.endswith(".png") and len(wide.encode()) <= MAX_BYTES


def test_download_name_keeps_a_matching_extension_and_adds_the_real_one():
    assert download_name("beach.JPEG", extension="jpg", fallback="id.jpg") == "beach.JPEG"
    assert download_name("beach.jpg", extension="png", fallback="id.png") == "beach.jpg.png"
    assert download_name("scan", extension="gif", fallback="id.gif") == "scan.gif"
    assert download_name("", extension="gif", fallback="id.gif") == "id.gif"


def test_unique_names_number_repeats_case_insensitively():
    assert unique_names(["a.jpg", "A.jpg", "a.jpg", "b", "b"]) == ["a.jpg", "A (2).jpg", "a (3).jpg", "b", "b (2)"]


def test_content_disposition_follows_rfc_6266():
    assert content_disposition("beach.jpg") == 'attachment; filename="beach.jpg"'
    value = content_disposition("Straße café 写真.jpg")
    plain, star = value.split("; filename*=")
    assert plain == 'attachment; filename="Stra_e cafe __.jpg"'  # an ASCII stand-in for old clients
    assert star.startswith("UTF-8''") and unquote(star[7:]) == "Straße café 写真.jpg"
    # Quotes and semicolons cannot end the quoted name early; the exact name travels in filename*.
    assert content_disposition('a"b;c.jpg') == "attachment; filename=\"a_b_c.jpg\"; filename*=UTF-8''a%22b%3Bc.jpg"
