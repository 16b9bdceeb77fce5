"""Peak memory of verifying one large image (issue 11): a generated noisy PNG of more than
100 MB (noise compresses little) is read and verified by images.media.prepare_image as the
API's create_image does with an upload (type from the bytes, byte and pixel limits, every
pixel decoded, location data stripped, thumbnail), in a fresh process; the peak resident
set size (ru_maxrss) is reported beside the process's size before it started.

    .venv/bin/python scripts/measure_verify_memory.py [--megabytes 110]
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def make_png(path: Path, megabytes: float) -> None:
    from PIL import Image

    side = int((megabytes * 1024 * 1024 / 3) ** 0.5)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buffer, format="PNG", compress_level=1)
    path.write_bytes(buffer.getvalue())


def measure(path: Path) -> None:
    """Run in the child: verify the file and print the figures."""
    from images import media

    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    data = path.read_bytes()
    prepared = media.prepare_image(data, max_bytes=200 * 1024 * 1024, max_pixels=50_000_000)
    took = time.monotonic() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"file: {len(data) / 1048576:.1f} MiB, {prepared.width} x {prepared.height} px "
          f"({prepared.width * prepared.height / 1e6:.1f} MP), verified in {took:.1f} s")
    print(f"peak RSS: {peak / 1024:.0f} MiB (process before verifying: {baseline / 1024:.0f} MiB; "
          f"added by verifying: {(peak - baseline) / 1024:.0f} MiB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=110)
    parser.add_argument("--make", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make:
        make_png(args.make, args.megabytes)
        return
    if args.child:
        measure(args.child)
        return
    # Each step in its own process: Linux carries ru_maxrss over fork and exec, so the
    # measuring process must not be forked from one that held the generated image.
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "noise.png"
        for step in ("--make", "--child"):
            subprocess.run([sys.executable, __file__, step, str(path), "--megabytes", str(args.megabytes)],
                           cwd=ROOT, check=True, env=env)


if __name__ == "__main__":
    main()
