"""Untrusted XMP through defusedxml: an entity-expansion bomb ("billion laughs"), a quadratic
blow-up and external entities in a file's XMP packet are refused (the packet is ignored) in
bounded time and memory, and no file or URL they name is ever read."""

from __future__ import annotations

import time
import tracemalloc

import pytest
from PIL import PngImagePlugin

from images.media import read_metadata
from images.media.metadata import parse_xmp
from tests.images.test_media import encode, picture, with_xmp

RDF = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
    "<dc:title><rdf:Alt><rdf:li>{title}</rdf:li></rdf:Alt></dc:title>"
    "<dc:creator><rdf:Seq><rdf:li>Ann</rdf:li></rdf:Seq></dc:creator>"
    "</rdf:Description></rdf:RDF></x:xmpmeta>"
)
PACKET = '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>{dtd}' + RDF + '<?xpacket end="w"?>'
LAUGHS = "<!DOCTYPE x:xmpmeta [<!ENTITY lol \"lol\">" + "".join(
    f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10)
) + "]>"
QUADRATIC = '<!DOCTYPE x:xmpmeta [<!ENTITY a "' + "a" * 50_000 + '">]>'
EXTERNAL = '<!DOCTYPE x:xmpmeta [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>'
EXTERNAL_URL = '<!DOCTYPE x:xmpmeta [<!ENTITY xxe SYSTEM "http://127.0.0.1:9/xmp">]>'
PARAMETER = '<!DOCTYPE x:xmpmeta [<!ENTITY % p SYSTEM "file:///etc/hostname"> %p;]>'

HOSTILE = {
    "billion laughs": PACKET.format(dtd=LAUGHS, title="&lol9;"),
    "quadratic blow-up": PACKET.format(dtd=QUADRATIC, title="&a;" * 2000),
    "external entity (file)": PACKET.format(dtd=EXTERNAL, title="&xxe;"),
    "external entity (url)": PACKET.format(dtd=EXTERNAL_URL, title="&xxe;"),
    "parameter entity": PACKET.format(dtd=PARAMETER, title="x"),
    "dtd, no entity used": PACKET.format(dtd="<!DOCTYPE x:xmpmeta>", title="x"),
}


def _bounded(call):
    """call() within 2 s and 8 MB of Python allocations."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result = call()
    finally:
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert elapsed < 2 and peak < 8 * 1024 * 1024, (elapsed, peak)
    return result


def test_a_harmless_packet_is_read():
    assert parse_xmp(PACKET.format(dtd="", title="Bridge").encode()) == {"title": "Bridge", "creator": "Ann"}


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_packet_is_refused_in_bounded_time_and_memory(name, monkeypatch):
    opened = []
    monkeypatch.setattr("urllib.request.urlopen", lambda *a, **k: opened.append(a))
    assert _bounded(lambda: parse_xmp(HOSTILE[name].encode())) == {}
    assert opened == []


@pytest.mark.parametrize("name", HOSTILE)
def test_a_jpeg_carrying_one_gives_no_xmp_metadata(name):
    data = with_xmp(encode(picture(), "JPEG"), HOSTILE[name].encode())
    meta = _bounded(lambda: read_metadata(data))
    assert meta.title is None and meta.author is None


def test_a_png_carrying_one_gives_no_xmp_metadata():
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", HOSTILE["billion laughs"], zip=True)
    data = encode(picture(), "PNG", pnginfo=info)
    assert _bounded(lambda: read_metadata(data)).title is None
