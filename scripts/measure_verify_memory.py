"""Peak memory and time of registering one large upload (issue 11), the real path: a generated
noisy PNG of more than 100 MB (noise compresses little) is put under uploads/ in the local
emulator's S3 (its own process on loopback), then a fresh process registers it as the API's
create_image and the portal do (catalog.image_create_from_upload: the object streamed from S3
into a temporary file, verified from it, the clean file and thumbnail put to S3, the record
written) and reports its peak resident set size (ru_maxrss) beside its size before, with the
time of each step and a check that the stored object is the file, byte for byte.

    .venv/bin/python scripts/measure_verify_memory.py [--megabytes 110] [--mode RGB|RGBA]

`--megabytes 190 --mode RGBA` makes a file of about 200 MB at the 50-megapixel limit.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from local.stack import LOCAL_AWS_ENV, free_port, wait_for_http  # noqa: E402

OWNER_SUB = "sub-measure"


def make_png(path: Path, megabytes: float, mode: str) -> None:
    from PIL import Image

    channels = len(mode)
    side = int((megabytes * 1024 * 1024 / channels) ** 0.5)
    noise = Image.frombytes(mode, (side, side), os.urandom(side * side * channels))
    noise.save(path, format="PNG", compress_level=1)


def put_upload(path: Path) -> str:
    """Put the file where a presigned upload would have put it; return its key."""
    from common.config import get_config
    from images import objects
    from images.catalog import upload_owner_tag

    key = objects.upload_key(upload_owner_tag(OWNER_SUB), uuid.uuid4().hex)
    with path.open("rb") as f:
        objects.s3().put_object(Bucket=get_config().images_bucket, Key=key, Body=f)
    return key


def file_sha256(chunks) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def measure(path: Path, key: str) -> None:
    """Run in a fresh process: register the upload and print the figures."""
    from common.config import get_config
    from images import catalog, objects
    from images.catalog import services
    from images.records import ImageRecord

    objects.s3()  # the clients exist before the baseline, as in a warm function or worker
    ImageRecord.describe_table()
    took: dict[str, float] = {}

    def timed(module, name: str, step: str) -> None:
        real = getattr(module, name)

        def call(*args, **kwargs):
            started = time.monotonic()
            try:
                return real(*args, **kwargs)
            finally:
                took[step] = took.get(step, 0.0) + time.monotonic() - started

        setattr(module, name, call)

    # spool_object streams the upload to a file; before it, get_object read it into memory.
    timed(objects, "spool_object" if hasattr(objects, "spool_object") else "get_object", "read from S3")
    timed(services, "prepare", "verified")
    timed(objects, "put_object", "stored in S3")

    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    record = catalog.image_create_from_upload(
        owner=catalog.Actor(sub=OWNER_SUB, username="measure"),
        meta=catalog.validate_meta(title="Noise", description="", keywords="", author="measure_verify_memory",
                                   capture_date=""),
        upload_key=key)
    total = time.monotonic() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    with path.open("rb") as f:
        original = file_sha256(iter(lambda: f.read(1 << 20), b""))
    body = objects.s3().get_object(Bucket=get_config().images_bucket, Key=record.object_key)["Body"]
    stored = file_sha256(body.iter_chunks(1 << 20))
    steps = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in took.items())
    print(f"file: {path.stat().st_size / 1048576:.1f} MiB, {record.width} x {record.height} px "
          f"({record.width * record.height / 1e6:.1f} MP)")
    print(f"registered in {total:.1f} s ({steps}); stored byte for byte: {'yes' if stored == original else 'NO'}")
    print(f"peak RSS: {peak / 1024:.0f} MiB (process before registering: {baseline / 1024:.0f} MiB; "
          f"added by registering: {(peak - baseline) / 1024:.0f} MiB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=110)
    parser.add_argument("--mode", choices=("RGB", "RGBA"), default="RGB")
    parser.add_argument("--make", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--key", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make:
        make_png(args.make, args.megabytes, args.mode)
        print(put_upload(args.make))
        return
    if args.child:
        measure(args.child, args.key)
        return
    # Each step in its own process: Linux carries ru_maxrss over fork and exec, so the
    # measuring process must not be forked from one that held the generated image. The
    # emulator keeps no state file (saving would pickle every object).
    port = free_port()
    env = {**os.environ, **LOCAL_AWS_ENV, "PYTHONPATH": str(ROOT), "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}
    emulator = subprocess.Popen([sys.executable, "-m", "local.emulator", "--port", str(port)], cwd=ROOT, env=env)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/_local/health", process=emulator)
        made = subprocess.run([sys.executable, "-m", "local.bootstrap"], cwd=ROOT, env=env, check=True,
                              capture_output=True, text=True)
        env.update(line.split("=", 1) for line in made.stdout.splitlines() if "=" in line)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "noise.png"
            key = subprocess.run([sys.executable, __file__, "--make", str(path), "--megabytes", str(args.megabytes),
                                  "--mode", args.mode], cwd=ROOT, env=env, check=True, capture_output=True,
                                 text=True).stdout.strip()
            subprocess.run([sys.executable, __file__, "--child", str(path), "--key", key],
                           cwd=ROOT, env=env, check=True)
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)


if __name__ == "__main__":
    main()
