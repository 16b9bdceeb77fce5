#!/usr/bin/env python3
"""Measure renditions (issue 25): bytes of 1280-wide AVIF/WebP/JPEG against the originals for
generated photograph-like pictures; render time and peak memory from a 50-megapixel original
(cold: a fresh process; warm: the next render in it); the local hit path's latency.

    .venv/bin/python scripts/measure_renditions.py [--skip-50mp] [--skip-hit]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from images.media.renditions import render  # noqa: E402

MAX_PIXELS = 50_000_000


def photo(size: tuple[int, int], seed: int) -> Image.Image:
    """Something with a photograph's statistics: smooth sky-to-ground gradients, blurred shapes
    at several scales, fine texture and sensor noise (flat colours would flatter every codec)."""
    rng = random.Random(seed)
    w, h = size
    small = (w // 8, h // 8)
    sky = Image.linear_gradient("L").resize(small)
    base = Image.merge("RGB", [sky.point(lambda v, k=k: int(v * k + rng.randint(0, 60))) for k in (0.5, 0.7, 0.9)])
    draw = ImageDraw.Draw(base)
    for _ in range(120):
        x, y, r = rng.randrange(small[0]), rng.randrange(small[1]), rng.randint(2, small[0] // 6)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rng.randrange(256) for _ in range(3)))
    base = base.filter(ImageFilter.GaussianBlur(3)).resize(size, Image.Resampling.BICUBIC)
    # Detail at the scale of foliage and brickwork (survives a downscale to 1280) and grain.
    detail = Image.effect_noise((w // 3, h // 3), 40).convert("RGB").resize(size, Image.Resampling.BICUBIC)
    grain = Image.effect_noise(size, 18).convert("RGB")
    return Image.blend(Image.blend(base, detail, 0.18), grain, 0.08)


def encode(im: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **options)
    return out.getvalue()


def sizes() -> list[dict]:
    rows = []
    for seed, (size, fmt) in enumerate([((4000, 3000), "JPEG"), ((6000, 4000), "JPEG"), ((3000, 2000), "JPEG"),
                                        ((2400, 1600), "PNG")]):
        original = encode(photo(size, seed), fmt, **({"quality": 90} if fmt == "JPEG" else {}))
        row = {"original": f"{size[0]}x{size[1]} {fmt}", "original_bytes": len(original)}
        for out in ("avif", "webp", "jpg" if fmt == "JPEG" else "png"):
            row[f"{out}_1280_bytes"] = len(render(io.BytesIO(original), 1280, out, max_pixels=MAX_PIXELS))
        rows.append(row)
    return rows


# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork and exec.
CHILD = """
import io, json, re, sys, time
def hwm():
    return int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read())[1])
from images.media.renditions import render
data = open(sys.argv[1], 'rb')
base = hwm()
out = {}
for run in ('cold', 'warm'):
    start = time.perf_counter()
    render(data, int(sys.argv[2]), sys.argv[3], max_pixels=50_000_000)
    out[run + '_s'] = round(time.perf_counter() - start, 2)
    data.seek(0)
out['peak_rss_mib'] = round(hwm() / 1024)
out['rss_before_render_mib'] = round(base / 1024)
print(json.dumps(out))
"""


def list_page(images: int = 50) -> dict:
    """The list page's picture bytes for `images` rows (4000x3000 photographs, each its own):
    before, every row loads the 320-px JPEG thumbnail; after, Chromium picks from the srcset
    with sizes="96px": 160 AVIF at 1x, 320 AVIF at 2x (tests/e2e/test_renditions_browser.py)."""
    from images import media

    totals = {"before_thumbnail_jpeg": 0, "after_1x_avif_160": 0, "after_2x_avif_320": 0}
    for seed in range(images):
        original = encode(photo((4000, 3000), 100 + seed), "JPEG", quality=90)
        prepared = media.prepare_image(original, max_bytes=200 << 20, max_pixels=MAX_PIXELS)
        totals["before_thumbnail_jpeg"] += len(prepared.thumbnail)
        totals["after_1x_avif_160"] += len(render(io.BytesIO(original), 160, "avif", max_pixels=MAX_PIXELS))
        totals["after_2x_avif_320"] += len(render(io.BytesIO(original), 320, "avif", max_pixels=MAX_PIXELS))
    return {"images": images, **totals}


def fifty_megapixels() -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for fmt, suffix in (("JPEG", "jpg"), ("PNG", "png")):
            path = Path(tmp) / f"50mp.{suffix}"
            im = photo((8660, 5773), 7)  # 49.99 MP
            im.save(path, fmt, **({"quality": 90} if fmt == "JPEG" else {"compress_level": 1}))
            del im
            for width, out in ((1280, "avif"), (1280, "webp"), (320, "webp")):
                child = subprocess.run([sys.executable, "-c", CHILD, str(path), str(width), out], cwd=ROOT,
                                       capture_output=True, text=True, check=True)
                result = json.loads(child.stdout)
                rows.append({"original": f"8660x5773 {fmt} ({path.stat().st_size / 1e6:.0f} MB)",
                             "rendition": f"{width}.{out}", **result})
    return rows


def hit_latency(requests_count: int = 200) -> dict:
    import boto3
    import requests

    from local.bootstrap import bucket_policy

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    emulator = subprocess.Popen([sys.executable, "-m", "local.emulator", "--port", str(port)], cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                requests.get(f"{url}/_local/health", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                          aws_access_key_id="local", aws_secret_access_key="local")
        s3.create_bucket(Bucket="measure")
        s3.put_bucket_policy(Bucket="measure", Policy=json.dumps(bucket_policy("measure")))
        s3.put_object(Bucket="measure", Key="images/m/t.jpg", Body=encode(photo((4000, 3000), 1), "JPEG", quality=90))
        target = f"{url}/measure/renditions/m/t.jpg/640.webp"
        start = time.perf_counter()
        first = requests.get(target, timeout=60)
        miss = time.perf_counter() - start
        assert first.status_code == 200, first.text
        times = []
        with requests.Session() as session:
            for _ in range(requests_count):
                start = time.perf_counter()
                assert session.get(target, timeout=30).status_code == 200
                times.append((time.perf_counter() - start) * 1000)
        times.sort()
        return {"miss_render_ms": round(miss * 1000), "hit_median_ms": round(statistics.median(times), 1),
                "hit_p95_ms": round(times[int(len(times) * 0.95)], 1), "requests": requests_count}
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-50mp", action="store_true")
    parser.add_argument("--skip-hit", action="store_true")
    parser.add_argument("--skip-list", action="store_true")
    args = parser.parse_args()
    print(json.dumps({"sizes": sizes()}, indent=1))
    if not args.skip_list:
        print(json.dumps({"list_page": list_page()}, indent=1))
    if not args.skip_50mp:
        print(json.dumps({"fifty_megapixels": fifty_megapixels()}, indent=1))
    if not args.skip_hit:
        print(json.dumps({"local_hit": hit_latency()}, indent=1))


if __name__ == "__main__":
    main()
