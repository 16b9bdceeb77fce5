"""Put the objects under some prefixes of a versioned bucket back as they were at a moment:
each key gets the version that was current then (copied on top, so history is kept), and a
key made later, or deleted by then, gets a delete marker. Prints the plan; --apply does it.
docs/deploy.md ("Restoring the catalog to a minute") restores the tables to the same moment.

  python scripts/restore_objects.py --bucket BUCKET --at 2026-11-29T14:05:00Z [--apply]
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from datetime import datetime, timezone

import boto3

# Everything a record may point at: public files and thumbnails, and the trash's copies (a
# trashed record restored to $WHEN points at trash/ keys). Renditions are made again on demand.
PREFIXES = ("images/", "thumbnails/", "trash/")


def _versions(s3, bucket: str, prefix: str) -> dict[str, list[dict]]:
    """Every version and delete marker of every key under prefix, newest first."""
    found: dict[str, list[dict]] = {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        for kind in ("Versions", "DeleteMarkers"):
            for item in page.get(kind, []):
                found.setdefault(item["Key"], []).append({**item, "deleted": kind == "DeleteMarkers"})
    for versions in found.values():
        versions.sort(key=lambda v: v["LastModified"], reverse=True)
    return found


def plan(s3, bucket: str, at: datetime, prefixes: Iterable[str] = PREFIXES) -> list[tuple[str, str, str | None]]:
    """(key, "copy" | "delete", version id) for every key that differs from its state at `at`."""
    steps = []
    for prefix in prefixes:
        for key, versions in sorted(_versions(s3, bucket, prefix).items()):
            latest = next(v for v in versions if v["IsLatest"])
            then = next((v for v in versions if v["LastModified"] <= at), None)
            if then is None or then["deleted"]:
                if not latest["deleted"]:
                    steps.append((key, "delete", None))
            elif latest["deleted"] or then["ETag"] != latest["ETag"]:  # same bytes: nothing to do
                steps.append((key, "copy", then["VersionId"]))
    return steps


def apply(s3, bucket: str, steps: list[tuple[str, str, str | None]]) -> None:
    for key, action, version in steps:
        if action == "copy":
            s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key, "VersionId": version})
        else:
            s3.delete_object(Bucket=bucket, Key=key)  # a delete marker: the history stays


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--at", required=True, help="ISO time, e.g. 2026-11-29T14:05:00Z")
    parser.add_argument("--prefix", action="append", help=f"default: {' '.join(PREFIXES)}")
    parser.add_argument("--apply", action="store_true", help="do it (without: print the plan only)")
    args = parser.parse_args(argv)
    at = datetime.fromisoformat(args.at.replace("Z", "+00:00"))
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    s3 = boto3.client("s3")
    steps = plan(s3, args.bucket, at, args.prefix or PREFIXES)
    for key, action, version in steps:
        print(f"{action:6} {key}" + (f" (version {version})" if version else ""))
    print(f"{len(steps)} objects differ from {at.isoformat()}" + ("; restoring" if args.apply else "; --apply restores"))
    if args.apply:
        apply(s3, args.bucket, steps)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
