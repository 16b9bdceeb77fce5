"""The runbook's restore to a minute, tried on the in-process AWS as far as moto allows: the
objects with scripts/restore_objects.py on a versioned bucket, the tables with
RestoreTableToPointInTime (moto copies the table as it is now: it keeps no history, so only
the call and the restored table's keys are checked, not the moment)."""

from __future__ import annotations

import importlib.util
import time
from datetime import datetime, timezone

import boto3

from images import catalog
from tests.helpers import make_image
from tests.infra.hcl import ROOT

spec = importlib.util.spec_from_file_location("restore_objects", ROOT / "scripts" / "restore_objects.py")
restore_objects = importlib.util.module_from_spec(spec)
spec.loader.exec_module(restore_objects)

ALICE = catalog.Actor(sub="sub-alice", username="alice")


def test_objects_go_back_to_their_version_at_a_moment(aws):
    s3 = boto3.client("s3", region_name=aws.aws_region)
    bucket = aws.images_bucket
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="images/a", Body=b"a1")
    s3.put_object(Bucket=bucket, Key="images/gone", Body=b"g1")
    s3.put_object(Bucket=bucket, Key="trash/t1/images/b", Body=b"b1")  # a trashed image's copy
    time.sleep(1.1)  # moto's LastModified has whole seconds
    at = datetime.now(timezone.utc)
    time.sleep(1.1)
    s3.put_object(Bucket=bucket, Key="images/a", Body=b"a2")  # overwritten after the moment
    s3.delete_object(Bucket=bucket, Key="images/gone")  # deleted after it
    s3.put_object(Bucket=bucket, Key="thumbnails/new", Body=b"n")  # made after it
    s3.put_object(Bucket=bucket, Key="uploads/x", Body=b"x")  # not a restored prefix
    s3.delete_object(Bucket=bucket, Key="trash/t1/images/b")  # purged after the moment

    steps = restore_objects.plan(s3, bucket, at)
    assert {(key, action) for key, action, _ in steps} == {
        ("images/a", "copy"), ("images/gone", "copy"), ("thumbnails/new", "delete"), ("trash/t1/images/b", "copy")}
    restore_objects.apply(s3, bucket, steps)
    assert s3.get_object(Bucket=bucket, Key="images/a")["Body"].read() == b"a1"
    assert s3.get_object(Bucket=bucket, Key="images/gone")["Body"].read() == b"g1"
    listed = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert listed == {"images/a", "images/gone", "uploads/x", "trash/t1/images/b"}
    assert restore_objects.plan(s3, bucket, at) == []  # done: nothing differs any more
    # The history is kept: the overwritten version is still there.
    versions = s3.list_object_versions(Bucket=bucket, Prefix="images/a")["Versions"]
    assert len(versions) == 3


def test_a_table_restores_under_a_new_name_with_its_keys(aws):
    catalog.image_create(owner=ALICE, meta=catalog.validate_meta(title="Pier", description="", keywords="",
                                                                 author="Ana", capture_date=None),
                         data=make_image(), original_filename="p.png")
    dynamodb = boto3.client("dynamodb", region_name=aws.aws_region)
    # The three tables of the catalog, as docs/deploy.md restores them: the history too (its
    # entries are keyed by image id and version, so it must be of the same minute).
    for table in (aws.images_table, aws.image_terms_table, aws.history_table):
        dynamodb.update_continuous_backups(TableName=table, PointInTimeRecoverySpecification={
            "PointInTimeRecoveryEnabled": True})
        restored = f"{table}-restored"
        dynamodb.restore_table_to_point_in_time(SourceTableName=table, TargetTableName=restored,
                                                RestoreDateTime=datetime.now(timezone.utc))
        source, copy = (dynamodb.describe_table(TableName=t)["Table"] for t in (table, restored))
        assert copy["KeySchema"] == source["KeySchema"]
        assert dynamodb.scan(TableName=restored)["Count"] == dynamodb.scan(TableName=table)["Count"] > 0
