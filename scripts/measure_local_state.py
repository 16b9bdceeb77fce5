#!/usr/bin/env python3
"""Time the local emulator's stop and start with a given amount of S3 object bytes stored.

Starts `python -m local.emulator --state DIR/emulator-state.pickle` from --root (this checkout
by default; give an unpacked older commit to compare), puts --gib of random objects of
--object-mib each into a bucket, waits for the emulator's saves to settle, then times:
stop (SIGTERM until the process has exited: its last save included), start (spawn until it
answers GET /_local/health: its restore included) and, for scale, the start of an emulator
with no state. Checks an object's bytes after the restart. Prints one JSON object.

    .venv/bin/python scripts/measure_local_state.py [--gib 1] [--object-mib 32] [--root DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from local.stack import free_port  # noqa: E402

BUCKET = "state-measure"
ENV = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": "us-east-1"}


def spawn(root: Path, state: Path | None, port: int) -> tuple[subprocess.Popen, float]:
    """The emulator, and the seconds until it answered its health check."""
    args = [sys.executable, "-m", "local.emulator", "--port", str(port)] + (["--state", str(state)] if state else [])
    started = time.perf_counter()
    process = subprocess.Popen(args, cwd=root, env={**os.environ, **ENV, "PYTHONPATH": str(root)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = started + 600
    while True:
        try:
            if requests.get(f"http://127.0.0.1:{port}/_local/health", timeout=1).ok:
                return process, time.perf_counter() - started
        except requests.RequestException:
            pass
        if process.poll() is not None or time.perf_counter() > deadline:
            raise RuntimeError(f"the emulator did not start (exit {process.poll()})")
        time.sleep(0.02)


def stop(process: subprocess.Popen) -> float:
    started = time.perf_counter()
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=900)
    return time.perf_counter() - started


def settle(folder: Path, quiet: float = 3.0) -> None:
    """Wait until nothing in `folder` has changed for `quiet` seconds (the saver is idle)."""
    def newest() -> float:
        return max((p.stat().st_mtime for p in folder.rglob("*") if p.is_file()), default=0.0)

    last, since = newest(), time.monotonic()
    while time.monotonic() - since < quiet:
        time.sleep(0.25)
        now = newest()
        if now != last:
            last, since = now, time.monotonic()


def size_of(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=1.0)
    parser.add_argument("--object-mib", type=int, default=32)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose local/ is run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="state-measure-") as tmp:
        folder = Path(tmp)
        state = folder / "emulator-state.pickle"
        empty, empty_start = spawn(args.root, None, free_port())
        stop(empty)

        port = free_port()
        process, _ = spawn(args.root, state, port)
        s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                          aws_access_key_id="local", aws_secret_access_key="local")
        s3.create_bucket(Bucket=BUCKET)
        count = round(args.gib * 1024 / args.object_mib)
        put_started = time.perf_counter()
        digests = {}
        for n in range(count):
            data = os.urandom(args.object_mib * 1024 * 1024)
            digests[f"o{n:04d}"] = hashlib.sha256(data).hexdigest()
            s3.put_object(Bucket=BUCKET, Key=f"o{n:04d}", Body=data)
        put_seconds = time.perf_counter() - put_started
        settle(folder)
        stop_seconds = stop(process)

        port = free_port()
        process, start_seconds = spawn(args.root, state, port)
        s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                          aws_access_key_id="local", aws_secret_access_key="local")
        last = f"o{count - 1:04d}"
        same = hashlib.sha256(s3.get_object(Bucket=BUCKET, Key=last)["Body"].read()).hexdigest() == digests[last]
        stop(process)
        print(json.dumps({
            "root": str(args.root), "objects": count, "object_mib": args.object_mib,
            "stored_bytes": count * args.object_mib * 1024 * 1024,
            "state_file_bytes": size_of(state), "state_folder_bytes": size_of(folder),
            "put_seconds": round(put_seconds, 1), "stop_seconds": round(stop_seconds, 2),
            "start_seconds": round(start_seconds, 2), "empty_start_seconds": round(empty_start, 2),
            "bytes_kept": same,
        }))


if __name__ == "__main__":
    main()
